"""Exact fast paths: a single FCFS queue needs no event loop (Kiefer–Wolfowitz).

Under FCFS a caller's offered wait is fixed at arrival: the earliest time an agent is
free after everyone ahead was placed.  So the caller is answered iff that wait is
below their patience, and the agents are a heap of free times — one ``heapreplace``
per answered call instead of three heap events.

:func:`simulate_kw` carries this over to a single queue with everything else the
engine models, each step argued against the event loop's rules:

* Roster by hour.  An hour boundary is applied once every attempt before it is
  placed — or earlier, as soon as a waiting caller's offered start lies past it: then
  no agent frees before the boundary, so placing later arrivals after applying it
  cannot change their fate.  New agents are free at the boundary; a cut sends idle
  agents home first, then the next busy agents to finish (a busy agent finishes its
  call); a team cut to zero drains — its agents keep answering while anyone waits.
* Opening hours.  Attempts arriving while the skill is closed are refused (and may
  leave a callback request for the next opening).
* Retrials.  A caller who hangs up calls again after the SPEC §6 delay: a later
  arrival, merged into the stream from a small heap.
* Callbacks.  An offered callback keeps the caller's place in line (a caller who never
  hangs up); after-hours requests wait in a second, lower-priority queue that an
  agent serves only when no live caller waits — i.e. at an agent's free time before
  the next live arrival.  Callers ahead (for the offer) are counted from the starts
  and hang-up times already decided.

Random draws made during the run come from per-skill streams in arrival order
(:class:`queue_engine.draws.KindDraws`), as in the event loop, so the two engines
give the same outcome and wait for every attempt (tests check it call by call).
"""

from __future__ import annotations

import math
from collections import deque
from heapq import heapify, heappop, heappush, heapreplace

import numpy as np

from queue_engine.draws import KindDraws
from queue_engine.event_loop import event_loop
from queue_engine.model import Model, callback_thresholds
from queue_engine.paths import Inputs, build_result, components, merge, part, single_queue
from queue_engine.results import (
    ABANDONED,
    ANSWERED,
    CALLBACK_TAKEN,
    CLOSED,
    UNFINISHED,
    SimResult,
)

__all__ = ["fast_path", "is_plain_fcfs", "simulate_fcfs", "simulate_kw"]

_INF = math.inf


def is_plain_fcfs(model: Model) -> bool:
    """One skill, one team, constant roster, always open, nobody retries or calls back."""
    return (len(model.skills) == 1 and len(model.teams) == 1 and model.prof[0, 0] > 0
            and bool((model.staff == model.staff[0, 0]).all()) and model.staff[0, 0] > 0
            and bool(model.open_.all()) and model.retry_p == 0 and model.cb_accept == 0
            and model.cb_after_hours == 0 and model.overflow_to[0] < 0)


def fast_path(model: Model, inp: Inputs) -> SimResult | None:
    """Run ``model`` with the fast paths where they are exact; None if none applies.

    Single-queue parts take Kiefer–Wolfowitz (the tight :func:`simulate_fcfs` when the
    queue is plain, else :func:`simulate_kw`); other parts run the event loop.
    ``SimResult.path`` reads "kiefer-wolfowitz", or "hybrid: …" with the split.
    """
    if len(model.skills) == 1 and len(model.teams) == 1 and model.prof[0, 0] > 0:
        res = (simulate_fcfs if is_plain_fcfs(model) else simulate_kw)(model, inp)
        res.path = "kiefer-wolfowitz"
        return res
    parts = components(model)
    fast = [single_queue(model, s, t) for s, t in parts]
    if not any(fast):
        return None
    pieces = []
    for (skills, teams), kw in zip(parts, fast):
        sub, sub_inp, idx = part(model, inp, skills, teams)
        if kw:
            r = (simulate_fcfs if is_plain_fcfs(sub) else simulate_kw)(sub, sub_inp)
        else:
            r = event_loop(sub, sub_inp)
        pieces.append((r, idx, skills, teams))
    res = merge(inp.t_arr.size, pieces)
    n_kw = sum(len(s) for (s, _), k in zip(parts, fast) if k)
    n_ev = len(model.skills) - n_kw
    res.path = ("kiefer-wolfowitz" if all(fast) else
                f"hybrid: kiefer-wolfowitz {n_kw} skill{'s' * (n_kw != 1)}, "
                f"event loop {n_ev} skill{'s' * (n_ev != 1)}")
    return res


