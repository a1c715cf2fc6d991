"""The default what-if: "this many agents for group S at these hours" → the week's forecast.

The same simulator as ``hotline forecast`` (``queue_engine.forecast.run_forecast``) runs in a
worker *process* (spawned, so a multi-threaded server is never forked), never on the event
loop. The agents asked for an hour are shared among the teams qualified for the group in
proportion to their rostered heads (largest remainder), so multi-skill teams stay what they
are; the result has the service's week-forecast shape ``{"skills", "mean": {metric: [H][G+1]}}``.
"""
from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

import numpy as np

METRICS = ("asa", "mean_wait", "sl", "sl2", "abandon_rate", "occupancy", "agents")


def restaff(staff: np.ndarray, qualified: np.ndarray, week_hour: int, heads: int) -> None:
    """Set the qualified teams' heads at ``week_hour`` to sum to ``heads`` (in place)."""
    rows = np.nonzero(qualified)[0]
    if rows.size == 0:
        raise ValueError("no team is qualified for this group")
    cur = staff[rows, week_hour].astype(float)
    share = cur / cur.sum() if cur.sum() > 0 else np.full(rows.size, 1.0 / rows.size)
    exact = share * heads
    new = np.floor(exact).astype(np.int64)
    for i in np.argsort(-(exact - new))[: heads - int(new.sum())]:
        new[i] += 1
    staff[rows, week_hour] = new


def run_whatif(scenario: str | None, skill: str, heads_by_week_hour: dict[int, int],
               reps: int = 3, seed: int = 0) -> dict[str, Any]:
    """Worker process: the scenario with the new heads, simulated ``reps`` times."""
    from queue_engine.forecast import run_forecast
    from queue_engine.model import Model
    from queue_engine.scenario import load_scenario

    model = Model.from_scenario(load_scenario(scenario))
    if skill not in model.skills:
        raise ValueError(f"unknown group {skill!r}")
    g = model.skills.index(skill)
    staff = model.staff.copy()
    for wh, heads in heads_by_week_hour.items():
        restaff(staff, model.prof[:, g] > 0, wh % staff.shape[1], int(heads))
    fc = run_forecast(model.with_staff(staff), reps=reps, seed=seed, workers=1)
    return {"skills": list(model.skills),
            "mean": {k: fc.summary.mean[k].tolist() for k in METRICS if k in fc.summary.mean}}


class WhatIf:
    """``await whatif(skill, {hour: agents})`` for the hours of ``day()`` (local)."""

    def __init__(self, scenario: str | None = None, day: Callable[[], date] | None = None,
                 reps: int = 3) -> None:
        self.scenario, self.day, self.reps = scenario, day or date.today, reps
        self._pool: ProcessPoolExecutor | None = None

    async def __call__(self, skill: str, agents_by_hour: dict[int, int]) -> dict[str, Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1,
                                             mp_context=multiprocessing.get_context("spawn"))
        base = self.day().weekday() * 24
        heads = {base + int(h): int(n) for h, n in agents_by_hour.items()}
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, run_whatif, self.scenario, skill, heads, self.reps)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
