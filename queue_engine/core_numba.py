"""The general event loop compiled with numba: the same rules, the same numbers, ~20x faster.

:mod:`queue_engine.event_loop` is the reference; this kernel is a line-by-line
transcription of its lazy, untraced loop (skills sharing teams, priorities, overflow and
the overflow policy, roster changes, retrials, offered and after-hours callbacks) over
flat arrays:

* the event heap is three parallel arrays (time, kind·2⁴⁰ + a, b), ordered exactly as
  the Python heap orders its ``(time, kind, a, b)`` tuples;
* a queue is a singly linked list threaded through the attempts (an overflowed caller
  sits in a second queue through an extra node), a team's idle agents a ring buffer of
  the times they became idle;
* in-run random numbers come from tables drawn ahead per (skill, kind) stream
  (:mod:`queue_engine.draws`), read in the order the Python engine draws them lazily.
  If a table, the attempt arrays or a ring run out, the kernel stops and says which;
  the driver grows it (drawing on from the same streams) and runs again from the start
  — deterministic, so the result is the one a large-enough first run would give.

Tests compare it with the Python loop call by call (tests/queue_engine/test_engine_*).
numba compiles on first use (~10 s of CPU; the CLI says so, :func:`cache_state`) and caches
the machine code beside the module, or where the service can write — ``NUMBA_CACHE_DIR``,
else ``$XDG_CACHE_HOME/hotline/numba`` for a read-only install, a temporary directory last.
``python -m queue_engine.sim`` compiles it once, e.g. right after installing.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

__all__ = ["available", "cache_state", "kernel"]


def _cache_dir() -> None:
    """numba caches in ``__pycache__`` beside the module; if that is not writable (a system
    install, a service user), in the user's cache directory (``$XDG_CACHE_HOME/hotline/numba``,
    kept across reboots), and only if that fails either in a temporary directory — never
    compiling on every run.  ``NUMBA_CACHE_DIR`` set by the operator wins."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    user = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "hotline", "numba")
    for i, where in enumerate((here, user)):
        try:
            os.makedirs(where, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=where):
                pass
        except OSError:
            continue
        if i:
            os.environ["NUMBA_CACHE_DIR"] = where
        return
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        tempfile.gettempdir(), f"hotline-numba-{os.getuid()}")


def cache_state() -> tuple[bool, str]:
    """(whether numba's cache holds the kernel compiled from this source, where it caches):
    a cold cache means the next run compiles for 10–20 s."""
    try:
        cache = kernel._cache
        return bool(cache._cache_file._load_index()), str(cache._cache_path)
    except Exception:  # noqa: BLE001 — numba internals: unknown means "say nothing"
        return True, ""


try:
    _cache_dir()
    import heapq

    from numba import njit
except ImportError:  # numba is optional: the Python loop runs everything without it
    njit = None

_INF = math.inf
_KS = 1 << 40  # heap key: kind * _KS + a, so (time, key, b) orders as (time, kind, a, b)
OK, NEED_ATTEMPTS, NEED_NODES, NEED_U, NEED_D, NEED_RING, NEED_HEAP = 0, 1, 2, 3, 4, 5, 6


def available() -> bool:
    return njit is not None and os.environ.get("HOTLINE_ENGINE", "") != "python"


