"""`fit` recovers a known scenario from the simulator's call records (issue 11).

The records are what the ``calls`` table holds (:class:`CallRecords`), written by the
simulator for a scenario whose parameters we know; the fit never sees the scenario's
numbers except the roster (a planning input, not demand).  Tolerances are stated here and
in README: volume per skill and weekday ±6 %, handle time mean ±5 % and CV ±0.08,
patience mean ±15 %, retrial probability ±0.05 and delay ranges ±5 %, callback
acceptance ±0.06, after-hours requests ±0.04, self-service share ±0.04, dispersion CV ±0.08.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from queue_engine.fit import fit_scenario
from queue_engine.model import Model
from queue_engine.records import CallRecords, calendar_model, from_simulation
from queue_engine.scenario import (
    DAYS,
    Scenario,
    load_centre,
    scenario_from_mapping,
    with_skill_times,
)
from queue_engine.sim import simulate
from queue_engine.staffing import Target, erlang_roster

MONDAY = dt.date(2026, 10, 26)  # 4 November (Unity Day) falls in the second week
WEEKS = 3
SHARES = {"tech": 0.3}


def _true_scenario(dispersion: dict[str, float] | None = None) -> Scenario:
    centre = load_centre()
    flat = [0.2] * 8 + [6.0] * 4 + [8.0] * 3 + [6.0] * 3 + [4.0] * 2 + [0.2] * 4
    arrivals = {"daily_calls": {"account": 900, "tech": 600, "general": 300},
                "days": {"mon": 1.1, "tue": 1.0, "wed": 1.0, "thu": 0.95, "fri": 0.9,
                         "sat": 0.6, "sun": 0.3},
                "profile": {"weekday": flat, "sat": flat, "sun": flat}}
    if dispersion:
        arrivals["dispersion"] = dispersion
    base = {"name": "known", "centre": centre, "arrivals": arrivals,
            "skill_times": {"account": {"aht": {"mean": 300, "cv": 0.8},
                                        "patience": {"mean": 900, "cv": 1.0}},
                            "tech": {"aht": {"mean": 420, "cv": 1.0},
                                     "patience": {"mean": 1200, "cv": 1.0}},
                            "general": {"aht": {"mean": 240, "cv": 0.6},
                                        "patience": {"mean": 600, "cv": 1.0}}},
            "retrials": {"probability": 0.35, "max_attempts": 5,
                         "delays": [[60, 120], [300, 300], [600, 900]]},
            "callbacks": {"accept": 0.3, "after_hours_request": 0.2}}
    c2 = with_skill_times(centre, base["skill_times"])
    probe = Scenario.model_validate({**base, "centre": c2, "teams": {
        s: {"skills": {s: 1}, "roster": {"weekday": [1] * 24, "sat": [1] * 24,
                                         "sun": [1] * 24}} for s in arrivals["daily_calls"]}})
    m = Model.from_scenario(probe)
    roster = erlang_roster(m, Target(sl=None, asa_max=150))
    teams = {}
    for g, sid in enumerate(m.skills):
        if sid in arrivals["daily_calls"]:
            teams[sid] = {"skills": {sid: 1}, "roster": {
                day: [max(0, int(x) - (2 if sid == "account" else 0))
                      for x in roster[g, d * 24:(d + 1) * 24]] for d, day in enumerate(DAYS)}}
    teams["universal"] = {"skills": {"account": 0.85, "general": 1}, "roster": {
        "weekday": [0] * 8 + [2] * 12 + [0] * 4, "sat": [0] * 9 + [2] * 9 + [0] * 6}}
    return Scenario.model_validate({**base, "centre": c2, "teams": teams})


def _records(sc: Scenario, seed: int) -> CallRecords:
    hol = [d for d in sc.centre.holidays if MONDAY <= d < MONDAY + dt.timedelta(7 * WEEKS)]
    model = calendar_model(Model.from_scenario(sc), MONDAY, WEEKS, hol)
    menus = {"account": "1", "tech": "5", "general": "#"}  # the keys of dialplans/menus.yaml
    return from_simulation(model, simulate(model, seed=seed), MONDAY, menus=menus,
                           self_service=SHARES, seed=seed, sim_seed=seed)


@pytest.fixture(scope="module")
def known() -> tuple[Scenario, object]:
    sc = _true_scenario()
    rec = _records(sc, seed=11)
    return sc, fit_scenario(rec, sc.centre, sc)


def _volume(arr: dict, sid: str) -> np.ndarray:
    f = np.array([arr["days"][d] for d in DAYS])
    return arr["daily_calls"].get(sid, 0.0) * f


def test_volume_per_skill_and_weekday(known) -> None:
    sc, fit = known
    a = fit.scenario["arrivals"]
    for sid in ("account", "tech", "general"):
        true = _volume(sc.arrivals.model_dump(), sid)
        got = _volume(a, sid)
        assert np.all(np.abs(got / true - 1) < 0.06), (sid, got.round(), true.round())
    assert fit.figures["holidays_excluded"] == ["2026-11-04"]
    assert fit.figures["dispersion"]["account"]["cv"] == 0.0  # Poisson not rejected


def test_handle_time_and_patience(known) -> None:
    sc, fit = known
    for sid, t in sc.skill_times.items():
        got = fit.figures["aht"][sid]
        assert abs(got["mean"] / t.aht.mean - 1) < 0.05 and abs(got["cv"] - t.aht.cv) < 0.08
        p = fit.figures["patience"][sid]
        assert abs(p["mean"] / t.patience.mean - 1) < 0.15, (sid, p)
        # the naive estimate a survival method replaces: far below the truth
        assert p["naive_mean_of_abandoned_waits"] < 0.6 * t.patience.mean
    assert fit.figures["aht"]["tech"]["family"] == "exponential"
    assert fit.figures["aht"]["general"]["family"] == "lognormal"


def test_retrials_callbacks_self_service(known) -> None:
    sc, fit = known
    r = fit.scenario["retrials"]
    assert abs(r["probability"] - sc.retrials.probability) < 0.05
    for got, true in zip(r["delays"][:2], sc.retrials.delays[:2], strict=True):
        assert abs(got[0] - true[0]) <= 0.05 * true[1] and abs(got[1] - true[1]) <= 0.05 * true[1]
    cb = fit.scenario["callbacks"]
    assert abs(cb["accept"] - sc.callbacks.accept) < 0.06, fit.figures["callback"]
    assert abs(cb["after_hours_request"] - sc.callbacks.after_hours_request) < 0.04
    ss = fit.figures["self_service"]
    assert abs(ss["main:5:tech"] - SHARES["tech"]) < 0.04 and ss["main:1:account"] == 0.0


def test_over_dispersion_is_detected_and_estimated() -> None:
    sc = _true_scenario({"account": 0.15})
    fit = fit_scenario(_records(sc, seed=5), sc.centre, sc)
    d = fit.figures["dispersion"]
    assert d["account"]["p_value"] < 0.01 and abs(d["account"]["cv"] - 0.15) < 0.08, d
    assert fit.scenario["arrivals"]["dispersion"].get("account") == d["account"]["cv"]


def test_records_round_trip_through_table_rows(known) -> None:
    sc, _ = known
    rec = _records(sc, seed=3)
    back = CallRecords.from_rows(list(rec.rows()))
    assert len(back) == len(rec)
    assert np.allclose(back.wait, rec.wait, equal_nan=True, atol=1e-5)
    assert list(back.outcome) == list(rec.outcome)


def test_forecast_from_fitted_matches_forecast_from_truth(known) -> None:
    """Centre-wide ASA, SL and abandonment of every working hour: the two forecasts differ
    by no more than their confidence intervals allow (95 % half-widths added, in quadrature
    ×1.5 for the fit's own estimation error) in ≥ 90 % of hours."""
    from queue_engine.forecast import run_forecast, working_hours

    sc, fit = known
    fitted = scenario_from_mapping(fit.scenario, sc.centre)
    a = run_forecast(Model.from_scenario(sc), reps=6, seed=100, workers=1)
    b = run_forecast(Model.from_scenario(fitted), reps=6, seed=200, workers=1)
    hours = working_hours(a.model)
    for metric in ("asa", "sl", "abandon_rate"):
        ma, mb = a.summary.mean[metric][hours, -1], b.summary.mean[metric][hours, -1]
        ha, hb = a.summary.half[metric][hours, -1], b.summary.half[metric][hours, -1]
        ok = np.abs(ma - mb) <= 1.5 * np.hypot(ha, hb) + 1e-9
        assert ok.mean() >= 0.9, (metric, ok.mean(), np.c_[ma, mb, ha, hb][~ok].round(3))


def test_with_dispersion_reaches_the_simulators_model():
    from queue_engine.model import Model
    from queue_engine.scenario import load_scenario, with_dispersion

    sc = load_scenario()
    assert with_dispersion(sc, 0.0) is sc
    model = Model.from_scenario(with_dispersion(sc, 0.1))
    assert model.arr_cv is not None and set(model.arr_cv.tolist()) == {0.1}
