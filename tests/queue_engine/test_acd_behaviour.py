"""Caller and routing behaviour of the simulator: retrials, callbacks, overflow, policies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from queue_engine.model import Model, mmc_model
from queue_engine.scenario import load_scenario
from queue_engine.sim import ABANDONED, ANSWERED, CALLBACK_TAKEN, CLOSED, simulate


@pytest.fixture(scope="module")
def week() -> Model:
    return Model.from_scenario(load_scenario())


def test_retrials_follow_the_spec_schedule() -> None:
    # Overloaded queue, everyone who abandons calls again (SPEC §6 delays, ≤ 5 attempts).
    model = replace(mmc_model(5, 0.05, 300, 120, hours=6), retry_p=1.0, retry_max=5)
    r = simulate(model, seed=2)
    retry = np.nonzero((r.parent >= 0) & ~r.callback)[0]
    assert retry.size > 100
    prev = r.parent[retry]
    assert (r.outcome[prev] == ABANDONED).all()
    gap = r.arrival[retry] - (r.arrival[prev] + r.wait[prev])
    att = r.attempt[retry]
    assert ((gap >= 60 - 1e-6) & (gap <= 120 + 1e-6))[att == 2].all()
    np.testing.assert_allclose(gap[att == 3], 300.0, atol=1e-6)
    assert ((gap >= 600 - 1e-6) & (gap <= 900 + 1e-6))[att >= 4].all()
    assert r.attempt.max() == 5
    # A fifth attempt that abandons is not followed by a sixth.
    last = np.nonzero((r.attempt == 5) & (r.outcome == ABANDONED))[0]
    assert last.size and not np.isin(last, r.parent).any()


def test_after_hours_callers_get_called_back_from_opening(week: Model) -> None:
    r = simulate(week, seed=1)
    cb = np.nonzero(r.callback & (r.parent >= 0))[0]
    after_hours = cb[r.outcome[r.parent[cb]] == CLOSED]
    assert after_hours.size > 100
    hours = (r.arrival[after_hours] // 3600).astype(int)
    g = r.skill[after_hours]
    assert week.open_[g, hours].all()  # scheduled into a working hour of their skill
    assert (r.arrival[after_hours] % 3600 == 0).all()  # at the opening hour itself
    assert not week.open_[g, hours - 1].any()  # the hour before was still closed
    taken = np.nonzero(r.outcome == CALLBACK_TAKEN)[0]
    assert taken.size > 100 and not r.callback[taken].any()


def test_callbacks_wait_behind_live_callers(week: Model) -> None:
    r = simulate(week, seed=1)
    ans = r.outcome == ANSWERED
    live = np.nanmean(r.wait[ans & ~r.callback])
    cbs = np.nanmean(r.wait[ans & r.callback])
    assert cbs > live


def test_overflow_to_general_after_the_configured_wait(week: Model) -> None:
    r = simulate(week, seed=1)
    med = week.skills.index("medical")
    gen_team = week.teams.index("general")
    by_general = (r.skill == med) & (r.team == gen_team) & (r.outcome == ANSWERED)
    assert by_general.sum() > 10
    assert r.wait[by_general].min() >= 480.0 - 1e-6


def test_overflow_policy_holds_secondary_agents_back(week: Model) -> None:
    acc = week.skills.index("account")
    uni = week.teams.index("universal")
    waits = {}
    for pol in ("longest_idle", "overflow"):
        r = simulate(week.with_policy(pol), seed=3)
        m = (r.skill == acc) & (r.team == uni) & (r.outcome == ANSWERED)
        waits[pol] = r.wait[m]
    assert waits["longest_idle"].min() < 60.0
    assert waits["overflow"].min() >= 60.0 - 1e-6
