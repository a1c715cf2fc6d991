"""Exact fast path for a plain FCFS queue (one skill, one team, constant roster)."""

from __future__ import annotations

from heapq import heapreplace

import numpy as np

from queue_engine.model import Model
from queue_engine.results import SimResult

__all__ = ["fast_path", "is_plain_fcfs", "simulate_fcfs"]


def is_plain_fcfs(model: Model) -> bool:
    """One skill, one team, constant roster, always open, nobody retries or calls back."""
    return (len(model.skills) == 1 and len(model.teams) == 1 and model.prof[0, 0] > 0
            and bool((model.staff == model.staff[0, 0]).all()) and model.staff[0, 0] > 0
            and bool(model.open_.all()) and model.retry_p == 0 and model.cb_accept == 0
            and model.cb_after_hours == 0 and model.overflow_to[0] < 0)


def simulate_fcfs(model: Model, t_arr: np.ndarray, g_arr: np.ndarray, pat_a: np.ndarray,
                   svc_a: np.ndarray) -> SimResult:
    """Kiefer–Wolfowitz recursion for FCFS c-server queues with abandonment.

    Under FCFS a caller's offered wait is fixed at arrival: the earliest time an agent
    is free after everyone ahead was placed.  So the caller is answered iff that wait
    is below their patience, and agents' free times are a heap of c floats — one
    ``heapreplace`` per answered call instead of three heap events.  Same variates, the
    same waits as the event loop (a test checks it call by call).
    """
    c = int(model.staff[0, 0])
    scale = 1.0 / float(model.prof[0, 0])
    free = [0.0] * c
    n = t_arr.size
    arr = t_arr.tolist()
    pat = pat_a.tolist()
    svc = (svc_a * scale).tolist()
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
            if v < pat[i]:
                wait[i] = v
                hrep(free, f + svc[i])
            else:
                wait[i] = pat[i]
                out[i] = 1
    oc = np.frombuffer(bytes(out), dtype=np.uint8).copy()
    w = np.asarray(wait)
    service = np.where(oc == 0, svc_a * scale, np.nan)
    return SimResult(
        arrival=t_arr, skill=g_arr, outcome=oc, wait=w, service=service,
        team=np.where(oc == 0, 0, -1), attempt=np.ones(n, dtype=np.int64),
        callback=np.zeros(n, dtype=bool), events=3 * n, parent=np.full(n, -1, dtype=np.int64),
    )


def fast_path(model: Model, t_arr: np.ndarray, g_arr: np.ndarray, pat_a: np.ndarray,
              svc_a: np.ndarray, rng: np.random.Generator) -> SimResult | None:
    """The exact fast path for ``model`` if one applies, else None (use the event loop)."""
    if is_plain_fcfs(model):
        res = simulate_fcfs(model, t_arr, g_arr, pat_a, svc_a)
        res.path = "kiefer-wolfowitz"
        return res
    return None
