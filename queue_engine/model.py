"""A scenario compiled to flat arrays: what the simulator and the analytics read.

Why a separate compiled form: the simulator's inner loop must index plain lists
and numpy arrays, not walk pydantic objects; and stationary test models (M/M/c+M)
are easiest to state directly as a :class:`Model` without any YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from queue_engine.scenario import DAYS, Scenario

__all__ = ["HOURS", "Model", "callback_thresholds", "mmc_model", "skill_staff"]

HOURS = 168
_THR_CACHE: dict[tuple, np.ndarray] = {}


@dataclass(frozen=True)
class Model:
    skills: list[str]
    teams: list[str]
    lam: np.ndarray  # [G, H] fresh arrivals per second, hour h of the week (H = 168 * weeks)
    staff: np.ndarray  # [T, H] agents on duty
    prof: np.ndarray  # [T, G] proficiency, 0 = not qualified
    priority: np.ndarray  # [G] higher first
    aht_mean: np.ndarray  # [G] seconds
    aht_cv: np.ndarray  # [G]
    pat_mean: np.ndarray  # [G] seconds, inf = never abandons
    pat_cv: np.ndarray  # [G]
    open_: np.ndarray  # [G, H] agents answer this skill now
    overflow_to: np.ndarray  # [G] skill index or -1
    overflow_after: np.ndarray  # [G] seconds
    retry_p: float = 0.0
    retry_max: int = 5
    retry_delays: tuple[tuple[float, float], ...] = ((60, 120), (300, 300), (600, 900))
    cb_accept: float = 0.0
    cb_after_hours: float = 0.0
    cb_offer_above: float = 600.0
    policy: str = "longest_idle"
    policy_delay: float = 60.0
    sl_threshold: float = 20.0
    arr_cv: np.ndarray | None = None  # [G] day-level gamma factor's CV (None/0: Poisson)
    meta: dict = field(default_factory=dict)

    @property
    def horizon_hours(self) -> int:
        return self.lam.shape[1]

    def overloaded_hours(self) -> list[tuple[str, int, float, float]]:
        """(skill, week hour, offered Erlangs, agents) where callers never give up yet
        the offered load reaches the agents: no steady state, the queue only grows.
        Reported to the planner rather than simulated as if it were fine."""
        eff = skill_staff(self)
        load = self.lam * self.aht_mean[:, None]
        out = []
        for g in np.nonzero(~np.isfinite(self.pat_mean))[0]:
            for h in np.nonzero((load[g] > 0) & (load[g] >= eff[g]) & self.open_[g])[0]:
                out.append((self.skills[g], int(h), float(load[g, h]), float(eff[g, h])))
        return out

    def with_staff(self, staff: np.ndarray) -> Model:
        from dataclasses import replace

        return replace(self, staff=np.asarray(staff, dtype=np.int64))

    def with_policy(self, policy: str) -> Model:
        from dataclasses import replace

        return replace(self, policy=policy)

    @classmethod
    def from_scenario(cls, sc: Scenario, *, transfers_as_arrivals: bool = True) -> Model:
        """``transfers_as_arrivals``: the simulator's stand-in for escalated calls
        (:mod:`queue_engine.escalation`); the live ACD transfers real calls instead."""
        from queue_engine.escalation import escalation_meta, transfer_arrivals, with_senior

        sc = with_senior(sc)
        skills = sc.skill_ids
        teams = list(sc.teams)
        g_ix = {s: i for i, s in enumerate(skills)}
        lam = np.zeros((len(skills), HOURS))
        for sid, vol in sc.arrivals.daily_calls.items():
            for d, day in enumerate(DAYS):
                f = sc.arrivals.days[day]
                if f == 0:
                    continue
                shape = np.asarray(sc.arrivals.shape(day))
                lam[g_ix[sid], d * 24:(d + 1) * 24] = vol * f * shape / 3600.0
        staff = np.zeros((len(teams), HOURS), dtype=np.int64)
        prof = np.zeros((len(teams), len(skills)))
        for t, tid in enumerate(teams):
            team = sc.teams[tid]
            staff[t] = np.concatenate([team.agents(day) for day in DAYS])
            for sid, p in team.skills.items():
                prof[t, g_ix[sid]] = p
        sk = [sc.centre.skills[s] for s in skills]
        open_ = np.array([sc.centre.open_week(s) for s in skills], dtype=bool)
        meta = {"name": sc.name, **escalation_meta(sc)}
        if transfers_as_arrivals:
            lam = transfer_arrivals(lam, skills, open_, meta)
        return cls(
            skills=skills, teams=teams, lam=lam, staff=staff, prof=prof,
            priority=np.array([s.priority for s in sk]),
            aht_mean=np.array([s.aht.mean for s in sk]),
            aht_cv=np.array([s.aht.cv for s in sk]),
            pat_mean=np.array([s.patience.mean for s in sk]),
            pat_cv=np.array([s.patience.cv for s in sk]),
            open_=open_,
            overflow_to=np.array([g_ix[s.overflow.to] if s.overflow else -1 for s in sk]),
            overflow_after=np.array([s.overflow.after if s.overflow else 0.0 for s in sk]),
            retry_p=sc.retrials.probability, retry_max=sc.retrials.max_attempts,
            retry_delays=tuple(tuple(d) for d in sc.retrials.delays),
            cb_accept=sc.callbacks.accept, cb_after_hours=sc.callbacks.after_hours_request,
            cb_offer_above=sc.centre.callback_offer_above,
            policy=sc.routing.policy, policy_delay=sc.routing.overflow_after,
            sl_threshold=sc.centre.service_level_seconds,
            arr_cv=(np.array([sc.arrivals.dispersion.get(s, 0.0) for s in skills])
                    if any(sc.arrivals.dispersion.values()) else None),
            meta=meta,
        )


def mmc_model(
    agents: int, lam_per_s: float, aht: float, patience: float | None, hours: int = 1,
    aht_cv: float = 1.0,
) -> Model:
    """One skill, one team, constant rates: the M/M/c+M (or M/M/c) of the Erlang gates."""
    return Model(
        skills=["q"], teams=["t"],
        lam=np.full((1, hours), lam_per_s), staff=np.full((1, hours), agents, dtype=np.int64),
        prof=np.ones((1, 1)), priority=np.array([1]),
        aht_mean=np.array([float(aht)]), aht_cv=np.array([aht_cv]),
        pat_mean=np.array([float(patience) if patience else np.inf]), pat_cv=np.array([1.0]),
        open_=np.ones((1, hours), dtype=bool), overflow_to=np.array([-1]),
        overflow_after=np.array([0.0]), meta={"name": f"M/M/{agents}+M"},
    )


def skill_staff(model: Model) -> np.ndarray:
    """[G, H] agents effectively serving each skill: a team's heads split by offered work."""
    work = model.lam * model.aht_mean[:, None]  # [G, H] Erlangs offered
    out = np.zeros(model.lam.shape)
    for t in range(len(model.teams)):
        q = model.prof[t] > 0
        share = np.where(q[:, None], work, 0.0)
        tot = share.sum(axis=0)
        frac = np.where(tot > 0, share / np.where(tot > 0, tot, 1), q[:, None] / max(q.sum(), 1))
        out += frac * model.staff[t][None, :]
    return out


