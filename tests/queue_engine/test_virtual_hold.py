"""Virtual hold in the live ACD: a callback keeps its caller's place without a caller on it."""
from __future__ import annotations

from queue_engine.acd import Connect, DialCallback
from tests.queue_engine.test_live_acd import MONDAY_10, acd_of, call, model, run_until


def served(actions: list) -> list[str]:
    return [a.call_id for a in actions if isinstance(a, Connect)]


def dials(actions: list) -> list[int]:
    return [a.callback_id for a in actions if isinstance(a, DialCallback)]


def test_callback_is_served_after_earlier_callers_and_before_later_ones():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("busy", "a", t), t)  # the only agent is busy
    acd.offer(call("before", "a", t + 1), t + 1)
    assert acd.hold(7, "a", 1, t + 5, t + 60) == []  # "before" is ahead: not yet
    acd.offer(call("after", "a", t + 8), t + 8)
    assert (acd.waiting_count(0), acd.virtual_count(0)) == (2, 1)
    out = run_until(acd, t + 3 * 3600)
    # the agent takes "before"; the place is then at the head: dial it (the agent, once free
    # again, is not kept idle for a ringing phone: he takes "after")
    assert served(out) == ["before", "after"] and dials(out) == [7]
    assert out.index(next(a for a in out if isinstance(a, DialCallback))) == \
        out.index(next(a for a in out if getattr(a, "call_id", "") == "before")) + 1


def test_answered_leg_takes_the_original_place_ahead_of_later_callers():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("busy", "a", t), t)
    acd.hold(7, "a", 1, t + 5, t + 5)  # nobody ahead: dialled at once
    assert acd.dialling_count(0) == 1
    acd.offer(call("after", "a", t + 8), t + 8)
    acd.unhold(7, t + 30)  # the citizen answered: the leg now queues live at its old place
    acd.offer(call("leg-7", "a", t + 30), t + 30, place=t + 5)
    assert acd.virtual_count(0) == 0
    assert served(run_until(acd, t + 3 * 3600)) == ["leg-7", "after"]


def test_place_at_the_head_is_dialled_at_once_and_a_ringing_place_blocks_nobody():
    acd = acd_of(model([2], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    [dial] = acd.hold(3, "a", 1, t - 120, t)
    assert (dial.callback_id, dial.skill, dial.call_id) == (3, "a", "cb:3")
    [c] = acd.offer(call("live", "a", t + 1), t + 1)  # an idle agent answers him meanwhile
    assert c.call_id == "live"
    assert acd.hold(3, "a", 1, t - 120, t + 2) == []  # one place per callback


def test_no_agent_on_duty_no_dial_until_agents_log_in():
    acd = acd_of(model([0], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    assert acd.hold(4, "a", 1, t, t) == []
    acd.staff[0] = [1] * 168  # the roster of the next hour brings an agent
    assert dials(run_until(acd, t + 3600)) == [4]


def test_as_many_places_ring_as_agents_on_duty_and_the_next_when_one_goes():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    assert dials(acd.hold(1, "a", 1, t, t)) == [1]
    assert acd.hold(2, "a", 1, t + 1, t + 1) == []  # one agent: one phone ringing at a time
    assert dials(acd.unhold(1, t + 40)) == [2]  # unanswered: its place goes, the next rings


def test_higher_priority_live_caller_comes_before_an_older_callback():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("busy", "a", t), t)
    acd.offer(call("vip", "a", t + 10, prio=9), t + 10)
    assert acd.hold(5, "a", 1, t + 1, t + 20) == []
    acd.abandon("vip", t + 30)  # the vip leaves: the callback is at the head on the next tick
    assert dials(acd.tick(t + 30)) == [5]


def test_announced_wait_counts_virtual_places_ahead():
    acd = acd_of(model([1], [[1, 1]]))
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("busy", "a", t), t)
    before = acd.centre.expected_wait_new("a", t + 1, priority=1)
    acd.hold(1, "a", 1, t, t + 1)
    acd.hold(2, "a", 1, t, t + 1)
    assert acd.centre.expected_wait_new("a", t + 1, priority=1) > before
    assert acd.waiting_count(0) == 0 and acd.virtual_count(0) == 2
    acd.unhold(1, t + 2)
    acd.unhold(2, t + 2)
    assert acd.centre.expected_wait_new("a", t + 2, priority=1) == before


def test_a_timer_handled_late_never_answers_a_caller_before_he_joined():
    acd = acd_of(model([1], [[1, 1]]))  # wrap-up 5 s
    t = MONDAY_10
    acd.start(t)
    acd.offer(call("x", "a", t), t)
    released = acd.tick(acd.next_due())[0].at  # talk ends; wrap-up ends 5 s later
    acd.offer(call("y", "a", released + 8), released + 8)  # the loop has not ticked since
    [c] = [a for a in acd.tick(released + 10) if isinstance(a, Connect)]
    assert c.call_id == "y" and c.at == released + 8 and c.wait == 0.0
