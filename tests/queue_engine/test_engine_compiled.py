"""The compiled engine (numba) gives the Python event loop's result, attempt by attempt.

Same seed, same model: every array of the result is identical — arrivals, skills,
outcomes, teams, attempts, callbacks, parents, waits and handle times (bit for bit).
Models cover what the kernel transcribes: skills sharing teams with priorities and
proficiencies, overflow to another skill and the overflow policy's delay, hourly
rosters that jump (to zero and back: drained teams, agents leaving mid-call), closed
hours, retrials, offered and after-hours callbacks, lognormal durations; and a load
heavy enough that the kernel's attempt arrays and random tables run out and regrow.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from queue_engine import compiled
from queue_engine.event_loop import event_loop
from queue_engine.model import Model, mmc_model
from queue_engine.results import SimResult
from queue_engine.scenario import load_scenario
from queue_engine.sim import draw_inputs

_FIELDS = ("arrival", "skill", "outcome", "team", "attempt", "callback", "parent", "wait",
           "service")


def _both(model: Model, seed: int) -> tuple[SimResult, SimResult]:
    ref = event_loop(model, draw_inputs(model, np.random.default_rng(seed)), engine="python")
    fast = compiled.run(model, draw_inputs(model, np.random.default_rng(seed)))
    return ref, fast


def assert_identical(a: SimResult, b: SimResult) -> None:
    for f in _FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.shape == y.shape, f
        np.testing.assert_array_equal(x, y, err_msg=f)
    assert a.events == b.events


def _shared(H: int = 48, seed: int = 0, **kw) -> Model:
    """Three skills, three teams: a generalist team serving all, two specialists, one
    skill overflowing to another; rosters jump hour by hour, some hours closed."""
    rng = np.random.default_rng(seed)
    base = mmc_model(8, 0.03, 300.0, 400.0, hours=H)
    G, T = 3, 3
    lam = np.vstack([np.full(H, 0.035), np.full(H, 0.02), np.full(H, 0.012)])
    staff = rng.choice([0, 2, 4, 7, 10], size=(T, H))
    open_ = rng.random((G, H)) > 0.1
    prof = np.array([[1.0, 0.8, 0.6], [1.0, 0.0, 0.0], [0.0, 1.2, 0.0]])
    m = replace(
        base, skills=["a", "b", "c"], teams=["all", "ta", "tb"], lam=lam, staff=staff,
        prof=prof, priority=np.array([1, 5, 1]), aht_mean=np.array([300.0, 240.0, 420.0]),
        aht_cv=np.array([1.0, 0.7, 1.3]), pat_mean=np.array([400.0, 600.0, np.inf]),
        pat_cv=np.array([1.0, 1.4, 1.0]), open_=open_, overflow_to=np.array([-1, -1, 1]),
        overflow_after=np.array([0.0, 0.0, 90.0]), retry_p=0.4, cb_accept=0.3,
        cb_after_hours=0.4, cb_offer_above=200.0, meta={},
    )
    return replace(m, **kw)


@pytest.fixture(scope="module")
def week() -> Model:
    return Model.from_scenario(load_scenario())


def test_numba_is_there() -> None:
    assert compiled.available()  # numba is a runtime dependency; the kernel must run


@pytest.mark.parametrize("policy", ["longest_idle", "overflow"])
def test_default_week(week: Model, policy: str) -> None:
    model = week.with_policy(policy)
    for seed in (0, 7):
        a, b = _both(model, seed)
        assert_identical(a, b)
    assert (b.attempt > 1).any() and b.callback.any() and (b.outcome == 3).any()


@pytest.mark.parametrize("policy", ["longest_idle", "overflow"])
def test_shared_teams_wild_roster(policy: str) -> None:
    model = _shared(policy=policy, policy_delay=45.0)
    for seed in range(3):
        a, b = _both(model, seed)
        assert_identical(a, b)
    # every rule ran: retrials, both kinds of callbacks, closed hours, overflow answers
    assert (b.attempt > 1).any() and (b.outcome == 3).any() and (b.outcome == 2).any()
    assert ((b.skill == 2) & (b.team == 2)).any()  # skill c answered by b's team: overflow


def test_tables_and_arrays_regrow() -> None:
    # Overloaded, impatient callers who nearly all call again: far more retrials than the
    # kernel's first guess, so it stops, grows what ran out and starts over.
    model = _shared(H=24, seed=3, retry_p=0.95, retry_max=8,
                    lam=np.vstack([np.full(24, 0.2), np.full(24, 0.1), np.full(24, 0.05)]),
                    pat_mean=np.array([60.0, 50.0, 80.0]))
    a, b = _both(model, 1)
    assert_identical(a, b)
    assert (b.attempt > 1).sum() > 2000


def test_event_heap_regrows(monkeypatch: pytest.MonkeyPatch) -> None:
    # A first event heap far too small: the kernel stops, the driver doubles it and reruns.
    model = _shared(policy="overflow", policy_delay=45.0)
    monkeypatch.setattr(compiled, "HEAP_SLACK", -(10**9))
    a, b = _both(model, 4)
    assert_identical(a, b)
