"""Simulator of the contact centre: one replication of a week (or any horizon).

:func:`simulate` draws the replication's random inputs once (:func:`draw_inputs`),
then runs the exact engine that fits each independent part of the centre:

* a part that is a single FCFS queue (one skill, one team of its own) takes the
  Kiefer–Wolfowitz path of :mod:`queue_engine.fcfs` — hourly roster, opening hours,
  retrials and callbacks included;
* a part where skills share agents or overflow runs the general discrete-event loop
  of :mod:`queue_engine.event_loop`;
* by default, when numba is installed, none of that: the compiled event loop
  (:mod:`queue_engine.compiled`) runs the whole centre, faster than either.

Both give the same outcome and wait for every attempt from the same seed (tests check
it call by call); ``SimResult.path`` names what ran: "kiefer-wolfowitz",
"event-loop", or "hybrid: …".
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from queue_engine import compiled
from queue_engine.event_loop import event_loop
from queue_engine.fcfs import fast_path
from queue_engine.model import Model, callback_thresholds, skill_staff
from queue_engine.paths import Inputs
from queue_engine.results import (
    ABANDONED,
    ANSWERED,
    CALLBACK_TAKEN,
    CLOSED,
    UNFINISHED,
    SimResult,
)
from queue_engine.variates import arrivals, durations

__all__ = [
    "ABANDONED",
    "ANSWERED",
    "CALLBACK_TAKEN",
    "CLOSED",
    "UNFINISHED",
    "SimResult",
    "callback_thresholds",
    "draw_inputs",
    "event_loop",
    "simulate",
    "skill_staff",
]


def simulate(model: Model, seed: int = 0, trace: bool = False,
             fast: bool = True, engine: str = "auto") -> SimResult:
    """Run one replication of ``model`` over its horizon; reproducible from ``seed``.

    ``engine="auto"`` runs the compiled event loop (:mod:`queue_engine.compiled`) on the
    whole centre when numba is there and no trace is asked for — faster than any Python
    path, single queues included.  ``engine="python"`` runs the Python engines: ``fast``
    lets the parts of the centre that are single FCFS queues take the exact
    Kiefer–Wolfowitz path; ``fast=False`` forces the Python event loop everywhere.  All
    of them give every attempt the same outcome and wait from the same seed (tests
    compare them call by call).  ``SimResult.path`` names what ran.
    """
    inp = draw_inputs(model, np.random.default_rng(seed))
    if engine == "auto" and not trace and compiled.available():
        res = compiled.run(model, inp)
        res.path = "event-loop (compiled)"
        return res
    if fast and not trace:
        res = fast_path(model, inp)
        if res is not None:
            return res
    res = event_loop(model, inp, trace=trace, lazy=not trace, engine="python")
    res.path = "event-loop"
    return res


def draw_inputs(model: Model, rng: np.random.Generator) -> Inputs:
    """Everything random that is known before the run, the same for every engine."""
    t_arr, g_arr = arrivals(model, rng)
    pat = durations(rng, model.pat_mean, model.pat_cv, g_arr)
    svc = durations(rng, model.aht_mean, model.aht_cv, g_arr)
    H = model.horizon_hours
    if model.open_.all():
        closed = np.zeros(t_arr.size, dtype=bool)
    else:
        hr = np.minimum((t_arr // 3600).astype(np.int64), H - 1)
        closed = ~model.open_[g_arr, hr]
    asks = np.zeros(0, dtype=np.int64)
    if model.cb_after_hours and closed.any():
        cidx = np.nonzero(closed)[0]
        asks = cidx[rng.random(cidx.size) < model.cb_after_hours]
    return Inputs(t_arr, g_arr, pat, svc, closed, asks, rng.spawn(len(model.skills)))


def warm_compiled(announce: Callable[[str], None] | None = None) -> None:
    """Load (or, the first time, compile) the compiled kernel in this process — before forking
    worker processes, so they inherit it instead of each loading or compiling it.

    ``announce`` is told, before and after, when the cache is cold and this will compile
    (10–20 s on two cores) — so a first ``hotline forecast`` says why it is not printing."""
    if not compiled.available():
        return
    from queue_engine.core_numba import cache_state
    from queue_engine.model import mmc_model

    cached, where = cache_state() if announce else (True, "")
    cold = not cached
    if cold:
        announce("compiling the simulation engine (first run only: about 10 s of CPU); "
                 f"cached in {where}")
    t = time.perf_counter()
    model = mmc_model(2, 0.01, 300.0, 600.0, hours=1)
    compiled.run(model, draw_inputs(model, np.random.default_rng(0)))
    if cold:
        announce(f"engine compiled in {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":  # `python -m queue_engine.sim`: compile once, e.g. after installing
    warm_compiled(lambda msg: print(msg, file=sys.stderr))
