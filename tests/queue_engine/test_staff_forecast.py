"""The forecast covers the working hours; staffing meets its target."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from queue_engine.forecast import run_forecast, working_hours
from queue_engine.model import Model, mmc_model
from queue_engine.scenario import load_scenario
from queue_engine.staffing import Target, agents_needed, parse_target, plan_staff


@pytest.fixture(scope="module")
def default_forecast():
    sc = load_scenario()
    return sc, run_forecast(Model.from_scenario(sc), reps=4, seed=2024)


# The published bands against the default roster, over several seeds: test_calibration.py.


def test_forecast_covers_working_hours_only(default_forecast) -> None:
    sc, fc = default_forecast
    hours = working_hours(fc.model)
    assert set(hours) == set(sc.centre.bands())
    rows = fc.rows()
    assert len(rows) == 69 and rows[0]["day"] == "mon" and rows[0]["hour"] == 8
    assert all(r["offered"] > 0 and 0 <= r["sl"] <= 1 for r in rows)


def test_parse_target() -> None:
    assert parse_target("80/20") == Target(0.8, 20.0)
    assert parse_target("asa=30,ab=5%") == Target(None, 20.0, 30.0, 0.05)
    with pytest.raises(ValueError, match="expected 80/20"):
        parse_target("fast please")


def test_agents_needed_is_the_fewest() -> None:
    target = Target(0.8, 20.0)
    n = agents_needed(9 / 60, 300, 600, target)
    from queue_engine.erlang import erlang_a

    assert erlang_a(n, 9 / 60, 1 / 300, 1 / 600).service_level >= 0.8
    assert erlang_a(n - 1, 9 / 60, 1 / 300, 1 / 600).service_level < 0.8
    assert n == 49  # the example queue: 50 agents give 84.6 %, 49 just enough


def test_staffing_roster_meets_target_in_simulation() -> None:
    # One day, one skill, demand rising to a lunchtime peak; patience 10 min, lognormal AHT.
    shape = np.array([4, 6, 8, 9, 10, 10, 9, 8, 7, 6, 5, 4], dtype=float)
    base = mmc_model(1, 1.0, 300, 600, hours=12, aht_cv=0.8)
    model = replace(base, lam=(shape / shape.sum() * 6000 / 3600)[None, :], meta={})
    target = parse_target("80/20")
    plan = plan_staff(model, target, reps=4, seed=1)
    assert plan.roster.shape == (1, 12) and plan.agent_hours >= plan.erlang.sum()
    from queue_engine.staffing import dedicated_model

    check = run_forecast(dedicated_model(model, plan.roster), reps=12, seed=500)
    sl = check.summary.mean["sl"][:, 0]
    half = check.summary.half["sl"][:, 0]
    assert (sl + half >= target.sl).all(), list(zip(sl.round(3), half.round(3), strict=True))
    assert sl.mean() >= target.sl


@pytest.mark.parametrize("text", ["80/20", "90/10", "asa=30,ab=5%"])
def test_search_from_a_lower_rate_gives_the_bisections_answer(text: str) -> None:
    # erlang_roster starts each search from the answer for the next lower rate; the answer
    # must be the one a bisection from scratch finds.
    target = parse_target(text)
    prev = 0
    for lam in (0.5 / 60, 3 / 60, 3.2 / 60, 9 / 60, 40 / 60, 41 / 60, 300 / 60):
        fresh = agents_needed(lam, 300, 600, target)
        assert agents_needed(lam, 300, 600, target, at_least=prev) == fresh
        assert prev <= fresh
        prev = fresh


def test_staffing_rounds_share_one_pool_and_match_a_pool_per_round() -> None:
    from queue_engine.forecast import worker_pool
    from queue_engine.staffing import dedicated_model

    model = Model.from_scenario(load_scenario())
    roster = plan_staff(model, parse_target("80/20"), verify=False).roster
    dm = dedicated_model(model, roster)
    own = run_forecast(dm, reps=4, seed=3, workers=2)
    with worker_pool(2) as pool:
        shared = run_forecast(dm, reps=4, seed=3, workers=2, pool=pool)
        again = run_forecast(dm, reps=4, seed=3, workers=2, pool=pool)
    for k in ("sl", "asa", "p90_wait"):
        np.testing.assert_array_equal(own.summary.mean[k], shared.summary.mean[k])
        np.testing.assert_array_equal(own.summary.mean[k], again.summary.mean[k])
