"""Driver of the compiled engine: lays a model out as flat arrays, runs the kernel of
:mod:`queue_engine.core_numba`, grows what ran out, and returns a :class:`SimResult`.

Memory per attempt while it runs: about 60 bytes of engine arrays (times as float64,
skills/teams/parents as int32, attempt numbers as int16, flags as bytes), the answer
and finish times turned into waits and handle times in place at the end.
"""

from __future__ import annotations

import math

import numpy as np

from queue_engine import core_numba as cn
from queue_engine.draws import draw_table, kind_streams
from queue_engine.model import Model, callback_thresholds
from queue_engine.paths import Inputs
from queue_engine.results import ANSWERED, CLOSED, UNFINISHED, SimResult
from queue_engine.variates import dist_table

__all__ = ["available", "run"]

available = cn.available
HEAP_SLACK = 1024  # event heap room beyond the agents and hours (tests shrink it to regrow)


def _flat(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    off = np.zeros(len(lists) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(x) for x in lists])
    return off, np.asarray([v for x in lists for v in x], dtype=np.int64)


def _routing(model: Model) -> dict:
    """The Python loop's routing tables (event_loop.py), as arrays."""
    G, T = len(model.skills), len(model.teams)
    prof = model.prof.tolist()
    prio = model.priority.tolist()
    ovp = model.policy == "overflow"
    primary = [[t for t in range(T) if prof[t][g] > 0 and
                (not ovp or prof[t][g] >= max(p[g] for p in prof))] for g in range(G)]
    secondary = [[t for t in range(T) if prof[t][g] > 0 and t not in primary[g]]
                 for g in range(G)]
    any_cb = bool(model.cb_accept or model.cb_after_hours)
    qprio = [0] * (2 * G)
    for g in range(G):
        qprio[2 * g] = prio[g] * 2 + 1
        qprio[2 * g + 1] = prio[g] * 2
    team_q = []
    for t in range(T):
        lst = []
        for g in range(G):
            if prof[t][g] > 0:
                d = float(model.policy_delay) if t in secondary[g] else 0.0
                lst.append((2 * g, d, qprio[2 * g]))
                if any_cb:
                    lst.append((2 * g + 1, d, qprio[2 * g + 1]))
        lst.sort(key=lambda x: -x[2])
        team_q.append(lst)
    solo = [tq[0][0] if len(tq) == 1 and not tq[0][1] else -1 for tq in team_q]
    tq_off, _ = _flat([[0] * len(tq) for tq in team_q])
    pr_off, pr_t = _flat(primary)
    sc_off, sc_t = _flat(secondary)
    return dict(  # noqa: C408 (keyword names read better than quoted keys here)
        qprio=np.asarray(qprio, dtype=np.int64), tq_off=tq_off,
        tq_q=np.asarray([q for tq in team_q for q, _, _ in tq], dtype=np.int64),
        tq_d=np.asarray([d for tq in team_q for _, d, _ in tq], dtype=float),
        tq_p=np.asarray([p for tq in team_q for _, _, p in tq], dtype=np.int64),
        solo=np.asarray(solo, dtype=np.int64),
        solo_sc=np.asarray([1.0 / prof[t][solo[t] >> 1] if solo[t] >= 0 else 0.0
                            for t in range(T)]),
        single=np.asarray([c[0] if len(c) == 1 else -1 for c in primary], dtype=np.int64),
        single_sc=np.asarray([1.0 / prof[c[0]][g] if len(c) == 1 else 0.0
                              for g, c in enumerate(primary)]),
        pr_off=pr_off, pr_t=pr_t, sc_off=sc_off, sc_t=sc_t,
    )