def simulate_fcfs(model: Model, inp: Inputs) -> SimResult:
    """Kiefer–Wolfowitz for a plain FCFS c-server queue with abandonment (the tight loop).

    Same variates, the same waits as the event loop (a test checks it call by call).
    """
    t_arr, g_arr = inp.t_arr, inp.g_arr
    c = int(model.staff[0, 0])
    scale = 1.0 / float(model.prof[0, 0])
    free = [0.0] * c
    n = t_arr.size
    arr = t_arr.tolist()
    pat = inp.pat.tolist()
    svc = (inp.svc * scale).tolist()
    wait = [0.0] * n
    out = bytearray(n)
    hrep = heapreplace
    for i in range(n):
        a = arr[i]
        f = free[0]
        if f <= a:
            hrep(free, a + svc[i])
        else:
            v = f - a
            if v <= pat[i]:
                wait[i] = v
                hrep(free, f + svc[i])
            else:
                wait[i] = pat[i]
                out[i] = 1
    oc = np.frombuffer(bytes(out), dtype=np.uint8).copy()
    w = np.asarray(wait)
    service = np.where(oc == 0, inp.svc * scale, np.nan)
    return SimResult(
        arrival=t_arr, skill=g_arr, outcome=oc, wait=w, service=service,
        team=np.where(oc == 0, 0, -1), attempt=np.ones(n, dtype=np.int64),
        callback=np.zeros(n, dtype=bool), events=3 * n, parent=np.full(n, -1, dtype=np.int64),
    )


