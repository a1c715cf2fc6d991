"""Which engine runs which part of the centre, and how their results are put together.

A centre splits into independent parts: skills linked by a team that serves both, or by
overflow, belong together; nothing else couples them (each skill draws its in-run
randomness from its own streams, :class:`queue_engine.draws.KindDraws`).  A part
that is one skill answered by one team of its own is a single FCFS queue — whatever its
roster, opening hours, retrials and callbacks — and takes the exact Kiefer–Wolfowitz
path of :mod:`queue_engine.fcfs`; the other parts run the general event loop.  The
results are stitched back into one :class:`SimResult` with fresh calls first, in their
original order, so the same seed gives the same fresh calls whichever engines ran.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from queue_engine.model import Model, callback_thresholds
from queue_engine.results import ABANDONED, ANSWERED, SimResult

__all__ = ["Inputs", "build_result", "components", "merge", "part"]


@dataclass
class Inputs:
    """The random inputs of one replication, drawn before any engine runs."""

    t_arr: np.ndarray  # fresh arrival times, sorted
    g_arr: np.ndarray  # their skills
    pat: np.ndarray  # their patience (inf = never hangs up)
    svc: np.ndarray  # their handle time at proficiency 1
    closed: np.ndarray  # bool: arrived while their skill was closed
    asks: np.ndarray  # fresh closed calls that leave a callback request (indices)
    streams: list[np.random.Generator]  # one per skill, for draws made during the run


def components(model: Model) -> list[tuple[list[int], list[int]]]:
    """(skills, teams) of each independent part of the centre, in skill order."""
    G, T = len(model.skills), len(model.teams)
    root = list(range(G))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    def join(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)

    qual = model.prof > 0
    for t in range(T):
        gs = np.nonzero(qual[t])[0].tolist()
        for g in gs[1:]:
            join(gs[0], g)
    for g, g2 in enumerate(model.overflow_to.tolist()):
        if g2 >= 0:
            join(g, g2)
    parts: dict[int, list[int]] = {}
    for g in range(G):
        parts.setdefault(find(g), []).append(g)
    out = []
    for skills in parts.values():
        teams = [t for t in range(T) if qual[t, skills].any()]
        out.append((skills, teams))
    return out


def single_queue(model: Model, skills: list[int], teams: list[int]) -> bool:
    """One skill answered by one team that answers nothing else, no overflow."""
    return (len(skills) == 1 and len(teams) == 1
            and model.overflow_to[skills[0]] < 0)


def part(model: Model, inp: Inputs, skills: list[int], teams: list[int]
         ) -> tuple[Model, Inputs, np.ndarray]:
    """The sub-centre of ``skills``/``teams`` and its inputs; plus the global indices of
    its fresh calls.  Callback thresholds come from the whole model (they only depend
    on the teams qualified for the skill, which are all inside the part)."""
    sk = np.asarray(skills)
    tm = np.asarray(teams, dtype=np.int64)
    remap = np.full(len(model.skills), -1)
    remap[sk] = np.arange(sk.size)
    ovf = model.overflow_to[sk]
    meta = {"name": model.meta.get("name", "")}
    if model.cb_accept:
        meta["_cb_thr"] = callback_thresholds(model)[sk]
    sub = replace(
        model, skills=[model.skills[g] for g in skills], teams=[model.teams[t] for t in teams],
        lam=model.lam[sk], staff=model.staff[tm], prof=model.prof[np.ix_(tm, sk)],
        priority=model.priority[sk], aht_mean=model.aht_mean[sk], aht_cv=model.aht_cv[sk],
        pat_mean=model.pat_mean[sk], pat_cv=model.pat_cv[sk], open_=model.open_[sk],
        overflow_to=np.where(ovf >= 0, remap[np.maximum(ovf, 0)], -1),
        overflow_after=model.overflow_after[sk], meta=meta,
    )
    idx = np.nonzero(np.isin(inp.g_arr, sk))[0]
    local = np.full(inp.t_arr.size, -1)
    local[idx] = np.arange(idx.size)
    asks = local[inp.asks]
    sub_inp = Inputs(
        t_arr=inp.t_arr[idx], g_arr=remap[inp.g_arr[idx]], pat=inp.pat[idx], svc=inp.svc[idx],
        closed=inp.closed[idx], asks=asks[asks >= 0], streams=[inp.streams[g] for g in skills],
    )
    return sub, sub_inp, idx


def build_result(arr: list[float], sk: list[int], out: bytearray, ans: list[float],
                 fin: list[float], team_of: list[int], att: list[int], iscb: list[bool],
                 parent: dict[int, int], events: int) -> SimResult:
    """Flat per-attempt lists of an engine -> SimResult (waits, handle times, parents)."""
    n = len(arr)
    arrival = np.asarray(arr, dtype=float)
    a = np.asarray(ans, dtype=float)
    f = np.asarray(fin, dtype=float)
    oc = np.frombuffer(bytes(out), dtype=np.uint8).copy()
    wait = np.full(n, np.nan)
    m_ans = oc == ANSWERED
    wait[m_ans] = a[m_ans] - arrival[m_ans]
    m_ab = oc == ABANDONED
    wait[m_ab] = f[m_ab] - arrival[m_ab]
    service = np.full(n, np.nan)
    done = m_ans & (f >= 0)
    service[done] = f[done] - a[done]
    par = np.full(n, -1, dtype=np.int64)
    if parent:
        par[np.fromiter(parent.keys(), np.int64)] = np.fromiter(parent.values(), np.int64)
    return SimResult(
        arrival=arrival, skill=np.asarray(sk, dtype=np.int64), outcome=oc, wait=wait,
        service=service, team=np.asarray(team_of, dtype=np.int64),
        attempt=np.asarray(att, dtype=np.int64), callback=np.asarray(iscb, dtype=bool),
        events=events, parent=par,
    )


_FIELDS = ("arrival", "outcome", "wait", "service", "attempt", "callback")


def merge(n_fresh: int, pieces: list[tuple[SimResult, np.ndarray, list[int], list[int]]]
          ) -> SimResult:
    """Put the parts' results back together: fresh calls at their global indices, then
    each part's retrials and callbacks; skills, teams and parents mapped back."""
    extra = [r.arrival.size - idx.size for r, idx, _, _ in pieces]
    n = n_fresh + sum(extra)
    cols: dict[str, np.ndarray] = {
        "arrival": np.zeros(n), "outcome": np.zeros(n, dtype=np.uint8),
        "wait": np.full(n, np.nan), "service": np.full(n, np.nan),
        "attempt": np.ones(n, dtype=np.int64), "callback": np.zeros(n, dtype=bool),
    }
    skill = np.zeros(n, dtype=np.int64)
    team = np.full(n, -1, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    off = n_fresh
    events = 0
    for (r, idx, skills, teams), k in zip(pieces, extra):
        pos = np.concatenate([idx, off + np.arange(k)]).astype(np.int64)
        for name in _FIELDS:
            cols[name][pos] = getattr(r, name)
        skill[pos] = np.asarray(skills)[r.skill]
        team[pos] = np.where(r.team >= 0, np.asarray(teams + [-1])[r.team], -1)
        if r.parent is not None:
            parent[pos] = np.where(r.parent >= 0, pos[np.maximum(r.parent, 0)], -1)
        events += r.events
        off += k
    return SimResult(skill=skill, team=team, parent=parent, events=events, **cols)
