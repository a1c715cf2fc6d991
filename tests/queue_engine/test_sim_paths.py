"""The engines behind ``simulate()`` agree with each other call by call.

* Lazy abandonment (no heap event per waiting caller) against eager abandonment.
* Each exact fast path against the general event loop on models it accepts.
"""

from __future__ import annotations

import numpy as np
import pytest

from queue_engine.model import Model
from queue_engine.scenario import load_scenario
from queue_engine.sim import event_loop
from queue_engine.variates import arrivals, durations


@pytest.fixture(scope="module")
def week() -> Model:
    return Model.from_scenario(load_scenario())


def _loop(model: Model, seed: int, lazy: bool):
    rng = np.random.default_rng(seed)
    t_arr, g_arr = arrivals(model, rng)
    pat = durations(rng, model.pat_mean, model.pat_cv, g_arr)
    svc = durations(rng, model.aht_mean, model.aht_cv, g_arr)
    return event_loop(model, rng, t_arr, g_arr, pat, svc, lazy=lazy)


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