def simulate_kw(model: Model, inp: Inputs) -> SimResult:
    """Kiefer–Wolfowitz for one skill answered by one team, with the whole rule book:
    hourly roster (joins, cuts, draining), opening hours, retrials, offered and
    after-hours callbacks.  See the module docstring for why each step is exact."""
    H = model.horizon_hours
    scale = 1.0 / float(model.prof[0, 0])
    staff = model.staff[0].tolist()
    is_open = model.open_[0].tolist()
    draws = KindDraws(model, inp.streams)
    unif, d_pat, d_svc = draws.u, draws.patience, draws.service
    retry_p, retry_max, delays = model.retry_p, model.retry_max, model.retry_delays
    n_delays = len(delays)
    cb_accept, cb_after = model.cb_accept, model.cb_after_hours
    thr = callback_thresholds(model)[0].tolist() if cb_accept else None
    next_open = [-1] * H
    nxt = -1
    for h in range(H - 1, -1, -1):
        if is_open[h]:
            nxt = h
        next_open[h] = nxt

    n_fresh = inp.t_arr.size
    arr = inp.t_arr.tolist()
    pat = inp.pat.tolist()
    svc = inp.svc.tolist()
    att = [1] * n_fresh
    iscb = [False] * n_fresh
    ans = [-1.0] * n_fresh
    fin = [-1.0] * n_fresh
    team_of = [-1] * n_fresh
    out = bytearray([UNFINISHED]) * n_fresh
    parent: dict[int, int] = {}

    def new(t: float, a: int, cb: bool, prev: int, p: float, s: float) -> int:
        parent[len(arr)] = prev
        arr.append(t)
        pat.append(p)
        svc.append(s)
        att.append(a)
        iscb.append(cb)
        ans.append(-1.0)
        fin.append(-1.0)
        team_of.append(-1)
        out.append(UNFINISHED)
        return len(arr) - 1

    cbq: list[tuple[float, int]] = []  # after-hours callbacks: (arrival, attempt)
    if inp.closed.any():
        out_np = np.frombuffer(out, dtype=np.uint8)
        out_np[inp.closed] = CLOSED
        del out_np
        for i in inp.asks.tolist():
            nh = next_open[min(int(arr[i] // 3600.0), H - 1)]
            if nh >= 0:
                j = new(nh * 3600.0, 1, True, i, _INF, d_svc(0))
                cbq.append((arr[j], j))
        heapify(cbq)
    stream = np.nonzero(~inp.closed)[0].tolist()
    st = inp.t_arr[~inp.closed].tolist()
    st.append(_INF)  # sentinel: no more fresh calls
    rq: list[tuple[float, int]] = []  # retrials due: (arrival, attempt)
    bnd = [h * 3600.0 for h in range(H)]
    bnd.append(_INF)  # sentinel: the roster stays as it is after the last hour

    F: list[float] = []  # free times of agents on duty (heap); <= now means idle
    L: list[float] = []  # free times of busy agents who log off when they finish
    draining = False
    hb = 0  # next hour boundary to apply
    tau = bnd[0]
    starts: deque[float] = deque()  # answer times of callers in line (nondecreasing)
    hangs: list[float] = []  # hang-up times of callers in line (heap)
    U = draws.ubuf[0]
    ai = 0
    while True:
        a = st[ai]
        from_rq = False
        if rq and rq[0][0] < a:
            a = rq[0][0]
            from_rq = True
        if cbq and F:  # after-hours callbacks an agent takes before the next event
            lim = a if a < tau else tau  # noqa: FURB136 (cheaper than min())
            while cbq and F:
                c_arr = cbq[0][0]
                if c_arr > lim:
                    break
                if draining:
                    while F and F[0] <= c_arr:  # idle before the callback came: went home
                        heappop(F)
                    if not F:
                        break
                f = F[0]
                s = f if f > c_arr else c_arr  # noqa: FURB136
                if s > lim:
                    break
                j = heappop(cbq)[1]
                e = s + svc[j] * scale
                heapreplace(F, e)
                ans[j], fin[j], team_of[j], out[j] = s, e, 0, ANSWERED
        if tau <= a:
            if tau == _INF:
                break
            draining = _boundary(F, L, draining, staff[hb], tau)
            hb += 1
            tau = bnd[hb]
            continue
        if from_rq:
            i = heappop(rq)[1]
            h = int(a // 3600.0)
            if h >= H:
                h = H - 1
            if not is_open[h]:  # a retrial into a closed hour
                out[i] = CLOSED
                if cb_after and unif(0) < cb_after:
                    nh = next_open[h]
                    if nh >= 0:
                        j = new(nh * 3600.0, att[i], True, i, _INF, d_svc(0))
                        heappush(cbq, (arr[j], j))
                continue
            pat[i] = d_pat(0)  # drawn on arrival, in time order, as the event loop does
            svc[i] = d_svc(0)
        else:
            i = stream[ai]
            ai += 1
        if draining:
            while F and F[0] <= a:
                heappop(F)
        f = F[0] if F else _INF
        if f <= a:  # an idle agent answers at once
            e = a + svc[i] * scale
            heapreplace(F, e)
            ans[i], fin[i], team_of[i], out[i] = a, e, 0, ANSWERED
            continue
        if cb_accept:
            h = int(a // 3600.0)
            if h >= H:
                h = H - 1
            while starts and starts[0] <= a:
                starts.popleft()
            while hangs and hangs[0] < a:
                heappop(hangs)
            if (len(starts) + len(hangs) >= thr[h]
                    and (U.pop() if U else unif(0)) < cb_accept):
                out[i] = CALLBACK_TAKEN  # the callback keeps the caller's place in line
                fin[i] = a
                i = new(a, att[i], True, i, _INF, d_svc(0))
        p = pat[i]
        d = a + p
        again = -1.0
        if (p < _INF and retry_p and att[i] < retry_max
                and (U.pop() if U else unif(0)) < retry_p):
            k = att[i] - 1
            lo, hi = delays[k if k < n_delays else n_delays - 1]
            again = lo + (hi - lo) * unif(0)
        # The first agent free for this caller, applying the boundaries its wait crosses.
        while f > tau and d >= tau:
            draining = _boundary(F, L, draining, staff[hb], tau)
            hb += 1
            tau = bnd[hb]
            f = F[0] if F else _INF
        if d < f or f == _INF:  # hangs up first (or, never hanging up, waits past the end)
            if d < _INF:
                out[i], fin[i] = ABANDONED, d
                if cb_accept:
                    heappush(hangs, d)
                if again >= 0:
                    j = new(d + again, att[i] + 1, False, i, -1.0, -1.0)
                    heappush(rq, (arr[j], j))
            elif cb_accept:
                starts.append(_INF)
            continue
        e = f + svc[i] * scale
        heapreplace(F, e)
        ans[i], fin[i], team_of[i], out[i] = f, e, 0, ANSWERED
        if cb_accept:
            starts.append(f)

    n = len(arr)
    res = build_result(arr, [0] * n, out, ans, fin, team_of, att, iscb, parent, 0)
    res.events = 2 * n
    return res


def _boundary(F: list[float], L: list[float], draining: bool, staff: int, tau: float) -> bool:
    """Apply the roster of the hour starting at ``tau`` to one team, in place.

    ``F``: heap of free times of agents on duty (or draining); ``L``: busy agents who log
    off when they finish.  Returns whether the team drains (cut to zero: its agents keep
    answering while anyone waits, then go home).  The event loop's rules, agent by agent.
    """
    L[:] = [f for f in L if f > tau]  # leavers who finished by now went home
    if draining:  # the drained hour is over: who is still busy logs off when done
        L.extend(f for f in F if f > tau)
        F.clear()
    cur, pend = len(F), len(L)
    delta = staff - cur
    if delta > 0:
        back = min(delta, pend)
        if pend:  # no idle agent while some are leaving: the next to finish leave
            busy = sorted(F + L)
            k = pend - back
            L[:] = busy[:k]
            F[:] = busy[k:]
        for _ in range(delta - back):
            heappush(F, tau)
    elif delta < 0:
        cut = -delta
        while cut and F and F[0] <= tau:  # idle agents go first
            heappop(F)
            cut -= 1
        for _ in range(cut):
            L.append(heappop(F))
    if staff == 0 and cur > 0:  # off duty entirely: answer whoever still waits
        F.extend(L)
        heapify(F)
        L.clear()
        return True
    return False
