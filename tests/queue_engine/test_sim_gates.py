"""Correctness gates: the simulator agrees with Erlang A / C within the replication CI.

Both the general event loop and the Kiefer–Wolfowitz fast path are checked; fixed seeds
keep the test deterministic.  Each replication drops its first hour (empty start).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from queue_engine.erlang import erlang_a, erlang_c_metrics
from queue_engine.model import mmc_model
from queue_engine.sim import ABANDONED, ANSWERED, simulate

LAM, AHT, PAT = 9 / 60, 300.0, 600.0


ENGINES = [("python", True), ("python", False), ("auto", True)]
ENGINE_IDS = ["kiefer-wolfowitz", "event-loop", "compiled"]


def _reps(model, reps: int, engine: tuple[str, bool]) -> np.ndarray:
    out = []
    for seed in range(reps):
        r = simulate(model, seed=100 + seed, engine=engine[0], fast=engine[1])
        keep = r.arrival > 3600.0
        w = r.wait[keep]
        out.append([np.mean(w), np.mean(w > 0), np.mean(r.outcome[keep] == ABANDONED)])
    return np.asarray(out)


def _inside_ci(samples: np.ndarray, truth: float, level: float = 0.99) -> tuple[bool, str]:
    n = samples.size
    half = stats.t.ppf(0.5 + level / 2, n - 1) * samples.std(ddof=1) / np.sqrt(n)
    return abs(samples.mean() - truth) <= half, f"{samples.mean():.4f} ± {half:.4f} vs {truth:.4f}"


@pytest.mark.parametrize("engine", ENGINES, ids=ENGINE_IDS)
def test_erlang_a_gate(engine: tuple[str, bool]) -> None:
    model = mmc_model(50, LAM, AHT, PAT, hours=12)
    res = _reps(model, 16, engine)
    exact = erlang_a(50, LAM, 1 / AHT, 1 / PAT)
    for col, truth in enumerate((exact.mean_wait, exact.p_wait, exact.p_abandon)):
        ok, msg = _inside_ci(res[:, col], truth)
        assert ok, msg


@pytest.mark.parametrize("engine", ENGINES, ids=ENGINE_IDS)
def test_erlang_c_gate(engine: tuple[str, bool]) -> None:
    model = mmc_model(50, LAM, AHT, None, hours=12)
    res = _reps(model, 16, engine)
    exact = erlang_c_metrics(50, LAM, 1 / AHT)
    for col, truth in enumerate((exact.mean_wait, exact.p_wait)):
        ok, msg = _inside_ci(res[:, col], truth)
        assert ok, msg
    assert res[:, 2].max() == 0.0  # nobody abandons without patience limits


def test_fast_path_is_the_event_loop_call_by_call() -> None:
    model = mmc_model(20, 0.06, AHT, PAT, hours=6, aht_cv=0.7)  # lognormal handle times
    a = simulate(model, seed=5, fast=True, engine="python")
    b = simulate(model, seed=5, fast=False, engine="python")
    c = simulate(model, seed=5)
    assert a.path == "kiefer-wolfowitz" and c.path == "event-loop (compiled)"
    for r in (b, c):
        assert np.array_equal(a.outcome, r.outcome)
        np.testing.assert_allclose(a.wait, r.wait, atol=1e-6)


def test_reproducible_from_seed() -> None:
    model = mmc_model(10, 0.03, AHT, PAT, hours=3)
    a, b = simulate(model, seed=9, fast=False), simulate(model, seed=9, fast=False)
    np.testing.assert_array_equal(a.wait, b.wait)
    c = simulate(model, seed=10, fast=False)
    assert a.arrival.size != c.arrival.size or not np.array_equal(a.arrival, c.arrival)


def test_priority_class_waits_less_under_load() -> None:
    from dataclasses import replace

    base = mmc_model(10, 0.034, AHT, PAT, hours=8)
    # Two skills sharing one team; skill 1 has top priority and a fifth of the calls.
    model = replace(
        base, skills=["low", "high"], lam=np.vstack([base.lam * 0.8, base.lam * 0.2]),
        prof=np.ones((1, 2)), priority=np.array([1, 9]),
        aht_mean=np.array([AHT, AHT]), aht_cv=np.array([1.0, 1.0]),
        pat_mean=np.array([PAT, PAT]), pat_cv=np.array([1.0, 1.0]),
        open_=np.ones((2, 8), dtype=bool), overflow_to=np.array([-1, -1]),
        overflow_after=np.array([0.0, 0.0]), meta={},
    )
    r = simulate(model, seed=3)
    ans = r.outcome == ANSWERED
    low = np.nanmean(r.wait[ans & (r.skill == 0)])
    high = np.nanmean(r.wait[ans & (r.skill == 1)])
    assert high < 0.5 * low
