"""The general engine: discrete-event simulation of the whole rule book.

Exact FCFS within priority.  Design, chosen for speed without giving up exactness:

* Fresh arrivals (non-homogeneous Poisson, piecewise constant by hour) and their
  patience and handle-time variates are drawn up front with numpy and merged with
  the event heap as a sorted list — they never enter the heap.
* The heap holds plain tuples ``(time, kind, a, b)``: agent free, abandonment of a
  caller who will call again, retrial / callback arrival, roster change, overflow.
  No per-event objects.
* Abandonment is lazy: a waiting caller's deadline (arrival + patience) needs no heap
  event.  Whoever looks at the caller next — a freed agent at the queue head, an
  overflow, a callback offer counting the queue — finds ``deadline < now`` and
  records the abandonment at the deadline.  Under FCFS within priority this is exact:
  nobody could have answered the caller between the deadline and that look, and
  what is still waiting when the run ends abandons at its deadline.  Only callers
  whose abandonment has consequences in time (they will call again) get an event;
  tracing (live queue lengths on every arrival) keeps every abandonment eager.
* Queues are deques of call indices, one per (skill, live|callback); a call that
  left (answered elsewhere or abandoned) is skipped at the head, so leaving is
  O(1).  Priority across queues = skill priority, then arrival time (FCFS).
* Agents are anonymous within a team: a team's idle agents are a deque of the
  times they became idle, so "longest idle" is the smallest head across the
  qualified teams.  Roster cuts take idle agents first and let busy ones finish.
* What is drawn during the run — whether a waiting caller will call again and after
  what delay (at the moment they queue), a retrial's patience and handle time (when
  it arrives), callback offers — comes from per-skill streams in arrival order, as
  in the fast path, so both engines give the same outcome to every attempt.
* Results are flat per-attempt arrays; statistics are computed afterwards with
  numpy (:mod:`queue_engine.stats`), so the loop only records times.

What it must handle that a single queue cannot: skills sharing agents (longest-idle
qualified agent, priorities across skills), overflow to a secondary group, the
overflow routing policy.  :func:`queue_engine.sim.simulate` runs it only on the parts
of a centre that need it (:mod:`queue_engine.paths`).
"""

from __future__ import annotations

import math
from collections import deque
from heapq import heapify, heappop, heappush

import numpy as np

from queue_engine import compiled
from queue_engine.draws import KindDraws
from queue_engine.model import Model, callback_thresholds
from queue_engine.paths import Inputs, build_result
from queue_engine.results import ABANDONED, ANSWERED, CLOSED, UNFINISHED, SimResult

__all__ = ["event_loop"]

_DEP, _ABN, _ARR, _STAFF, _OVT, _OVS, _END = 0, 1, 2, 3, 4, 5, 9
_INF = math.inf


