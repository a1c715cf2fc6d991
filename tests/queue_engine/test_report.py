"""The hourly report: figures from call records equal the simulator's own statistics for the
same run (same definitions), beside the forecast and the published band."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from queue_engine.model import Model
from queue_engine.records import from_simulation
from queue_engine.report import hourly, to_csv
from queue_engine.scenario import load_scenario
from queue_engine.sim import simulate
from queue_engine.stats import Summary, hour_stats

MONDAY = dt.date(2026, 11, 16)


@pytest.fixture(scope="module")
def run():
    sc = load_scenario()
    model = Model.from_scenario(sc)
    res = simulate(model, seed=7)
    return sc, model, res, from_simulation(model, res, MONDAY)


@pytest.mark.parametrize("skill", [None, "tech"])
def test_actual_figures_are_the_simulators_own(run, skill) -> None:
    sc, model, res, rec = run
    st = hour_stats(model, res).values
    col = model.skills.index(skill) if skill else len(model.skills)
    day = MONDAY + dt.timedelta(days=2)  # Wednesday
    rep = hourly(rec, day, sc.centre, skill=skill)
    seen = 0
    for r in rep["rows"]:
        a, wh = r["actual"], 2 * 24 + r["hour"]
        if not a:
            continue
        seen += 1
        assert a["offered"] == st["offered"][wh, col]
        assert a["answered"] == st["answered"][wh, col]
        for k in ("asa", "mean_wait", "sl", "abandon_rate"):
            if a[k] is not None:
                assert a[k] == pytest.approx(st[k][wh, col], abs=1e-3), (k, r["hour"])
    assert seen >= 12


def test_forecast_and_band_beside_actual(run) -> None:
    sc, model, res, rec = run
    fc = Summary({k: v for k, v in hour_stats(model, res).values.items()},
                 {k: np.zeros_like(v) for k, v in hour_stats(model, res).values.items()}, 1)

    class F:  # the Forecast shape the CLI passes
        summary = fc

    rep = hourly(rec, MONDAY, sc.centre, forecast=F())
    noon = next(r for r in rep["rows"] if r["hour"] == 12)
    assert noon["band_s"] == [300.0, 480.0]
    assert noon["forecast"]["asa"] == noon["actual"]["asa"]  # same run on both sides
    assert noon["in_band"] == (300 <= noon["actual"]["asa"] <= 480)
    json.dumps(rep)  # plain data
    text = to_csv(rep)
    assert text.splitlines()[0].startswith("date,skill,hour,actual_offered")
    assert len(text.splitlines()) == len(rep["rows"]) + 1


def test_holiday_has_no_band_nor_week_forecast(run) -> None:
    sc, model, res, rec = run
    hol = dt.date(2026, 11, 4)  # a Wednesday: the records' week starts on the 2nd
    rec = from_simulation(model, res, dt.date(2026, 11, 2))
    rep = hourly(rec, hol, sc.centre, forecast={"skills": model.skills, "mean": {
        "asa": np.ones((168, len(model.skills) + 1))}})
    assert rep["holiday"] and rep["rows"] and all(r["band_s"] is None and r["forecast"] is None
                                  for r in rep["rows"])
