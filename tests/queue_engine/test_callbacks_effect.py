"""Callbacks' effect in the simulator (issue 9), read through the bench's side-by-side run:
callers who accept a callback leave the live line and are served by the callback, and
after-hours requests add calls served; paired by seed, judged by 95 % confidence intervals.

Measured, not assumed: in the default scenario the live line's abandonment does NOT fall
with callbacks on (completed callbacks take agents' time, after-hours requests add work at
opening), so no test claims it does; bench/queue_engine/callbacks_effect.py prints it."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from queue_engine.model import Model
from queue_engine.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SEED = 5000  # not the bench's default seeds


def _bench():
    spec = importlib.util.spec_from_file_location(
        "callbacks_effect", ROOT / "bench" / "queue_engine" / "callbacks_effect.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def effect():
    return _bench().compare(Model.from_scenario(load_scenario()), reps=8, seed=SEED)


def test_off_means_no_callback_at_all(effect):
    week = effect["periods"]["week"]
    for f in ("cb_requested", "cb_completed", "left_line"):
        assert week[f]["off"][0] == 0
    assert week["cb_requested"]["on"][0] > 0


def test_callers_who_accept_leave_the_live_line_and_are_served_by_the_callback(effect):
    week = effect["periods"]["week"]
    left, left_h = week["left_line"]["diff"]
    answered, answered_h = week["answered"]["diff"]
    assert left - left_h > 0  # some callers leave the live line for a callback
    assert answered + answered_h < 0  # ... so fewer are answered live
    # a callback is requested by every caller who left the line, plus after-hours requests
    assert week["cb_requested"]["on"][0] >= week["left_line"]["on"][0]


def test_callbacks_serve_more_callers_over_the_week(effect):
    served, half = effect["periods"]["week"]["served"]["diff"]
    assert served - half > 0, (served, half)  # answered live + callbacks completed


def test_offered_live_calls_are_the_same_world(effect):
    """Same seeds: the fresh calls are the same; the offered difference is only retrials."""
    off, half = effect["periods"]["week"]["offered"]["diff"]
    base = effect["periods"]["week"]["offered"]["off"][0]
    assert abs(off) - half < 0.01 * base


def test_forecast_shows_callbacks_requested_per_hour(capsys):
    """``hotline forecast``: a column of callers per hour who took the callback offer — the
    same figure as the JSON rows and the bench's 'left line' (stats.hour_stats)."""
    import argparse
    import json

    from queue_engine.cli import register

    def run(argv):
        parser = argparse.ArgumentParser(prog="hotline")
        register(parser.add_subparsers())
        args = parser.parse_args(argv)
        code = args.func(args)
        return code, capsys.readouterr().out

    code, out = run(["forecast", "--reps", "2", "--seed", str(SEED), "--json"])
    rows = json.loads(out)["rows"]
    assert code == 0 and sum(r["callbacks"] for r in rows) > 0
    code, out = run(["forecast", "--reps", "2", "--seed", str(SEED)])
    assert code == 0 and "callbacks" in out
