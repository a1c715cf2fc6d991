"""Any sequence of keys, silences, hang-ups and driver errors, at any moment, on any line and
hour, ends in exactly one recorded outcome and never raises (issue 3, "Bad input").

Runs the real session against a real (in-memory) SQLite registry: the deep states —
identification, one-time codes, status, callbacks, locks — are reached by tokens that carry a
valid SNILS, birth date, application number or the code just sent. A service failure can be
injected at any request to prove it ends only that call, with result ``error``.
"""
from __future__ import annotations

import io as io_mod
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import structlog
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.pool import StaticPool

from ivr.call import requests as io
from ivr.call.machine import RESULTS
from ivr.call.protocol import CallerHangup, Collect, Digits, DriverError, Enqueue, Hangup, NoInput
from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.citizens import registry
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.console import dev_code
from ivr.store.base import session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

MSK = ZoneInfo("Europe/Moscow")
WEEK_START = datetime(2026, 11, 23, 0, 0, tzinfo=MSK)
DIALPLAN = load_dialplan("dialplans")
MENUS = load_menus("dialplans")
NUMBERS = sorted(DIALPLAN.numbers)
EXAMPLES = int(os.environ.get("HOTLINE_PROPERTY_EXAMPLES", "2000"))


class Flaky:
    """DbServices that raises on the n-th request (n None = never) and counts outcome writes."""

    def __init__(self, inner: DbServices) -> None:
        self.inner, self.fail_at, self.seen, self.outcomes = inner, None, 0, 0
        self.factory = inner.factory  # the console's dev_code reads the SMS outbox through it

    def execute(self, call, request, now):
        self.seen += 1
        if self.fail_at is not None and self.seen == self.fail_at:
            raise RuntimeError("injected failure")
        if isinstance(request, io.RecordOutcome):
            self.outcomes += 1
        return self.inner.execute(call, request, now)


@pytest.fixture(scope="module")
def world():
    saved = structlog.get_config()  # injected failures log tracebacks: keep them cheap
    structlog.configure(processors=[structlog.processors.JSONRenderer(default=str)],
                        logger_factory=structlog.PrintLoggerFactory(io_mod.StringIO()))
    mp = pytest.MonkeyPatch()
    mp.setenv("HOTLINE_SECRET", "property-test-secret-0123456789")
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    upgrade(engine)  # the schema as `hotline db upgrade` makes it
    factory = session_factory(engine)
    with factory() as db:
        people = registry.seed(db, 4, today=WEEK_START.date())
        db.commit()
    services = Flaky(DbServices(factory, FixedWait(120)))
    hotline = Hotline(DIALPLAN, MENUS, services, SpeechSpeaker(DIALPLAN.tz))
    yield hotline, factory, people
    engine.dispose()
    mp.undo()
    structlog.configure(**saved)


def journeys(people):
    """Plausible starts (then cut short at random) so random tails reach the deep states."""
    p, q = people[0], people[1]
    dob_p, dob_q = f"{p.birth_date:%d%m%Y}", f"{q.birth_date:%d%m%Y}"
    return [
        [], ["1"], ["2", "1", p.snils, dob_p, "CODE", p.applications[3][0]],
        ["2", "2", q.passport, dob_q, "CODE", q.applications[0][0], "1"],
        ["1", "1", q.snils, dob_q, "CODE"], ["8", "6", "1", p.snils, dob_p, "000000"],
        ["2", "1", p.snils, dob_p, "LATER", "*", "CODE"], ["5", "1"], ["9"], ["8", "7", "#"],
        ["2", "8", "2", "1", p.snils, dob_p, "CODE"],  # tax line: INN asked
    ]


def tokens(people):
    p = people[0]
    q = people[1]
    specials = [p.snils, q.snils, p.snils[:-1] + "0", f"{p.birth_date:%d%m%Y}", "01021980",
                "31022000", q.passport, f"{q.birth_date:%d%m%Y}", p.applications[0][0],
                p.applications[3][0], q.applications[0][0], "000000", "12", "*1", ""]
    keys = [Digits(k) for k in "0123456789*#"]
    rare = [NoInput(), "CODE", "LATER", CallerHangup(), DriverError("channel gone")]
    return st.one_of(st.sampled_from(keys * 3 + [NoInput()] * 3 + rare),
                     st.sampled_from(specials).map(Digits))


def play(hotline, factory, people, number, at, script, wait, fail_at):
    with factory.begin() as db:  # each example starts from unlocked accounts
        db.execute(update(registry.Citizen).values(locked_until=None))
        db.execute(delete(registry.IdentAttempt))
    services = hotline.services
    services.inner.waits = FixedWait(wait)
    services.fail_at, services.seen, services.outcomes = fail_at, 0, 0
    session = hotline.new_call(did=number, caller="+79161234567")
    now = at
    commands = session.start(now)
    for token in script:
        if session.done:
            break
        assert commands and isinstance(commands[-1], Collect), commands
        now += timedelta(seconds=7)
        if token == "LATER":
            now += timedelta(minutes=6)
            continue
        if token == "CODE":
            token = Digits(dev_code(session, now) or "999999")
        commands = session.feed(token, now)
    if not session.done:
        session.feed(CallerHangup(), now + timedelta(seconds=1))
    return session, commands


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_any_call_ends_in_exactly_one_outcome(world, data):
    hotline, factory, people = world
    number = data.draw(st.sampled_from(NUMBERS), label="number")
    at = WEEK_START + timedelta(minutes=data.draw(st.integers(0, 7 * 24 * 60 - 1), label="at"))
    start = data.draw(st.sampled_from(journeys(people)), label="journey")
    start = [t if t in ("CODE", "LATER") else Digits(t)
             for t in start[: data.draw(st.sampled_from([len(start)] * 3 + list(
                 range(len(start)))), label="cut")]]
    script = start + data.draw(st.lists(tokens(people), max_size=25), label="script")
    wait = data.draw(st.sampled_from([None, 0, 90, 660, 1800]), label="wait")
    fail_at = data.draw(st.sampled_from([None] * 9 + [1, 2, 3, 5, 8]), label="fail_at")
    session, last = play(hotline, factory, people, number, at, script, wait, fail_at)

    assert session.done and session.outcome is not None
    event(f"outcome={session.outcome['outcome']}")
    event(f"identification={session.outcome['identification']}")
    assert session.outcome["outcome"] in RESULTS
    with factory() as db:
        rows = db.scalar(select(func.count(Call.id)).where(Call.call_id == session.call_id))
    assert rows == 1
    assert hotline.services.outcomes == 1
    if last and not isinstance(last[-1], Collect):  # the IVR ended it: with a final command
        assert isinstance(last[-1], Enqueue | Hangup)
    assert session.feed(Digits("1"), at + timedelta(hours=1)) == []