def callback_thresholds(model: Model, limit: int = 2048) -> np.ndarray:
    """[G, H] callers ahead from which QL_m's expected wait exceeds the callback offer limit.

    Cached on the model: computed once per scenario, not per replication.
    """
    cached = model.meta.get("_cb_thr")
    if cached is not None:
        return cached
    # Also by content: replications in worker processes get unpickled copies of the
    # model (without the meta cache) and would recompute it for every replication.
    key = (model.lam.tobytes(), model.staff.tobytes(), model.prof.tobytes(),
           model.aht_mean.tobytes(), model.pat_mean.tobytes(), model.cb_offer_above, limit)
    cached = _THR_CACHE.get(key)
    if cached is not None:
        model.meta["_cb_thr"] = cached
        return cached
    eff = skill_staff(model)
    out = np.full(eff.shape, 1 << 60, dtype=np.int64)
    js = np.arange(limit)
    for g in range(eff.shape[0]):
        theta = 1.0 / model.pat_mean[g] if np.isfinite(model.pat_mean[g]) else 0.0
        s = eff[g] / model.aht_mean[g]
        ok = s > 0
        if not ok.any():
            continue
        ew = np.cumsum(1.0 / (s[ok, None] + js[None, :] * theta), axis=1)
        k = (ew < model.cb_offer_above).sum(axis=1)
        out[g, ok] = np.where(k < limit, k, 1 << 60)
    model.meta["_cb_thr"] = out
    if len(_THR_CACHE) >= 16:
        _THR_CACHE.clear()
    _THR_CACHE[key] = out
    return out
