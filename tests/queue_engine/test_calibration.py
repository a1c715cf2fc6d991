"""The default roster is what its documented command generated, and it meets what the YAML
claims over several forecast seeds: the centre-wide ASA inside every published band, and per
skill the share of skill-hours in band the calibration verified (issue 11)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from queue_engine.forecast import run_forecast
from queue_engine.model import Model
from queue_engine.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (2031, 2038, 2045)  # not the calibration's own seeds (1000, 1001, 2024–2028)


def _calibrate_module():
    spec = importlib.util.spec_from_file_location(
        "calibrate_default", ROOT / "bench" / "queue_engine" / "calibrate_default.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_roster_is_the_generated_one_and_says_how() -> None:
    sc = load_scenario()
    cal = sc.calibration
    assert cal["command"].startswith(".venv/bin/python bench/queue_engine/calibrate_default.py")
    assert {"seed", "reps", "target", "tolerance", "verified"} <= set(cal)
    digest = _calibrate_module().roster_digest({t: tm.model_dump() for t, tm in sc.teams.items()})
    assert digest == cal["roster_digest"], "roster edited by hand: re-run calibration.command"


@pytest.fixture(scope="module")
def forecasts():
    sc = load_scenario()
    model = Model.from_scenario(sc)
    return sc, [run_forecast(model, reps=16, seed=s) for s in SEEDS]


def test_centre_wide_every_hour_in_its_band_over_seeds(forecasts) -> None:
    sc, fcs = forecasts
    bands = sc.centre.bands()
    assert len(bands) == 5 * 12 + 9  # Mon–Fri 08–20 and Saturday 09–18
    for seed, fc in zip(SEEDS, fcs, strict=True):
        asa = fc.summary.mean["asa"][:, -1]
        outside = {h: (round(asa[h]), band) for h, band in bands.items()
                   if not band[0] <= asa[h] <= band[1]}
        assert not outside, f"seed {seed}: week hour: (mean wait s, band) {outside}"


def test_per_skill_share_in_band_is_what_the_yaml_states(forecasts) -> None:
    sc, fcs = forecasts
    claimed = sc.calibration["verified"]["skill_hours_in_band_share"]
    bands = sc.centre.bands()
    hours = sorted(bands)
    lo = np.array([bands[h][0] for h in hours])[:, None]
    hi = np.array([bands[h][1] for h in hours])[:, None]
    cols = [g for g, s in enumerate(sc.skill_ids) if s != "security"]
    # the seeds' replications pooled (fewer replications push noisy small groups out of
    # band more often than the calibration's check of 16 per seed saw)
    asa = np.mean([fc.summary.mean["asa"][np.ix_(hours, cols)] for fc in fcs], axis=0)
    share = float(((lo <= asa) & (asa <= hi)).mean())
    assert share >= claimed - 0.05, (round(share, 3), claimed)
