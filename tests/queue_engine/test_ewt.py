"""Expected-wait predictors and the live state the IVR / AMI bridge feed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from queue_engine.live import MSK, LiveCentre, LiveQueue, expected_wait_at, week_hour_origin
from queue_engine.predict import asterisk_estimate, asterisk_update, ql_m, ql_schedule
from queue_engine.records import QueueCall

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK).timestamp()


def test_ql_m_is_the_ibrahim_whitt_sum() -> None:
    s, aht, pat, n = 50, 300.0, 600.0, 7
    expected = sum(1 / (s / aht + j / pat) for j in range(n + 1))
    assert ql_m(n, s, aht, pat) == pytest.approx(expected)
    assert ql_m(n, s, aht, float("inf")) == pytest.approx((n + 1) * aht / s)


def test_schedule_predictor_reduces_to_ql_m_on_a_flat_roster() -> None:
    assert ql_schedule(40, 1000.0, [50.0] * 24, 300, 600) == pytest.approx(
        ql_m(40, 50, 300, 600), rel=1e-9)


def test_schedule_predictor_sees_the_closing_hour() -> None:
    # 150 ahead, 10 minutes before the team halves: longer than the flat estimate.
    roster = [20.0] * 24
    roster[1] = 10.0
    flat = ql_m(150, 20, 300, 1800)
    sched = ql_schedule(150, 3000.0, roster, 300, 1800)
    assert sched > flat * 1.2
    # And sooner when reinforcements come.
    roster[1] = 40.0
    assert ql_schedule(150, 3000.0, roster, 300, 1800) < flat * 0.9


def test_schedule_predictor_matches_simulated_time_varying_queue() -> None:
    # Monte-Carlo of the pure-death process the predictor integrates.
    rng = np.random.default_rng(1)
    roster, aht, pat, n, now = [10.0, 4.0] + [10.0] * 22, 300.0, 1200.0, 30, 3300.0
    waits = []
    for _ in range(4000):
        t, k = now, n
        while True:
            s = roster[int(t // 3600) % 24]
            rate = s / aht + k / pat
            dt_ = rng.exponential(1 / rate)
            boundary = (int(t // 3600) + 1) * 3600.0
            if t + dt_ > boundary:  # rates change at the hour: restart (memoryless)
                t = boundary
                continue
            t += dt_
            if k == 0:
                break
            k -= 1
        waits.append(t - now)
    mc = float(np.mean(waits))
    assert ql_schedule(n, now, roster, aht, pat) == pytest.approx(mc, rel=0.03)


def test_asterisk_holdtime_smoothing() -> None:
    h = asterisk_update(100.0, 20.0)
    assert h == 80.0 and asterisk_estimate(h, waited=30.0) == 50.0
    assert asterisk_estimate(h, waited=500.0) == 0.0


def test_live_queue_positions_fcfs_within_priority() -> None:
    q = LiveQueue("account", 300.0, 1500.0, [10.0] * 168)
    assert q.join("a", 0.0) == 0
    assert q.join("b", 1.0) == 1
    assert q.join("vip", 2.0, priority=9) == 0
    assert q.position("b") == 2
    q.answer("vip", 5.0, agent="ag1")
    q.leave("a", 6.0)
    assert q.position("b") == 0 and q.abandoned == 1 and q.answered == 1
    assert q.holdtime == pytest.approx(0.75)


def test_live_centre_announces_more_wait_behind_more_callers() -> None:
    centre = LiveCentre()
    calls = [QueueCall(f"c{i}", "federal", "77", "ru", "account", 2, True, MONDAY_10 + i)
             for i in range(30)]
    first = centre.expected_wait_new("account", MONDAY_10)
    for c in calls:
        centre.join(c)
    later = centre.expected_wait_new("account", MONDAY_10 + 30)
    assert 0 < first < later
    assert centre.expected_wait("account", 30, MONDAY_10 + 30) == pytest.approx(later)
    centre.answer("c0", MONDAY_10 + 60, agent="a1")
    assert centre.expected_wait_new("account", MONDAY_10 + 60) < later


def test_week_origin_is_monday_midnight_moscow() -> None:
    origin = week_hour_origin(MONDAY_10 + 3 * 86400)
    assert dt.datetime.fromtimestamp(origin, MSK) == dt.datetime(2026, 11, 23, tzinfo=MSK)


def test_expected_wait_at_from_default_forecast() -> None:
    peak = expected_wait_at("account", dt.datetime(2026, 11, 25, 13, 30))
    morning = expected_wait_at("account", dt.datetime(2026, 11, 25, 9, 30))
    assert peak is not None and morning is not None and peak > morning
    assert expected_wait_at("account", dt.datetime(2026, 11, 29, 12, 0)) is None  # Sunday
    assert expected_wait_at("security", dt.datetime(2026, 11, 29, 3, 0)) is not None


def test_live_agent_count_overrides_the_roster() -> None:
    q = LiveQueue("account", 300.0, 1500.0, [10.0] * 168)
    rostered = q.expected_wait(20, MONDAY_10)
    for i in range(20):
        q.agent_login(f"a{i}", MONDAY_10)
    assert q.expected_wait(20, MONDAY_10) < rostered
    for i in range(15):
        q.agent_logout(f"a{i}", MONDAY_10)
    assert q.expected_wait(20, MONDAY_10) > rostered


def test_long_queues_take_the_sojourn_walk_and_it_matches_simulation() -> None:
    """From EXACT_MAX callers ahead the live ACD's announcement must stay cheap (no matrix
    exponential on the event loop) and still match the process it predicts."""
    from queue_engine.predict import EXACT_MAX, sojourn_schedule

    rng = np.random.default_rng(2)
    roster, aht, pat, n, now = [10.0, 4.0] + [10.0] * 22, 300.0, 1200.0, 200, 3000.0
    assert n >= EXACT_MAX
    assert ql_schedule(n, now, roster, aht, pat) == sojourn_schedule(n, now, roster, aht, pat)
    waits = []
    for _ in range(1500):
        t, k = now, n
        while True:
            s = roster[int(t // 3600) % 24]
            dt_ = rng.exponential(1 / (s / aht + k / pat))
            boundary = (int(t // 3600) + 1) * 3600.0
            if t + dt_ > boundary:
                t = boundary
                continue
            t += dt_
            if k == 0:
                break
            k -= 1
        waits.append(t - now)
    assert sojourn_schedule(n, now, roster, aht, pat) == pytest.approx(np.mean(waits), rel=0.03)
    # on a flat roster the walk is QL_m exactly
    assert sojourn_schedule(n, now, [10.0] * 24, aht, pat) == pytest.approx(
        ql_m(n, 10.0, aht, pat), rel=1e-9)