def run(model: Model, inp: Inputs) -> SimResult:
    """The general engine, compiled: the Python loop's result, call by call."""
    G, T, H = len(model.skills), len(model.teams), model.horizon_hours
    n_fresh = inp.t_arr.size
    rt = _routing(model)
    next_open = np.full((G, H), -1, dtype=np.int64)
    nxt_h = np.full(G, -1, dtype=np.int64)
    for h in range(H - 1, -1, -1):
        nxt_h = np.where(model.open_[:, h], h, nxt_h)
        next_open[:, h] = nxt_h
    cb_thr = (callback_thresholds(model) if model.cb_accept
              else np.zeros((G, H), dtype=np.int64))
    staff = np.ascontiguousarray(model.staff, dtype=np.int64)
    ring_cap = staff.max(axis=1) + 1
    ring_off = np.zeros(T + 1, dtype=np.int64)
    ring_off[1:] = np.cumsum(ring_cap)
    pk, pa, pb = (np.asarray(v) for v in dist_table(model.pat_mean, model.pat_cv))
    vk, va, vb = (np.asarray(v) for v in dist_table(model.aht_mean, model.aht_cv))
    kinds = kind_streams(inp.streams)
    open_ = ~inp.closed
    stream = np.nonzero(open_)[0]
    st = np.append(inp.t_arr[open_], math.inf)
    asks_h = np.minimum((inp.t_arr[inp.asks] // 3600.0).astype(np.int64), H - 1)
    per_skill = np.bincount(inp.g_arr, minlength=G).max() if n_fresh else 0
    busy = bool(model.retry_p or model.cb_accept or model.cb_after_hours)
    # First sizes generous enough that the default week never runs twice (a rerun costs a
    # whole run; a table too large costs 8 bytes a number).
    n_u = 2 * int(per_skill) + 1024 if busy else 0
    n_d = int(per_skill) // 2 + 1024 if busy else 0
    tables = [draw_table(kinds, 0, None, n_u)] + [draw_table(kinds, k, None, n_d)
                                                  for k in (1, 2)]
    extra = inp.asks.size + (n_fresh // 2 + 1024 if busy else 0)
    n_ovf = int(np.isin(inp.g_arr, np.nonzero(model.overflow_to >= 0)[0]).sum()) + 16
    # pending events: a departure per agent on duty, the roster's hours, and the callers
    # waiting with an event of their own (retrials, overflow), callbacks due
    heap_cap = int(ring_cap.sum()) + H + inp.asks.size + HEAP_SLACK
    if busy or (model.overflow_to >= 0).any() or model.policy == "overflow":
        heap_cap += n_fresh // 8
    heap_cap = max(heap_cap, 8)
    while True:
        cap = n_fresh + extra
        arr = np.empty(cap)
        arr[:n_fresh] = inp.t_arr
        sk = np.empty(cap, dtype=np.int32)
        sk[:n_fresh] = inp.g_arr
        dl = np.empty(cap)
        np.add(inp.t_arr, inp.pat, out=dl[:n_fresh])
        svc = np.empty(cap)
        svc[:n_fresh] = inp.svc
        att = np.ones(cap, dtype=np.int16)
        iscb = np.zeros(cap, dtype=bool)
        ans = np.full(cap, -1.0)
        fin = np.full(cap, -1.0)
        team = np.full(cap, -1, dtype=np.int32)
        out = np.full(cap, UNFINISHED, dtype=np.uint8)
        out[:n_fresh][inp.closed] = CLOSED
        waiting = np.zeros(cap, dtype=np.uint8)
        parent = np.full(cap, -1, dtype=np.int32)
        nxt = np.empty(cap + n_ovf, dtype=np.int32)
        ov_att = np.empty(n_ovf, dtype=np.int32)
        pend = np.empty(cap if model.retry_p else 1)
        status, n = cn.kernel(
            st, stream, inp.asks, asks_h,
            arr, sk, dl, svc, att, iscb, ans, fin, team, out, waiting, parent, nxt, ov_att, pend,
            n_fresh, np.ascontiguousarray(model.prof, dtype=float), rt["qprio"], rt["tq_off"],
            rt["tq_q"], rt["tq_d"], rt["tq_p"], rt["solo"], rt["solo_sc"], rt["single"],
            rt["single_sc"], rt["pr_off"], rt["pr_t"], rt["sc_off"], rt["sc_t"],
            np.ascontiguousarray(model.open_, dtype=np.bool_), next_open, staff,
            model.overflow_to.astype(np.int64), model.overflow_after.astype(float),
            np.ascontiguousarray(cb_thr, dtype=np.int64), float(model.retry_p),
            int(model.retry_max), np.asarray(model.retry_delays, dtype=float).reshape(-1, 2),
            float(model.cb_accept), float(model.cb_after_hours), model.policy == "overflow",
            float(model.policy_delay), tables[0], tables[1], tables[2],
            pk.astype(np.int64), pa.astype(float), pb.astype(float),
            vk.astype(np.int64), va.astype(float), vb.astype(float),
            ring_off, ring_cap.astype(np.int64), heap_cap, G, T, H)
        del dl, svc, waiting, nxt, ov_att, pend
        if status == cn.OK:
            break
        if status == cn.NEED_ATTEMPTS:
            extra = 2 * extra + 1024
        elif status == cn.NEED_NODES:
            n_ovf = 2 * n_ovf
        elif status == cn.NEED_U:
            tables[0] = draw_table(kinds, 0, tables[0], 2 * tables[0].shape[1] + 1024)
        elif status == cn.NEED_D:
            for k in (1, 2):
                tables[k] = draw_table(kinds, k, tables[k], 2 * tables[k].shape[1] + 1024)
        elif status == cn.NEED_HEAP:
            heap_cap = 2 * heap_cap
        else:
            ring_cap = ring_cap * 2
            ring_off[1:] = np.cumsum(ring_cap)
    oc = out[:n]
    res = SimResult(
        arrival=arr[:n], skill=sk[:n], outcome=oc, wait=ans[:n], service=fin[:n],
        team=team[:n], attempt=att[:n], callback=iscb[:n], parent=parent[:n],
    )
    res.events = n + int((oc == ANSWERED).sum()) + int((~np.isnan(res.wait)).sum()) + H
    return res
