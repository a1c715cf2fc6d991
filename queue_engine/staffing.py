"""Staffing: the fewest agents per skill and hour meeting a target, then checked by simulation.

Why two stages: Erlang A per hour is fast and monotone in the number of agents, so
bisection finds the stationary answer in a few evaluations; but hours are not
stationary (queues carry over, callers retry), so the roster is simulated and any
hour that misses its target gets one more agent, a few rounds at most.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from dataclasses import dataclass, replace

import numpy as np

from queue_engine.erlang import QueueMetrics, metrics
from queue_engine.model import Model

__all__ = [
    "StaffPlan",
    "Target",
    "agents_needed",
    "dedicated_model",
    "erlang_roster",
    "meets",
    "parse_target",
    "plan_staff",
]


@dataclass(frozen=True)
class Target:
    """At least ``sl`` answered within ``threshold`` s; optionally ASA and abandonment caps."""

    sl: float | None = 0.8
    threshold: float = 20.0
    asa_max: float | None = None
    abandon_max: float | None = None

    def __str__(self) -> str:
        parts = []
        if self.sl is not None:
            parts.append(f"{self.sl:.0%} within {self.threshold:g}s")
        if self.asa_max is not None:
            parts.append(f"ASA ≤ {self.asa_max:g}s")
        if self.abandon_max is not None:
            parts.append(f"abandon ≤ {self.abandon_max:.1%}")
        return ", ".join(parts)


def parse_target(text: str) -> Target:
    """``80/20`` (SL/threshold), ``asa=30`` , ``asa=30,ab=5`` (percent), ``80/20,ab=3``."""
    sl, thr, asa, ab = None, 20.0, None, None
    for part in text.replace(" ", "").split(","):
        if m := re.fullmatch(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)", part):
            sl, thr = float(m[1]) / 100, float(m[2])
        elif m := re.fullmatch(r"asa[=<]+(\d+(?:\.\d+)?)", part):
            asa = float(m[1])
        elif m := re.fullmatch(r"ab[=<]+(\d+(?:\.\d+)?)%?", part):
            ab = float(m[1]) / 100
        else:
            raise ValueError(f"target part {part!r}: expected 80/20, asa=N or ab=N%")
    if sl is not None and not 0 < sl < 1:
        raise ValueError("service level must be between 0 and 100 %")
    if sl is None and asa is None and ab is None:
        raise ValueError("empty target")
    return Target(sl, thr, asa, ab)


def meets(m: QueueMetrics, target: Target) -> bool:
    if target.sl is not None and m.service_level < target.sl:
        return False
    if target.asa_max is not None and m.asa > target.asa_max:
        return False
    return not (target.abandon_max is not None and m.p_abandon > target.abandon_max)


def agents_needed(lam: float, aht: float, patience: float, target: Target,
                  at_least: int = 0) -> int:
    """Fewest agents meeting ``target`` for arrival rate ``lam``/s (Erlang A; C if no patience).

    ``at_least``: a count known not to exceed the answer (the answer for a lower rate) —
    the search then starts there and gallops up: two or three Erlang evaluations instead
    of a dozen for a bisection from scratch, the same answer (both rest on the figures
    improving with every agent added)."""
    if lam <= 0:
        return 0
    mu = 1.0 / aht
    theta = 1.0 / patience if math.isfinite(patience) else 0.0
    a = lam / mu

    def ok(n: int) -> bool:
        if theta == 0 and n <= a:
            return False
        return meets(metrics(n, lam, mu, theta, target.threshold), target)

    if at_least >= 1:
        if ok(at_least):
            return at_least
        lo, step = at_least, 1
        while not ok(lo + step):
            lo, step = lo + step, step * 2
            if lo > 100_000:
                raise ValueError(f"no staffing up to 100000 agents meets {target}")
        hi = lo + step
    else:
        lo, hi = 0, max(1, int(a + 3 * math.sqrt(a) + 3))
        while not ok(hi):
            lo, hi = hi, hi * 2
            if hi > 100_000:
                raise ValueError(f"no staffing up to 100000 agents meets {target}")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def erlang_roster(model: Model, target: Target) -> np.ndarray:
    """[G, H] agents per skill and hour by Erlang A; zero where the skill is closed.

    Each skill's distinct rates are staffed in increasing order, each search starting from
    the previous answer (more calls never need fewer agents)."""
    G, H = model.lam.shape
    out = np.zeros((G, H), dtype=np.int64)
    cache: dict[tuple, int] = {}
    for g in range(G):
        aht, pat = float(model.aht_mean[g]), float(model.pat_mean[g])
        hours = [h for h in range(H) if model.open_[g, h] and float(model.lam[g, h]) > 0]
        prev = 0
        for h in sorted(hours, key=lambda h: float(model.lam[g, h])):
            lam = float(model.lam[g, h])
            key = (round(lam, 9), aht, pat)
            if key not in cache:
                cache[key] = agents_needed(lam, aht, pat, target, at_least=prev)
            out[g, h] = prev = cache[key]
    return out


def dedicated_model(model: Model, roster: np.ndarray) -> Model:
    """The same demand served by one single-skill team per skill with ``roster`` [G, H]."""
    G = len(model.skills)
    return replace(model, teams=list(model.skills), staff=np.asarray(roster, dtype=np.int64),
                   prof=np.eye(G), policy="longest_idle", meta={**model.meta})


@dataclass
class StaffPlan:
    roster: np.ndarray  # [G, H]
    erlang: np.ndarray  # [G, H] before simulation fixes
    sl: np.ndarray | None  # [H, G] simulated mean SL of the final roster
    rounds: int

    @property
    def agent_hours(self) -> int:
        return int(self.roster.sum())


def plan_staff(model: Model, target: Target, reps: int = 6, rounds: int = 4,
               seed: int = 0, verify: bool = True) -> StaffPlan:
    """Erlang A roster, then add one agent to each simulated hour that misses the target."""
    # local: forecast imports the simulator
    from queue_engine.forecast import run_forecast, worker_pool

    base = erlang_roster(model, target)
    roster = base.copy()
    sl = None
    done = 0
    if not verify:
        return StaffPlan(roster, base, None, 0)
    workers = min(os.cpu_count() or 1, reps)
    # one pool for every round (none when the replications run here anyway)
    with worker_pool(workers) if workers > 1 and reps >= 4 else contextlib.nullcontext() as pool:
        for done in range(1, rounds + 1):
            fc = run_forecast(dedicated_model(model, roster), reps=reps, seed=seed, pool=pool)
            sl = fc.summary.mean["sl"][:, : len(model.skills)]
            miss = _misses(fc, model, target)
            if not miss.any():
                break
            roster = roster + miss.T.astype(np.int64)
    return StaffPlan(roster, base, sl, done)


def _misses(fc, model: Model, target: Target) -> np.ndarray:
    """[H, G] hours whose simulated figures miss the target (counting only hours with calls)."""
    G = len(model.skills)
    s = fc.summary.mean
    busy = (s["answered"][:, :G] >= 1) & model.open_.T
    miss = np.zeros(busy.shape, dtype=bool)
    if target.sl is not None:
        miss |= np.nan_to_num(s["sl"][:, :G], nan=1.0) < target.sl
    if target.asa_max is not None:
        miss |= np.nan_to_num(s["asa"][:, :G]) > target.asa_max
    if target.abandon_max is not None:
        miss |= np.nan_to_num(s["abandon_rate"][:, :G]) > target.abandon_max
    return miss & busy
