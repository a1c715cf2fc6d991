"""Callback requests through the real session and database (SQLite and PostgreSQL): the
request waits for the number to be confirmed, a keyed number replaces the caller id, and a
repeat caller hears the place of the request still in line and may cancel it."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from ivr.call.callbacks import Callback
from ivr.call.protocol import Digits
from ivr.call.services import DbServices, callback_number
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from queue_engine.virtual_hold import place_id
from tests.ivr.call.test_session import DIALPLAN, FEDERAL, MENUS, MONDAY_10, call


@pytest.fixture
def env(db_url, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "callback-requests-secret-0123456789")
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    services = DbServices(factory, FixedWait(25 * 60))  # long enough to be offered a callback
    yield Hotline(DIALPLAN, MENUS, services, SpeechSpeaker(DIALPLAN.tz)), factory
    engine.dispose()


def callbacks(factory) -> list[Callback]:
    with factory() as db:
        rows = list(db.scalars(select(Callback).order_by(Callback.id)))
        db.expunge_all()
    return rows


def test_request_is_dialled_only_once_the_number_is_confirmed(env):
    hotline, factory = env
    session = hotline.new_call(did=FEDERAL, caller="+79161234567")
    session.start(MONDAY_10)
    session.feed(Digits("5"), MONDAY_10)  # tech support: a long wait, a callback offered
    cmds = session.feed(Digits("1"), MONDAY_10)  # a callback, please
    assert cmds[-1].prompts[0] == "callback_number_is"
    assert [c.status for c in callbacks(factory)] == ["confirming"]  # not dialled yet
    session.feed(Digits("1"), MONDAY_10)
    [cb] = callbacks(factory)
    assert cb.status == "pending" and cb.number == "+79161234567"


def test_a_keyed_number_replaces_the_caller_id(env):
    hotline, factory = env
    _, row, _ = call(hotline, "5 1 2 89031234567#")
    [cb] = callbacks(factory)
    assert (cb.status, cb.number) == ("pending", "+79031234567")
    assert row["callback_requested"] and "callback:number_keyed" in row["menu_path"]


def test_a_repeat_caller_hears_the_place_and_may_cancel(env):
    hotline, factory = env
    call(hotline, "5 1 1")
    assert [c.status for c in callbacks(factory)] == ["pending"]
    _, row, _ = call(hotline, "5 1", caller="8 916 123-45-67")  # same number, other notation
    assert "callback:kept" in row["menu_path"]
    assert [c.status for c in callbacks(factory)] == ["pending"]
    _, row, _ = call(hotline, "5 2", caller="+79161234567")
    assert "callback:cancelled" in row["menu_path"] and row["outcome"] == "queued"
    assert [c.status for c in callbacks(factory)] == ["cancelled"]


@pytest.mark.parametrize("raw, number", [
    ("89031234567", "+79031234567"), ("+7 (495) 777-77-77", "+74957777777"),
    ("88005553535", None), ("+78091234567", None), ("12345", None), ("+380441234567", None),
])
def test_callback_numbers_keyed_by_callers(raw, number):
    assert callback_number(raw) == number


class LineWaits:
    """A long wait, and the live line of ``tech`` as the live ACD keeps it (``LiveCentre``)."""

    def __init__(self) -> None:
        self.centre = SimpleNamespace(queues={"tech": SimpleNamespace(waiting={})})

    def expected_wait(self, skill, at, priority=0):
        return 25 * 60.0


def test_a_repeat_caller_hears_the_place_in_the_live_line(env):
    hotline, factory = env
    waits = LineWaits()
    hotline.services.waits = waits
    call(hotline, "5 1 1")
    [cb] = callbacks(factory)
    at = cb.arrival_at.timestamp()
    waits.centre.queues["tech"].waiting.update({  # as the live ACD has them
        "early-1": (cb.priority, at - 60), "early-2": (cb.priority, at - 30),
        place_id(cb.id): (cb.priority, at), "later": (cb.priority, at + 30)})
    session = hotline.new_call(did=FEDERAL, caller="+79161234567")
    session.start(MONDAY_10)
    cmds = session.feed(Digits("5"), MONDAY_10)
    said = [p for c in cmds for p in getattr(c, "prompts", ())]
    third = list(hotline.speaker.number(3, "ru"))  # two live callers ahead of the place
    assert said[:1 + len(third)] == ["callback_exists", *third]
