"""The engines behind ``simulate()`` agree with each other call by call.

* Lazy abandonment (no heap event per waiting caller) against eager abandonment.
* The Kiefer–Wolfowitz paths against the general event loop on every model they
  accept: one skill with an hourly roster (joins, cuts, drained hours), opening hours,
  retrials and both kinds of callbacks; several independent skills; and the default
  week, where single-queue skills go fast and the rest run the event loop.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from queue_engine.fcfs import simulate_kw
from queue_engine.model import Model, mmc_model
from queue_engine.paths import components, part, single_queue
from queue_engine.results import SimResult
from queue_engine.scenario import load_scenario
from queue_engine.sim import draw_inputs, event_loop, simulate


@pytest.fixture(scope="module")
def week() -> Model:
    return Model.from_scenario(load_scenario())


def _keys(r: SimResult) -> list[tuple]:
    """Each attempt named by its fresh call, attempt number and callback flag."""
    root = np.arange(r.arrival.size)
    par = r.parent
    while True:
        nxt = np.where(par[root] >= 0, par[root], root)
        if np.array_equal(nxt, root):
            break
        root = nxt
    return list(zip(root.tolist(), r.attempt.tolist(), r.callback.tolist(),
                    (r.parent >= 0).tolist()))


def assert_same_calls(a: SimResult, b: SimResult) -> None:
    assert a.arrival.size == b.arrival.size
    ka, kb = _keys(a), _keys(b)
    ia = np.array(sorted(range(len(ka)), key=ka.__getitem__))
    ib = np.array(sorted(range(len(kb)), key=kb.__getitem__))
    assert [ka[i] for i in ia] == [kb[i] for i in ib]
    np.testing.assert_array_equal(a.outcome[ia], b.outcome[ib])
    np.testing.assert_array_equal(a.skill[ia], b.skill[ib])
    np.testing.assert_array_equal(a.team[ia], b.team[ib])
    np.testing.assert_allclose(a.arrival[ia], b.arrival[ib], atol=1e-6)
    np.testing.assert_allclose(a.wait[ia], b.wait[ib], atol=1e-6)
    np.testing.assert_allclose(a.service[ia], b.service[ib], rtol=1e-9, atol=1e-6)


def _loop(model: Model, seed: int, lazy: bool = True) -> SimResult:
    return event_loop(model, draw_inputs(model, np.random.default_rng(seed)), lazy=lazy)


@pytest.mark.parametrize("policy", ["longest_idle", "overflow"])
def test_lazy_abandonment_is_eager_abandonment(week: Model, policy: str) -> None:
    # The default week has retrials, callbacks (counted queues), overflow and rosters.
    model = week.with_policy(policy)
    a, b = _loop(model, 11, lazy=True), _loop(model, 11, lazy=False)
    assert a.arrival.size == b.arrival.size
    np.testing.assert_array_equal(a.outcome, b.outcome)
    np.testing.assert_array_equal(a.team, b.team)
    np.testing.assert_array_equal(a.parent, b.parent)
    np.testing.assert_allclose(a.wait, b.wait, atol=1e-9)
    assert (a.outcome == 1).sum() > 1000  # plenty of hang-ups were settled lazily


def _one_queue(week: Model, skill: str) -> Model:
    """A single-queue part of the default week, as a model of its own."""
    for skills, teams in components(week):
        if week.skills[skills[0]] == skill:
            assert single_queue(week, skills, teams)
            sub, _, _ = part(week, draw_inputs(week, np.random.default_rng(0)), skills, teams)
            return sub
    raise AssertionError(skill)


@pytest.mark.parametrize("skill", ["tax", "security", "complaints"])
def test_kw_single_queue_week_part(week: Model, skill: str) -> None:
    # Hourly roster to zero and back, closed nights, retrials, offered and after-hours
    # callbacks; 'security' is 24/7 with short patience.
    model = _one_queue(week, skill)
    for seed in (1, 2):
        inp = draw_inputs(model, np.random.default_rng(seed))
        a = simulate_kw(model, inp)
        b = event_loop(model, draw_inputs(model, np.random.default_rng(seed)))
        assert_same_calls(a, b)
    if skill == "tax":  # the part exercises every rule it claims to
        assert (a.attempt > 1).any() and (a.callback & (a.outcome == 0)).any()
        assert (a.outcome == 3).any() and (a.outcome == 2).any()


def test_kw_single_queue_wild_roster() -> None:
    # Staff jumps every hour, often to zero while callers still call (drained hours,
    # agents leaving mid-call and coming back), on a skill that is sometimes closed.
    rng = np.random.default_rng(7)
    H = 96
    base = mmc_model(8, 0.03, 300.0, 400.0, hours=H, aht_cv=0.8)
    staff = rng.choice([0, 1, 2, 4, 6, 9, 12], size=(1, H))
    open_ = rng.random((1, H)) > 0.15
    model = replace(base, staff=staff, open_=open_, retry_p=0.5, cb_accept=0.3,
                    cb_after_hours=0.4, cb_offer_above=300.0, meta={})
    for seed in range(4):
        a = simulate_kw(model, draw_inputs(model, np.random.default_rng(seed)))
        b = event_loop(model, draw_inputs(model, np.random.default_rng(seed)))
        assert_same_calls(a, b)
        assert simulate(model, seed=seed, engine="python").path == "kiefer-wolfowitz"


def test_independent_skills_take_the_fast_path() -> None:
    # Three skills, each with its own team, different priorities and rosters.
    base = mmc_model(10, 0.03, 300.0, 600.0, hours=24)
    G = 3
    staff = np.vstack([np.full(24, 10), np.r_[np.full(12, 6), np.full(12, 12)], np.full(24, 4)])
    model = replace(
        base, skills=["a", "b", "c"], teams=["ta", "tb", "tc"],
        lam=np.vstack([base.lam[0], base.lam[0] * 1.2, base.lam[0] * 0.4]),
        staff=staff, prof=np.eye(G) * np.array([1.0, 0.9, 1.1]), priority=np.array([1, 5, 9]),
        aht_mean=np.array([300.0, 240.0, 400.0]), aht_cv=np.array([1.0, 0.8, 1.0]),
        pat_mean=np.array([600.0, np.inf, 300.0]), pat_cv=np.array([1.0, 1.0, 1.0]),
        open_=np.ones((G, 24), dtype=bool), overflow_to=np.array([-1, -1, -1]),
        overflow_after=np.zeros(G), retry_p=0.3, meta={},
    )
    fast = simulate(model, seed=3, engine="python")
    assert fast.path == "kiefer-wolfowitz"
    assert_same_calls(fast, simulate(model, seed=3, fast=False, engine="python"))
    assert_same_calls(fast, simulate(model, seed=3))


@pytest.mark.parametrize("policy", ["longest_idle", "overflow"])
def test_week_hybrid_is_the_event_loop(week: Model, policy: str) -> None:
    model = week.with_policy(policy)
    fast = simulate(model, seed=5, engine="python")
    assert fast.path.startswith("hybrid")
    slow = simulate(model, seed=5, fast=False, engine="python")
    assert slow.path == "event-loop"
    assert_same_calls(fast, slow)
    assert_same_calls(fast, simulate(model, seed=5))  # the compiled loop on the whole week
    n = int((fast.parent < 0).sum() - (fast.callback & (fast.parent < 0)).sum())
    np.testing.assert_array_equal(fast.outcome[:n], slow.outcome[:n])  # fresh calls in place


def test_plain_queue_path_is_named() -> None:
    model = mmc_model(20, 0.06, 300.0, 600.0, hours=4)
    assert simulate(model, seed=1, engine="python").path == "kiefer-wolfowitz"
    assert simulate(model, seed=1, fast=False, engine="python").path == "event-loop"
    assert simulate(model, seed=1).path == "event-loop (compiled)"
    assert simulate(model, seed=1, trace=True).path == "event-loop"