def event_loop(model: Model, inp: Inputs, trace: bool = False, lazy: bool = True,
               engine: str = "auto") -> SimResult:
    """The general engine.  ``lazy=False`` gives every abandonment its heap event (the
    reference the lazy bookkeeping is tested against, call by call).

    ``engine``: "auto" runs the compiled kernel (:mod:`queue_engine.compiled`, the same
    result call by call) when numba is installed and neither tracing nor eager
    abandonment is asked for; "python" always runs this loop, the reference.
    """
    if engine == "auto" and lazy and not trace and compiled.available():
        return compiled.run(model, inp)
    t_arr, g_arr, pat_a, svc_a = inp.t_arr, inp.g_arr, inp.pat, inp.svc
    n_fresh = t_arr.size
    G, T, H = len(model.skills), len(model.teams), model.horizon_hours
    prio = model.priority.tolist()

    arr = t_arr.tolist()
    sk = g_arr.tolist()
    pat = pat_a.tolist()
    dl = (t_arr + pat_a).tolist()  # deadline: the caller hangs up at arrival + patience
    svc = svc_a.tolist()
    att = [1] * n_fresh
    iscb = [False] * n_fresh
    ans = [-1.0] * n_fresh
    fin = [-1.0] * n_fresh
    team_of = [-1] * n_fresh
    out = bytearray([UNFINISHED]) * n_fresh
    waiting = bytearray(n_fresh)

    draws = KindDraws(model, inp.streams)
    unif, d_pat, d_svc = draws.u, draws.patience, draws.service
    ubuf = draws.ubuf
    parent: dict[int, int] = {}  # attempt -> the attempt it follows (retrial or callback)
    pend: dict[int, float] = {}  # caller -> delay of the retrial if they hang up

    def new_attempt(t: float, g: int, a: int, cb: bool, prev: int, p: float, s: float) -> int:
        parent[len(arr)] = prev
        arr.append(t)
        sk.append(g)
        pat.append(p)
        dl.append(t + p)
        svc.append(s)
        att.append(a)
        iscb.append(cb)
        ans.append(-1.0)
        fin.append(-1.0)
        team_of.append(-1)
        out.append(UNFINISHED)
        waiting.append(0)
        return len(arr) - 1

    prof = model.prof.tolist()
    is_open = model.open_.tolist()
    overflow_policy = model.policy == "overflow"
    pdelay = float(model.policy_delay)
    # Which teams may take a skill's call at once; which only after pdelay (overflow policy).
    primary = [[t for t in range(T) if prof[t][g] > 0 and
                (not overflow_policy or prof[t][g] >= max(p[g] for p in prof))] for g in range(G)]
    secondary = [[t for t in range(T) if prof[t][g] > 0 and t not in primary[g]]
                 for g in range(G)]
    retry_p, retry_max = model.retry_p, model.retry_max
    delays = model.retry_delays
    n_delays = len(delays)
    cb_accept, cb_after = model.cb_accept, model.cb_after_hours
    any_cb = bool(cb_accept or cb_after)
    # Queue ids: 2g = live calls of skill g, 2g+1 = callbacks of skill g (answered after live).
    qprio = [0] * (2 * G)
    for g in range(G):
        qprio[2 * g] = prio[g] * 2 + 1
        qprio[2 * g + 1] = prio[g] * 2
    team_q: list[list[tuple[int, float, int]]] = []
    queues_: list[deque[int]] = [deque() for _ in range(2 * G)]
    queues = queues_
    for t in range(T):
        lst = []
        for g in range(G):
            if prof[t][g] > 0:
                d = pdelay if t in secondary[g] else 0.0
                lst.append((2 * g, d, qprio[2 * g]))
                if any_cb:
                    lst.append((2 * g + 1, d, qprio[2 * g + 1]))
        lst.sort(key=lambda x: -x[2])
        team_q.append(lst)
    # A team that answers one queue with no delay (the common case) scans just that deque.
    solo = [tq[0][0] if len(tq) == 1 and not tq[0][1] else -1 for tq in team_q]
    solo_q = [queues_[q] if q >= 0 else None for q in solo]
    solo_g = [q >> 1 for q in solo]
    solo_sc = [1.0 / prof[t][solo[t] >> 1] if solo[t] >= 0 else 0.0 for t in range(T)]
    qlen = [0] * G  # live callers waiting per skill (callbacks excluded)
    idle: list[deque[float]] = [deque() for _ in range(T)]
    present = [0] * T
    leaving = [0] * T
    draining = [False] * T
    staff = model.staff.tolist()
    ovf_to = model.overflow_to.tolist()
    ovf_after = model.overflow_after.tolist()
    cb_thr = callback_thresholds(model).tolist() if cb_accept else None
    # Lazy deadlines per skill, consulted only to count the queue for a callback offer.
    dlh: list[list[tuple[float, int]]] = [[] for _ in range(G)]
    count_q = lazy and bool(cb_accept)
    next_open = [[-1] * H for _ in range(G)] if cb_after > 0 else None
    if next_open is not None:
        for g in range(G):
            nxt = -1
            for h in range(H - 1, -1, -1):
                if is_open[g][h]:
                    nxt = h
                next_open[g][h] = nxt

    ast_h = [0.0] * G
    tr_ahead: list[int] = []
    tr_h: list[float] = []
    tr_hol: list[float] = []
    tr_idx: list[int] = []

    heap: list[tuple[float, int, int, int]] = [(h * 3600.0, _STAFF, h, 0) for h in range(H)]
    heap.sort()
    INF = _INF

    def still_waiting(i: int, now: float) -> bool:
        """Is caller i in a queue at ``now``?  Records a lazy abandonment it finds."""
        if not waiting[i]:
            return False
        d = dl[i]
        if d < now:
            waiting[i] = 0
            out[i] = ABANDONED
            fin[i] = d
            qlen[sk[i]] -= 1
            return False
        return True

    def start(i: int, t: int, g_q: int, now: float) -> None:
        ans[i] = now
        if trace:
            ast_h[g_q] = (3.0 * ast_h[g_q] + now - arr[i]) / 4.0
        team_of[i] = t
        out[i] = ANSWERED
        waiting[i] = 0
        heappush(heap, (now + svc[i] / prof[t][g_q], _DEP, t, i))

    def take_next(t: int, now: float) -> bool:
        """Free agent of team t picks the best waiting call; False if none."""
        best_i = -1
        best_p = -1
        best_a = _INF
        best_q = 0
        for qid, d, p in team_q[t]:
            if p < best_p:
                break
            q = queues[qid]
            while q and not still_waiting(q[0], now):
                q.popleft()
            if not q:
                continue
            i = q[0]
            a = arr[i]
            if d and now - a < d:
                continue
            if p > best_p or a < best_a:
                best_i, best_p, best_a, best_q = i, p, a, qid
        if best_i < 0:
            return False
        queues[best_q].popleft()
        if best_q & 1 == 0:
            qlen[sk[best_i]] -= 1
        start(best_i, t, best_q >> 1, now)
        return True

    def idle_team(cands: list[int]) -> int:
        best, best_since = -1, _INF
        for t in cands:
            q = idle[t]
            if q and q[0] < best_since:
                best, best_since = t, q[0]
        return best

    # Fresh calls in closed hours never meet the ACD: settle them here, vectorised, and
    # queue the callback requests some of them leave for the first working hour.
    closed = inp.closed
    if closed.any():
        out_np = np.frombuffer(out, dtype=np.uint8)
        out_np[closed] = CLOSED
        del out_np
        if next_open is not None:
            for i in inp.asks.tolist():
                g = sk[i]
                nh = next_open[g][min(int(arr[i] // 3600.0), H - 1)]
                if nh >= 0:
                    j = new_attempt(nh * 3600.0, g, 1, True, i, INF, d_svc(g))
                    heap.append((arr[j], _ARR, j, 0))
            heapify(heap)
    stream = np.nonzero(~closed)[0].tolist()
    st = t_arr[~closed].tolist()
    st.append(_INF)  # sentinel: no more fresh calls
    ai = 0
    next_arr = st[0]
    heap.append((_INF, _END, 0, 0))  # sentinel: the run is over when both are spent
    heapify(heap)
    hpush, hpop = heappush, heappop
    proft = [[prof[t][q >> 1] for q in range(2 * G)] for t in range(T)]
    single = [c[0] if len(c) == 1 else -1 for c in primary]
    single_sc = [1.0 / prof[c[0]][g] if len(c) == 1 else 0.0 for g, c in enumerate(primary)]
    while True:
        if heap[0][0] <= next_arr:
            now, kind, x, y = hpop(heap)
            if kind == 0:  # _DEP: agent of team x finished call y
                fin[y] = now
                if leaving[x] and not draining[x]:  # roster cut: this agent logs off
                    leaving[x] -= 1
                    present[x] -= 1
                    continue
                q = solo_q[x]
                if q is not None:  # one queue to look at
                    while q:
                        i = q[0]
                        if waiting[i]:
                            if dl[i] >= now:
                                break
                            waiting[i] = 0  # hung up unseen: record it at the deadline
                            out[i] = 1
                            fin[i] = dl[i]
                            qlen[sk[i]] -= 1
                        q.popleft()
                    if not q:
                        if leaving[x]:  # closing time and nobody left to answer: go home
                            leaving[x] -= 1
                            present[x] -= 1
                        else:
                            idle[x].append(now)
                        continue
                    i = q.popleft()
                    qlen[solo_g[x]] -= 1
                    ans[i] = now
                    team_of[i] = x
                    out[i] = 0
                    waiting[i] = 0
                    if trace:
                        g_q = solo_g[x]
                        ast_h[g_q] = (3.0 * ast_h[g_q] + now - arr[i]) / 4.0
                    hpush(heap, (now + svc[i] * solo_sc[x], 0, x, i))
                    continue
                else:
                    # Inline of take_next (the hottest path).
                    best_i = -1
                    best_p = -1
                    best_a = INF
                    best_q = 0
                    for qid, d, p in team_q[x]:
                        if p < best_p:
                            break
                        q = queues[qid]
                        while q:
                            i = q[0]
                            if waiting[i]:
                                if dl[i] >= now:
                                    break
                                waiting[i] = 0
                                out[i] = 1
                                fin[i] = dl[i]
                                qlen[sk[i]] -= 1
                            q.popleft()
                        if q:
                            i = q[0]
                            a = arr[i]
                            if d and now - a < d:
                                continue
                            if p > best_p or a < best_a:
                                best_i, best_p, best_a, best_q = i, p, a, qid
                    if best_i < 0:
                        if leaving[x]:
                            leaving[x] -= 1
                            present[x] -= 1
                        else:
                            idle[x].append(now)
                        continue
                    queues[best_q].popleft()
                    i = best_i
                if best_q & 1 == 0:  # live callers only; callbacks are not 'ahead'
                    qlen[sk[i]] -= 1
                ans[i] = now
                team_of[i] = x
                out[i] = 0
                waiting[i] = 0
                if trace:
                    g_q = best_q >> 1
                    ast_h[g_q] = (3.0 * ast_h[g_q] + now - arr[i]) / 4.0
                hpush(heap, (now + svc[i] / proft[x][best_q], 0, x, i))
                continue
            if kind == 1:  # _ABN: a caller who will call again hangs up (y: retries)
                if waiting[x]:
                    waiting[x] = 0
                    out[x] = 1
                    fin[x] = now
                    qlen[sk[x]] -= 1
                    if y:  # patience and handle time are drawn when the retrial arrives
                        j = new_attempt(now + pend.pop(x), sk[x], att[x] + 1, False, x, -1.0,
                                        -1.0)
                        hpush(heap, (arr[j], _ARR, j, 0))
                elif y:
                    del pend[x]
                continue
            if kind == _STAFF:
                h = x
                for t in range(T):
                    # A team going off duty entirely answers the callers already waiting.
                    draining[t] = staff[t][h] == 0 and (present[t] - leaving[t]) > 0
                    delta = staff[t][h] - (present[t] - leaving[t])
                    if delta > 0:
                        back = min(delta, leaving[t])
                        leaving[t] -= back
                        for _ in range(delta - back):
                            present[t] += 1
                            if not take_next(t, now):
                                idle[t].append(now)
                    elif delta < 0:
                        cut = -delta
                        q = idle[t]
                        while cut and q:
                            q.pop()
                            present[t] -= 1
                            cut -= 1
                        leaving[t] += cut
                continue
            if kind == _OVT or kind == _OVS:
                if not still_waiting(x, now):
                    continue
                g2 = y
                if kind == _OVS:
                    queues[2 * g2].append(x)
                    cands = primary[g2]
                else:
                    cands = secondary[g2]
                t = idle_team(cands)
                if t >= 0:
                    idle[t].popleft()
                    qlen[sk[x]] -= 1
                    start(x, t, g2, now)
                continue
            if kind == _END:
                break
            i = x  # _ARR: a retrial or a callback becomes due; agents may be off by now
            g = sk[i]
            h = int(now // 3600.0)
            if h >= H:
                h = H - 1
            if not is_open[g][h]:
                out[i] = 2
                if (cb_after and not iscb[i] and next_open is not None
                        and unif(g) < cb_after):
                    nh = next_open[g][h]
                    if nh >= 0:
                        j = new_attempt(nh * 3600.0, g, att[i], True, i, INF, d_svc(g))
                        hpush(heap, (arr[j], _ARR, j, 0))
                continue
            if pat[i] < 0:  # a retrial: its variates are drawn on arrival, in time order
                p = d_pat(g)
                pat[i] = p
                dl[i] = now + p
                svc[i] = d_svc(g)
            cb = iscb[i]
        else:
            i = stream[ai]
            now = next_arr
            ai += 1
            next_arr = st[ai]
            g = sk[i]
            cb = False
        # ---- an attempt arrives (fresh calls were filtered to open hours up front) ----
        if trace:
            q = queues[2 * g]
            while q and not waiting[q[0]]:
                q.popleft()
            tr_idx.append(i)
            tr_ahead.append(qlen[g])
            tr_h.append(ast_h[g])
            tr_hol.append(now - arr[q[0]] if q else 0.0)
        t = single[g]
        if t >= 0:
            q = idle[t]
            if q:  # the skill's one team has an idle agent
                q.popleft()
                ans[i] = now
                team_of[i] = t
                out[i] = 0
                if trace:
                    ast_h[g] = 0.75 * ast_h[g]
                hpush(heap, (now + svc[i] * single_sc[g], 0, t, i))
                continue
            t = -1
        else:  # longest idle among the qualified teams (inline of idle_team)
            since = INF
            for c in primary[g]:
                q = idle[c]
                if q and q[0] < since:
                    t, since = c, q[0]
        if t >= 0:
            idle[t].popleft()
            ans[i] = now
            team_of[i] = t
            out[i] = 0
            if trace:
                ast_h[g] = 0.75 * ast_h[g]
            hpush(heap, (now + svc[i] / proft[t][2 * g], 0, t, i))
            continue
        if cb_accept and not cb:
            h = int(now // 3600.0)
            thr = cb_thr[g][h if h < H else H - 1]
            if qlen[g] >= thr and count_q:  # settle hang-ups the count may still hold
                hq = dlh[g]
                while hq and hq[0][0] < now:
                    d, j = hpop(hq)
                    if waiting[j]:
                        waiting[j] = 0
                        out[j] = 1
                        fin[j] = d
                        qlen[g] -= 1
            if qlen[g] >= thr and (b.pop() if (b := ubuf[g]) else unif(g)) < cb_accept:
                out[i] = 3  # the callback keeps the caller's place in line
                fin[i] = now
                i = new_attempt(now, g, att[i], True, i, INF, d_svc(g))
        queues[2 * g + cb].append(i)
        waiting[i] = 1
        if cb:
            continue
        qlen[g] += 1
        d = dl[i]
        if d < INF:
            if (retry_p and att[i] < retry_max
                    and (b.pop() if (b := ubuf[g]) else unif(g)) < retry_p):
                # Will call again if they hang up: drawn now, in arrival order, like the
                # fast path does; the hang-up gets its event to place the retrial in time.
                k = att[i] - 1
                lo, hi = delays[k if k < n_delays else n_delays - 1]
                pend[i] = lo + (hi - lo) * unif(g)
                hpush(heap, (d, 1, i, 1))
            elif not lazy:
                hpush(heap, (d, 1, i, 0))
            elif count_q:
                hpush(dlh[g], (d, i))
        if overflow_policy and secondary[g] and d > now + pdelay:
            hpush(heap, (now + pdelay, _OVT, i, g))
        if ovf_to[g] >= 0 and d > now + ovf_after[g]:
            hpush(heap, (now + ovf_after[g], _OVS, i, ovf_to[g]))

    # Still waiting when the last agent went home: they hang up at their deadline.
    for i in np.nonzero(np.frombuffer(bytes(waiting), dtype=np.uint8))[0].tolist():
        if dl[i] < INF:
            out[i] = ABANDONED
            fin[i] = dl[i]
    n = len(arr)
    res = build_result(arr, sk, out, ans, fin, team_of, att, iscb, parent, 0)
    res.events = n + int((res.outcome == ANSWERED).sum()) + int((~np.isnan(res.wait)).sum()) + H
    if trace:
        for name, vals in (("ahead", tr_ahead), ("asterisk_h", tr_h), ("hol", tr_hol)):
            arr_ = np.full(n, np.nan)
            arr_[np.asarray(tr_idx, dtype=np.int64)] = vals
            setattr(res, name, arr_)
    return res
