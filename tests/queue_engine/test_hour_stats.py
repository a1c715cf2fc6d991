"""Per-hour statistics agree with direct per-group computation on a simulated week."""

from __future__ import annotations

import numpy as np

from queue_engine.model import Model
from queue_engine.scenario import load_scenario
from queue_engine.sim import ABANDONED, ANSWERED, simulate
from queue_engine.stats import _group_quantile, hour_stats


def test_group_quantile_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    key = rng.integers(0, 50, 5000)
    x = rng.exponential(100, 5000)
    got = _group_quantile(key, x, 52, 0.9)
    want = [np.quantile(x[key == k], 0.9) if (key == k).any() else np.nan for k in range(52)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_hour_stats_against_direct_counts() -> None:
    model = Model.from_scenario(load_scenario())
    res = simulate(model, seed=4)
    st = hour_stats(model, res).values
    g, h = model.skills.index("tax"), 2 * 24 + 13  # Wednesday 13:00
    m = (res.skill == g) & ((res.arrival // 3600) == h) & ~res.callback
    ans = m & (res.outcome == ANSWERED)
    ab = m & (res.outcome == ABANDONED)
    assert st["answered"][h, g] == ans.sum() and st["abandoned"][h, g] == ab.sum()
    assert st["asa"][h, g] == np.mean(res.wait[ans])
    assert st["sl"][h, g] == np.mean(res.wait[ans] <= 20)
    assert np.isclose(st["p90_wait"][h, g], np.quantile(res.wait[ans], 0.9))
    sl2 = (np.sum(res.wait[ans] <= 20) + np.sum(res.wait[ab] <= 20)) / (ans.sum() + ab.sum())
    assert np.isclose(st["sl2"][h, g], sl2)
    # The "all" column sums the skills; occupancy is a fraction.
    np.testing.assert_array_equal(st["offered"][:, -1], st["offered"][:, :-1].sum(axis=1))
    occ = st["occupancy"][np.isfinite(st["occupancy"])]
    assert (occ >= 0).all() and (occ <= 1.0 + 1e-9).all()


def test_group_quantile_is_exact_per_group_with_far_offsets() -> None:
    # Large keys and a wide value range: each group's quantile is the interpolation between
    # its own sorted values, exactly (an offset into the whole sorted array must not blur it).
    rng = np.random.default_rng(1)
    key = rng.integers(0, 3000, 200_000)
    x = np.where(rng.random(key.size) < 0.3, 0.0, rng.exponential(400, key.size))
    got = _group_quantile(key, x, 3000, 0.9)
    for k in (0, 1, 1500, 2999):
        xs = np.sort(x[key == k])
        pos = 0.9 * (xs.size - 1)
        lo = int(np.floor(pos))
        want = xs[lo] * (1 - (pos - lo)) + xs[min(lo + 1, xs.size - 1)] * (pos - lo)
        assert got[k] == want
