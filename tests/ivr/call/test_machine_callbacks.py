"""Callback requests in the sans-IO machine: the number confirmed by DTMF (or keyed anew), and
a repeat caller whose callback is still in line told so — keep it or cancel it."""
from __future__ import annotations

import pytest

from ivr.call import requests as io
from ivr.call.machine import S, keyed_number
from ivr.call.protocol import CallerHangup, Collect, Digits, Enqueue, Hangup, NoInput
from tests.ivr.call.test_machine import NOW, machine, outcome, prompts


def offered():
    """A caller told of a 21-minute wait who presses 1 for a callback."""
    m = machine()
    m.start(NOW)
    m.feed(Digits("5"), NOW)
    m.feed(io.WaitResult(21 * 60), NOW)
    [req] = m.feed(Digits("1"), NOW)
    assert isinstance(req, io.RequestCallback)
    return m


def test_the_number_is_confirmed_by_a_key_before_the_request_stands():
    m = offered()
    cmds = m.feed(io.CallbackResult(True, None, 4, number_tail="4567"), NOW)
    assert m.state is S.CALLBACK_CONFIRM
    assert cmds[-1].prompts == ("callback_number_is", "n45", "n67", "callback_number_confirm")
    assert cmds[-1].max_digits == 1
    assert m.feed(Digits("1"), NOW) == [io.ConfirmCallback(None)]
    cmds = m.feed(io.CallbackResult(True, None, 4), NOW)
    row = outcome(cmds)
    assert row["outcome"] == "queued" and row["callback_requested"] and isinstance(cmds[-1], Hangup)
    assert "callback_accepted" in prompts(cmds) and "n4" in prompts(cmds)


def test_another_number_is_keyed_checked_and_refused_numbers_asked_again():
    m = offered()
    m.feed(io.CallbackResult(True, None, 4, number_tail="4567"), NOW)
    cmds = m.feed(Digits("2"), NOW)
    assert m.state is S.CALLBACK_NUMBER and cmds[-1].prompts == ("callback_number_enter",)
    assert cmds[-1].max_digits == 11
    cmds = m.feed(Digits("12345"), NOW)  # not a Russian number: said so, asked again
    assert prompts(cmds) == ["callback_number_bad", "callback_number_enter"]
    assert m.feed(Digits("89031234567"), NOW) == [io.ConfirmCallback("+79031234567")]
    cmds = m.feed(io.CallbackResult(False), NOW)  # the service refuses it (not callable)
    assert prompts(cmds) == ["callback_number_bad", "callback_number_enter"]
    assert m.feed(Digits("79031234568"), NOW) == [io.ConfirmCallback("+79031234568")]
    row = outcome(m.feed(io.CallbackResult(True, None, 2), NOW))
    assert row["callback_requested"] and "callback:number_keyed" in row["menu_path"]


def test_keying_nothing_usable_keeps_the_number_the_call_came_from():
    m = offered()
    m.feed(io.CallbackResult(True, None, 4, number_tail="4567"), NOW)
    m.feed(Digits("2"), NOW)
    cmds = []
    for _ in range(5):
        cmds = m.feed(Digits("1"), NOW)
        if m.state is not S.CALLBACK_NUMBER:
            break
    assert cmds == [io.ConfirmCallback(None)]


def test_a_leading_zero_in_the_tail_is_said_digit_by_digit():
    m = offered()
    cmds = m.feed(io.CallbackResult(True, None, 4, number_tail="4505"), NOW)
    assert cmds[-1].prompts[1:4] == ("n45", "n0", "n5")


def test_hanging_up_while_confirming_keeps_the_request_to_the_callers_number():
    m = offered()
    m.feed(io.CallbackResult(True, None, 4, number_tail="4567"), NOW)
    cmds = m.feed(CallerHangup(), NOW)
    assert io.ConfirmCallback(None) in cmds
    row = outcome(cmds)
    assert row["callback_requested"] and row["outcome"] == "queued"


def repeat_caller():
    m = machine()
    m.start(NOW)
    m.feed(Digits("5"), NOW)
    cmds = m.feed(io.WaitResult(90, callback_position=3), NOW)
    assert prompts(cmds) == ["callback_exists", "n3", "callback_keep_or_cancel"]
    assert m.state is S.CALLBACK_PENDING
    return m


def test_a_repeat_caller_keeps_the_callback_in_line():
    m = repeat_caller()
    cmds = m.feed(Digits("1"), NOW)
    row = outcome(cmds)
    assert row["outcome"] == "self_served" and "callback:kept" in row["menu_path"]
    assert "callback_kept" in prompts(cmds) and isinstance(cmds[-1], Hangup)


def test_a_repeat_caller_cancels_it_and_stays_in_line():
    m = repeat_caller()
    cmds = m.feed(Digits("2"), NOW)
    assert isinstance(cmds[0], io.CancelCallback)
    assert prompts(cmds)[:1] == ["callback_cancelled"] and isinstance(cmds[-1], Enqueue)
    assert outcome(cmds)["outcome"] == "queued"


def test_asking_again_for_a_callback_already_in_line_makes_no_new_one():
    m = offered()
    cmds = m.feed(io.CallbackResult(True, None, 2, existing=True), NOW)
    row = outcome(cmds)
    assert not row["callback_requested"] and "callback:pending" in row["menu_path"]
    assert prompts(cmds)[:3] == ["callback_exists", "n2", "callback_kept"]


@pytest.mark.parametrize("keys, number", [
    ("89161234567", "+79161234567"), ("79161234567#", "+79161234567"),
    ("9161234567", None), ("891612345678", None), ("8916123456*", None), ("", None),
])
def test_keyed_numbers(keys, number):
    assert keyed_number(keys) == number


def test_silence_while_confirming_reprompts_with_the_tail():
    m = offered()
    m.feed(io.CallbackResult(True, None, 4, number_tail="4567"), NOW)
    cmds = m.feed(NoInput(), NOW)
    assert isinstance(cmds[-1], Collect) and "n67" in cmds[-1].prompts