def _kernel(
    st, stream, asks_g, asks_h,
    arr, sk, dl, svc, att, iscb, ans, fin, team_of, out, waiting, parent, nxt, ov_att, pend,
    n_fresh, prof, qprio, tq_off, tq_q, tq_d, tq_p, solo, solo_sc, single, single_sc,
    pr_off, pr_t, sc_off, sc_t, is_open, next_open, staff, ovf_to, ovf_after, cb_thr,
    retry_p, retry_max, delays, cb_accept, cb_after, overflow_policy, pdelay,
    U, E, Z, pk, pa, pb, vk, va, vb, ring_off, ring_cap, heap_cap, G, T, H,
):
    """Returns (status, attempts).  Arguments are laid out by :func:`kernel`."""
    INF = np.inf
    cap = arr.size
    ovcap = ov_att.size
    nU, nE, nZ = U.shape[1], E.shape[1], Z.shape[1]
    ui = np.zeros(G, np.int64)
    ei = np.zeros(G, np.int64)
    zi = np.zeros(G, np.int64)
    qhead = np.full(2 * G, -1, np.int64)
    qtail = np.full(2 * G, -1, np.int64)
    qlen = np.zeros(G, np.int64)
    ring = np.empty(ring_off[T])
    ihead = np.zeros(T, np.int64)
    icnt = np.zeros(T, np.int64)
    present = np.zeros(T, np.int64)
    leaving = np.zeros(T, np.int64)
    draining = np.zeros(T, np.bool_)
    n_del = delays.shape[0]
    count_q = cb_accept > 0.0
    n = n_fresh
    n_ov = 0
    dlh = [[(0.0, 0)] for _ in range(G)]
    for g in range(G):
        dlh[g].pop()
    ht = np.empty(heap_cap)
    hk = np.empty(heap_cap, np.int64)
    hy = np.empty(heap_cap, np.int64)
    hn = 0
    for h in range(H):
        hn = _hpush(ht, hk, hy, hn, h * 3600.0, 3 * _KS + h, 0)
        if hn < 0:
            return NEED_HEAP, n
    # after-hours callback requests of fresh calls, for the first open hour
    for k in range(asks_g.size):
        i = asks_g[k]
        g = np.int64(sk[i])
        nh = next_open[g, asks_h[k]]
        if nh >= 0:
            if n >= cap:
                return NEED_ATTEMPTS, n
            kd = vk[g]
            if kd == 2:
                s = INF
            elif kd == 0:
                if ei[g] >= nE:
                    return NEED_D, n
                s = va[g] * E[g, ei[g]]
                ei[g] += 1
            else:
                if zi[g] >= nZ:
                    return NEED_D, n
                s = math.exp(va[g] + vb[g] * Z[g, zi[g]])
                zi[g] += 1
            j = n
            n += 1
            arr[j] = nh * 3600.0
            sk[j] = g
            dl[j] = INF
            svc[j] = s
            att[j] = 1
            iscb[j] = True
            parent[j] = i
            hn = _hpush(ht, hk, hy, hn, arr[j], 2 * _KS + j, 0)
            if hn < 0:
                return NEED_HEAP, n
    hn = _hpush(ht, hk, hy, hn, INF, 9 * _KS, 0)
    if hn < 0:
        return NEED_HEAP, n
    ai = 0
    next_arr = st[0]
    while True:
        cb = False
        if ht[0] <= next_arr:
            now = ht[0]
            kind = hk[0] >> 40
            x = hk[0] & (_KS - 1)
            y = hy[0]
            hn = _hpop(ht, hk, hy, hn)
            if kind == 0:  # an agent of team x finished call y
                fin[y] = now
                if leaving[x] > 0 and not draining[x]:
                    leaving[x] -= 1
                    present[x] -= 1
                    continue
                best_i = -1
                best_q = 0
                if solo[x] >= 0:
                    q = solo[x]
                    while qhead[q] >= 0:
                        node = qhead[q]
                        i = node if node < cap else np.int64(ov_att[node - cap])
                        if waiting[i]:
                            if dl[i] >= now:
                                break
                            waiting[i] = 0
                            out[i] = 1
                            fin[i] = dl[i]
                            qlen[sk[i]] -= 1
                        qhead[q] = nxt[node]
                    if qhead[q] < 0:
                        qtail[q] = -1
                        if leaving[x] > 0:
                            leaving[x] -= 1
                            present[x] -= 1
                        else:
                            c = ring_cap[x]
                            if icnt[x] >= c:
                                return NEED_RING, n
                            ring[ring_off[x] + (ihead[x] + icnt[x]) % c] = now
                            icnt[x] += 1
                        continue
                    node = qhead[q]
                    i = node if node < cap else np.int64(ov_att[node - cap])
                    qhead[q] = nxt[node]
                    if qhead[q] < 0:
                        qtail[q] = -1
                    qlen[q >> 1] -= 1
                    ans[i] = now
                    team_of[i] = x
                    out[i] = 0
                    waiting[i] = 0
                    hn = _hpush(ht, hk, hy, hn, now + svc[i] * solo_sc[x], 0 * _KS + x, i)
                    if hn < 0:
                        return NEED_HEAP, n
                    continue
                # no call at all when every queue of the team is empty (most departures)
                for k in range(tq_off[x], tq_off[x + 1]):
                    if qhead[tq_q[k]] >= 0:
                        best_i, best_q = _best(x, now, tq_off, tq_q, tq_d, tq_p, qhead, qtail,
                                               nxt, ov_att, cap, waiting, dl, out, fin, qlen,
                                               sk, arr)
                        break
                if best_i < 0:
                    if leaving[x] > 0:
                        leaving[x] -= 1
                        present[x] -= 1
                    else:
                        c = ring_cap[x]
                        if icnt[x] >= c:
                            return NEED_RING, n
                        ring[ring_off[x] + (ihead[x] + icnt[x]) % c] = now
                        icnt[x] += 1
                    continue
                _popleft(best_q, qhead, qtail, nxt)
                i = best_i
                if best_q & 1 == 0:
                    qlen[sk[i]] -= 1
                ans[i] = now
                team_of[i] = x
                out[i] = 0
                waiting[i] = 0
                hn = _hpush(ht, hk, hy, hn, now + svc[i] / prof[x, best_q >> 1], 0 * _KS + x, i)
                if hn < 0:
                    return NEED_HEAP, n
                continue
            if kind == 1:  # a caller who will call again hangs up (y: retries)
                if waiting[x]:
                    waiting[x] = 0
                    out[x] = 1
                    fin[x] = now
                    qlen[sk[x]] -= 1
                    if y:
                        if n >= cap:
                            return NEED_ATTEMPTS, n
                        j = n
                        n += 1
                        arr[j] = now + pend[x]
                        sk[j] = sk[x]
                        dl[j] = -1.0
                        svc[j] = -1.0
                        att[j] = att[x] + 1
                        iscb[j] = False
                        parent[j] = x
                        hn = _hpush(ht, hk, hy, hn, arr[j], 2 * _KS + j, 0)
                        if hn < 0:
                            return NEED_HEAP, n
                continue
            if kind == 3:  # roster change at hour x
                h = x
                for t in range(T):
                    draining[t] = staff[t, h] == 0 and (present[t] - leaving[t]) > 0
                    delta = staff[t, h] - (present[t] - leaving[t])
                    if delta > 0:
                        back = min(delta, leaving[t])
                        leaving[t] -= back
                        for _ in range(delta - back):
                            present[t] += 1
                            bi, bq = _best(t, now, tq_off, tq_q, tq_d, tq_p, qhead, qtail, nxt,
                                           ov_att, cap, waiting, dl, out, fin, qlen, sk, arr)
                            if bi < 0:
                                c = ring_cap[t]
                                if icnt[t] >= c:
                                    return NEED_RING, n
                                ring[ring_off[t] + (ihead[t] + icnt[t]) % c] = now
                                icnt[t] += 1
                            else:
                                _popleft(bq, qhead, qtail, nxt)
                                if bq & 1 == 0:
                                    qlen[sk[bi]] -= 1
                                ans[bi] = now
                                team_of[bi] = t
                                out[bi] = 0
                                waiting[bi] = 0
                                hn = _hpush(ht, hk, hy, hn, now + svc[bi] / prof[t, bq >> 1], 0 * _KS + t, bi)
                                if hn < 0:
                                    return NEED_HEAP, n
                    elif delta < 0:
                        cut = -delta
                        while cut and icnt[t] > 0:
                            icnt[t] -= 1
                            present[t] -= 1
                            cut -= 1
                        leaving[t] += cut
                continue
            if kind == 4 or kind == 5:  # overflow: policy delay (4) or to another skill (5)
                if not waiting[x]:
                    continue
                if dl[x] < now:
                    waiting[x] = 0
                    out[x] = 1
                    fin[x] = dl[x]
                    qlen[sk[x]] -= 1
                    continue
                g2 = y
                if kind == 5:
                    if n_ov >= ovcap:
                        return NEED_NODES, n
                    node = cap + n_ov
                    ov_att[n_ov] = x
                    n_ov += 1
                    _append(2 * g2, node, qhead, qtail, nxt)
                    c0, c1, ct = pr_off[g2], pr_off[g2 + 1], pr_t
                else:
                    c0, c1, ct = sc_off[g2], sc_off[g2 + 1], sc_t
                t = -1
                since = INF
                for k in range(c0, c1):
                    c = ct[k]
                    if icnt[c] > 0 and ring[ring_off[c] + ihead[c]] < since:
                        t = c
                        since = ring[ring_off[c] + ihead[c]]
                if t >= 0:
                    ihead[t] = (ihead[t] + 1) % ring_cap[t]
                    icnt[t] -= 1
                    qlen[sk[x]] -= 1
                    ans[x] = now
                    team_of[x] = t
                    out[x] = 0
                    waiting[x] = 0
                    hn = _hpush(ht, hk, hy, hn, now + svc[x] / prof[t, g2], 0 * _KS + t, x)
                    if hn < 0:
                        return NEED_HEAP, n
                continue
            if kind == 9:
                break
            i = x  # a retrial or a callback becomes due
            g = np.int64(sk[i])
            h = int(now // 3600.0)
            if h >= H:
                h = H - 1
            if not is_open[g, h]:
                out[i] = 2
                if cb_after > 0.0 and not iscb[i]:
                    if ui[g] >= nU:
                        return NEED_U, n
                    v = U[g, ui[g]]
                    ui[g] += 1
                    if v < cb_after:
                        nh = next_open[g, h]
                        if nh >= 0:
                            if n >= cap:
                                return NEED_ATTEMPTS, n
                            s = _dur(g, vk, va, vb, E, Z, ei, zi)
                            if math.isnan(s):
                                return NEED_D, n
                            j = n
                            n += 1
                            arr[j] = nh * 3600.0
                            sk[j] = g
                            dl[j] = INF
                            svc[j] = s
                            att[j] = att[i]
                            iscb[j] = True
                            parent[j] = i
                            hn = _hpush(ht, hk, hy, hn, arr[j], 2 * _KS + j, 0)
                            if hn < 0:
                                return NEED_HEAP, n
                continue
            if svc[i] < 0:  # a retrial: its variates are drawn on arrival, in time order
                p = _dur(g, pk, pa, pb, E, Z, ei, zi)
                if math.isnan(p):
                    return NEED_D, n
                dl[i] = now + p
                s = _dur(g, vk, va, vb, E, Z, ei, zi)
                if math.isnan(s):
                    return NEED_D, n
                svc[i] = s
            cb = iscb[i]
        else:
            i = stream[ai]
            now = next_arr
            ai += 1
            next_arr = st[ai]
            g = np.int64(sk[i])
        # ---- an attempt arrives ----
        t = single[g]
        if t >= 0:
            if icnt[t] > 0:
                ihead[t] = (ihead[t] + 1) % ring_cap[t]
                icnt[t] -= 1
                ans[i] = now
                team_of[i] = t
                out[i] = 0
                hn = _hpush(ht, hk, hy, hn, now + svc[i] * single_sc[g], 0 * _KS + t, i)
                if hn < 0:
                    return NEED_HEAP, n
                continue
            t = -1
        else:
            since = INF
            for k in range(pr_off[g], pr_off[g + 1]):
                c = pr_t[k]
                if icnt[c] > 0 and ring[ring_off[c] + ihead[c]] < since:
                    t = c
                    since = ring[ring_off[c] + ihead[c]]
        if t >= 0:
            ihead[t] = (ihead[t] + 1) % ring_cap[t]
            icnt[t] -= 1
            ans[i] = now
            team_of[i] = t
            out[i] = 0
            hn = _hpush(ht, hk, hy, hn, now + svc[i] / prof[t, g], 0 * _KS + t, i)
            if hn < 0:
                return NEED_HEAP, n
            continue
        if cb_accept > 0.0 and not cb:
            h = int(now // 3600.0)
            thr = cb_thr[g, h if h < H else H - 1]
            if qlen[g] >= thr and count_q:
                hq = dlh[g]
                while len(hq) > 0 and hq[0][0] < now:
                    d, j = heapq.heappop(hq)
                    if waiting[j]:
                        waiting[j] = 0
                        out[j] = 1
                        fin[j] = d
                        qlen[g] -= 1
            if qlen[g] >= thr:
                if ui[g] >= nU:
                    return NEED_U, n
                v = U[g, ui[g]]
                ui[g] += 1
                if v < cb_accept:
                    out[i] = 3
                    fin[i] = now
                    if n >= cap:
                        return NEED_ATTEMPTS, n
                    s = _dur(g, vk, va, vb, E, Z, ei, zi)
                    if math.isnan(s):
                        return NEED_D, n
                    j = n
                    n += 1
                    arr[j] = now
                    sk[j] = g
                    dl[j] = INF
                    svc[j] = s
                    att[j] = att[i]
                    iscb[j] = True
                    parent[j] = i
                    i = j
        _append(2 * g + (1 if cb else 0), i, qhead, qtail, nxt)
        waiting[i] = 1
        if cb:
            continue
        qlen[g] += 1
        d = dl[i]
        if d < INF:
            retried = False
            if retry_p > 0.0 and att[i] < retry_max:
                if ui[g] >= nU:
                    return NEED_U, n
                v = U[g, ui[g]]
                ui[g] += 1
                if v < retry_p:
                    retried = True
                    k = att[i] - 1
                    if k >= n_del:
                        k = n_del - 1
                    lo = delays[k, 0]
                    hi = delays[k, 1]
                    if ui[g] >= nU:
                        return NEED_U, n
                    pend[i] = lo + (hi - lo) * U[g, ui[g]]
                    ui[g] += 1
                    hn = _hpush(ht, hk, hy, hn, d, 1 * _KS + i, 1)
                    if hn < 0:
                        return NEED_HEAP, n
            if not retried and count_q:
                heapq.heappush(dlh[g], (d, i))
        if overflow_policy and sc_off[g + 1] > sc_off[g] and d > now + pdelay:
            hn = _hpush(ht, hk, hy, hn, now + pdelay, 4 * _KS + i, g)
            if hn < 0:
                return NEED_HEAP, n
        if ovf_to[g] >= 0 and d > now + ovf_after[g]:
            hn = _hpush(ht, hk, hy, hn, now + ovf_after[g], 5 * _KS + i, ovf_to[g])
            if hn < 0:
                return NEED_HEAP, n
    # still waiting when the last agent went home: they hang up at their deadline
    for i in range(n):
        if waiting[i] and dl[i] < INF:
            out[i] = 1
            fin[i] = dl[i]
    # answer and finish times -> waits and handle times, in place
    for i in range(n):
        o = out[i]
        a = ans[i]
        f = fin[i]
        if o == 0:
            ans[i] = a - arr[i]
            fin[i] = f - a if f >= 0 else np.nan
        elif o == 1:
            ans[i] = f - arr[i]
            fin[i] = np.nan
        else:
            ans[i] = np.nan
            fin[i] = np.nan
    return OK, n


def _dur(g, kind, a, b, E, Z, ei, zi):
    """A duration of skill g (exponential, lognormal or never); nan if the table ran out."""
    k = kind[g]
    if k == 2:
        return np.inf
    if k == 0:
        j = ei[g]
        if j >= E.shape[1]:
            return np.nan
        ei[g] = j + 1
        return a[g] * E[g, j]
    j = zi[g]
    if j >= Z.shape[1]:
        return np.nan
    zi[g] = j + 1
    return math.exp(a[g] + b[g] * Z[g, j])


def _less(t1, k1, y1, t2, k2, y2):
    return t1 < t2 or (t1 == t2 and (k1 < k2 or (k1 == k2 and y1 < y2)))


def _hpush(ht, hk, hy, hn, t, k, y):
    """Push onto the event heap (three parallel arrays); the new size, -1 if full."""
    if hn == ht.size:
        return -1
    i = hn
    while i > 0:
        p = (i - 1) >> 1
        if _less(t, k, y, ht[p], hk[p], hy[p]):
            ht[i] = ht[p]
            hk[i] = hk[p]
            hy[i] = hy[p]
            i = p
        else:
            break
    ht[i] = t
    hk[i] = k
    hy[i] = y
    return hn + 1


def _hpop(ht, hk, hy, hn):
    """Drop the heap's top; returns the new size."""
    hn -= 1
    t, k, y = ht[hn], hk[hn], hy[hn]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= hn:
            break
        if c + 1 < hn and _less(ht[c + 1], hk[c + 1], hy[c + 1], ht[c], hk[c], hy[c]):
            c += 1
        if _less(ht[c], hk[c], hy[c], t, k, y):
            ht[i] = ht[c]
            hk[i] = hk[c]
            hy[i] = hy[c]
            i = c
        else:
            break
    ht[i] = t
    hk[i] = k
    hy[i] = y
    return hn


def _append(q, node, qhead, qtail, nxt):
    nxt[node] = -1
    if qtail[q] < 0:
        qhead[q] = node
    else:
        nxt[qtail[q]] = node
    qtail[q] = node


def _popleft(q, qhead, qtail, nxt):
    qhead[q] = nxt[qhead[q]]
    if qhead[q] < 0:
        qtail[q] = -1


def _best(t, now, tq_off, tq_q, tq_d, tq_p, qhead, qtail, nxt, ov_att, cap, waiting, dl, out,
          fin, qlen, sk, arr):
    """The call a free agent of team t takes (the Python loop's ``take_next``):
    (attempt, queue) or (-1, 0); hang-ups found at queue heads are recorded."""
    best_i = -1
    best_p = -1
    best_a = np.inf
    best_q = 0
    for k in range(tq_off[t], tq_off[t + 1]):
        p = tq_p[k]
        if p < best_p:
            break
        q = tq_q[k]
        while qhead[q] >= 0:
            node = qhead[q]
            i = node if node < cap else np.int64(ov_att[node - cap])
            if waiting[i]:
                if dl[i] >= now:
                    break
                waiting[i] = 0
                out[i] = 1
                fin[i] = dl[i]
                qlen[sk[i]] -= 1
            qhead[q] = nxt[node]
        if qhead[q] < 0:
            qtail[q] = -1
            continue
        node = qhead[q]
        i = node if node < cap else np.int64(ov_att[node - cap])
        a = arr[i]
        d = tq_d[k]
        if d != 0.0 and now - a < d:
            continue
        if p > best_p or a < best_a:
            best_i = i
            best_p = p
            best_a = a
            best_q = q
    return best_i, best_q


if njit is not None:
    # Helpers that take arrays are compiled without numba's runtime (_nrt=False: they allocate
    # nothing): with it, every call — inlined or not — paid an atomic reference count up and
    # down per array argument; _best's 15 arrays cost ~100 ns per departure, half the time
    # of a two-skill centre.
    _dur = njit(cache=True, _nrt=False)(_dur)
    _append = njit(cache=True, _nrt=False)(_append)
    _less = njit(cache=True, inline="always")(_less)
    _hpush = njit(cache=True)(_hpush)
    _hpop = njit(cache=True)(_hpop)
    _popleft = njit(cache=True, _nrt=False)(_popleft)
    _best = njit(cache=True, _nrt=False)(_best)
    kernel = njit(cache=True)(_kernel)
else:
    kernel = None
