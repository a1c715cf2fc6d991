"""Forecast by hour: replications of the week, in parallel, summarised with CIs.

Why simulation and not per-hour Erlang A: the published waits (SPEC §3) come from
a centre whose queue carries over from hour to hour, whose callers retry and
leave callback requests — stationary formulas miss all three.  Erlang A stays
the starting point for staffing (:mod:`queue_engine.staffing`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from queue_engine.model import Model
from queue_engine.scenario import DAYS
from queue_engine.sim import simulate
from queue_engine.stats import METRICS, HourStats, Summary, hour_stats, summarise

__all__ = ["Forecast", "run_forecast", "worker_pool", "working_hours"]


def _one(args: tuple[Model, int]) -> HourStats:
    model, seed = args
    return hour_stats(model, simulate(model, seed=seed))


@dataclass
class Forecast:
    model: Model
    summary: Summary

    def rows(self, skill: str | None = None, hours: list[int] | None = None) -> list[dict]:
        """One dict per hour of the week (default: the centre's working hours)."""
        col = len(self.model.skills) if skill is None else self.model.skills.index(skill)
        hrs = working_hours(self.model) if hours is None else hours
        out = []
        for h in hrs:
            row: dict = {"day": DAYS[(h // 24) % 7], "hour": h % 24, "week_hour": h,
                         "skill": skill or "all"}
            for k in METRICS:
                m = float(self.summary.mean[k][h, col])
                row[k] = None if np.isnan(m) else round(m, 4)
                hw = float(self.summary.half[k][h, col])
                row[k + "_ci"] = None if np.isnan(hw) else round(hw, 4)
            out.append(row)
        return out


def working_hours(model: Model) -> list[int]:
    """Hours where agents answer the ordinary (not 24/7) skill groups."""
    part_time = ~model.open_.all(axis=1)
    mask = model.open_[part_time].any(axis=0) if part_time.any() else model.open_.any(axis=0)
    return [int(h) for h in np.nonzero(mask)[0]]


def run_forecast(
    model: Model, reps: int = 30, seed: int = 0, workers: int | None = None,
    progress: Callable[[int], None] | None = None, pool: Executor | None = None,
) -> Forecast:
    """``reps`` seeded replications (seed, seed+1, …), spread over the machine's cores.

    ``pool``: worker processes to reuse (:func:`worker_pool`) — staffing runs a forecast per
    round and would otherwise start (and load the compiled engine into) new ones each time."""
    workers = workers or min(os.cpu_count() or 1, reps)
    jobs = [(model, seed + r) for r in range(reps)]
    runs: list[HourStats] = []
    if pool is None and (workers <= 1 or reps < 4):
        for j in jobs:
            runs.append(_one(j))
            if progress:
                progress(1)
        return Forecast(model, summarise(runs))
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(worker_pool(workers))
        for res in pool.map(_one, jobs, chunksize=max(1, reps // (workers * 4))):
            runs.append(res)
            if progress:
                progress(1)
    return Forecast(model, summarise(runs))


def worker_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for :func:`run_forecast`, forked after the compiled engine is loaded
    here, so each inherits it instead of loading (or compiling) it again."""
    from queue_engine.sim import warm_compiled

    warm_compiled()
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)
