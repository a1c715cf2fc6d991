"""Callbacks: due requests dialled with Originate; answered legs greeted and queued."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ivr.call.callbacks import Callback, request_callback
from ivr.call.services import DbServices
from ivr.call.session import Hotline, SpeechSpeaker
from ivr.call.waits import FixedWait
from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from ivr.drivers.ami.emulator import AMIEmulator
from ivr.drivers.ami.serve import build
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

UNREACHABLE = "+79990000000"


@pytest.fixture
def env(db_url, monkeypatch):
    """On SQLite and on a real PostgreSQL (where bridges share one database in production)."""
    monkeypatch.setenv("HOTLINE_SECRET", "ami-dialler-test-secret-0123456789")
    engine = make_engine(db_url)
    upgrade(engine)  # the schema as `hotline db upgrade` makes it
    factory = session_factory(engine)
    dp = load_dialplan("dialplans")
    hotline = Hotline(dp, load_menus("dialplans"), DbServices(factory, FixedWait(60)),
                      SpeechSpeaker(dp.tz))
    yield hotline, factory
    engine.dispose()


def test_due_callbacks_are_dialled_answered_ones_queued_others_rescheduled(env):
    hotline, factory = env
    now = datetime.now(UTC)
    with factory.begin() as db:
        request_callback(db, call_id="orig-1", number="+79161234567", skill="payments",
                         priority=2, now=now, arrival=now - timedelta(minutes=3))
        request_callback(db, call_id="orig-2", number=UNREACHABLE, skill="tax", priority=0,
                         now=now)
        request_callback(db, call_id="orig-3", number="+79161111111", skill="tax", priority=0,
                         now=now, due=now + timedelta(hours=1))  # not due yet

    async def main():
        async with AMIEmulator(time_scale=0.005,
                               originate_reason=lambda ch: 3 if UNREACHABLE in ch else 4) as emu:
            emu.add_queue("hotline-payments", ["alice"], ring_s=1, talk_s=1)
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline,
                                 server_id="ast1")
            records = []
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            results = await bridge.dialler.tick()
            for _ in range(1000):
                if records:
                    break
                await asyncio.sleep(0.01)
            again = await bridge.dialler.tick()  # nothing else is due yet
            await bridge.close()
            await conn.close()
            return results, records, again
    results, records, again = asyncio.run(asyncio.wait_for(main(), 30))
    assert sorted(r.reason for r in results) == [3, 4] and again == []
    (rec,) = records
    assert rec.queue_result == "answered" and rec.end_reason == "enqueued"
    with factory() as db:
        cbs = {c.call_id: c for c in db.scalars(select(Callback))}
        calls = {c.call_id: c for c in db.scalars(select(Call))}
    assert cbs["orig-1"].status == "done" and cbs["orig-1"].attempts == 1
    assert cbs["orig-2"].status == "pending" and cbs["orig-2"].attempts == 1
    assert cbs["orig-2"].next_attempt_at.replace(tzinfo=UTC) > now + timedelta(minutes=1)
    assert cbs["orig-3"].status == "pending" and cbs["orig-3"].attempts == 0
    row = calls[rec.call_id]
    # the queue's result replaces 'queued' (issue 13 item 1): the agent took the callback leg
    assert (row.outcome, row.skill, row.priority, row.callback_requested) == (
        "answered", "payments", 2, True)
    assert row.agent_id == rec.agent and row.agent_id


def test_fifth_failed_attempt_gives_up(env):
    hotline, factory = env
    now = datetime.now(UTC)
    with factory.begin() as db:
        request_callback(db, call_id="orig-9", number=UNREACHABLE, skill="tax", priority=0,
                         now=now)
        db.scalars(select(Callback)).one().attempts = 4

    async def main():
        async with AMIEmulator(time_scale=0.005, originate_reason=lambda ch: 5) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline)
            await conn.start()
            res = await bridge.dialler.tick()
            await conn.close()
            return res
    (res,) = asyncio.run(asyncio.wait_for(main(), 30))
    assert res.reason == 5 and not res.answered
    with factory() as db:
        cb = db.scalars(select(Callback)).one()
    assert (cb.status, cb.attempts) == ("failed", 5)


def test_two_diallers_never_claim_the_same_callback(env, monkeypatch):
    """Scale-out: two bridges read the same due list at once; each callback is dialled once."""
    import ivr.call.callbacks
    from ivr.drivers.ami.dialler import Dialler

    _, factory = env
    now = datetime.now(UTC)
    with factory.begin() as db:
        for i in range(10):
            request_callback(db, call_id=f"o-{i}", number=f"+7916000000{i}", skill="tax",
                             priority=0, now=now)
    with factory() as db:  # what the second bridge read before the first one claimed
        stale = ivr.call.callbacks.due_callbacks(db, now)
        db.expunge_all()
    got_a = Dialler(None, factory)._claim(now)
    monkeypatch.setattr(ivr.call.callbacks, "due_callbacks", lambda db, now: stale)
    got_b = Dialler(None, factory)._claim(now)
    assert len(got_a) == 10 and got_b == []
    with factory() as db:
        assert {(c.status, c.attempts) for c in db.scalars(select(Callback))} == {
            ("dialling", 1)}


@pytest.mark.parametrize("raw, dialled", [
    ("+79161234567", "+79161234567"), ("8 (916) 123-45-67", "+79161234567"),
    ("s@from-internal/n", None), ("+88212345678", None), ("+78005553535", None),
    ("+78091234567", None), ("79161234567&PJSIP/evil", None), ("1" * 5000, None), (None, None),
])
def test_callback_numbers_are_normalised_russian_e164_behind_the_allow_list(raw, dialled):
    """Issue 13 item 7: never the raw caller id in ``Local/<number>@hotline-callback``."""
    from ivr.drivers.ami.dialguard import dial_number, load_prefixes

    assert dial_number(raw, load_prefixes("dialplans")) == dialled


def test_refused_callback_number_is_never_dialled(env):
    hotline, factory = env
    now = datetime.now(UTC)
    with factory.begin() as db:
        request_callback(db, call_id="evil-1", number="s@from-internal/n", skill="tax",
                         priority=0, now=now)

    originated = []

    async def main():
        async with AMIEmulator(time_scale=0.005,
                               originate_reason=lambda ch: originated.append(ch) or 4) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline,
                                 server_id="ast1")
            await conn.start()
            results = await bridge.dialler.tick()
            await bridge.close()
            await conn.close()
            return results
    assert asyncio.run(main()) == [] and originated == []
    with factory() as db:
        assert db.scalars(select(Callback)).one().status == "failed"


def test_exported_callback_pattern_dials_only_russian_e164():
    from ivr.dialplan.asterisk import extensions_conf

    conf = extensions_conf(load_dialplan("dialplans"))
    section = conf.split("[hotline-callback]", 1)[1].split("\n[", 1)[0]
    assert "_[+0-9]." not in section and "exten => _+7XXXXXXXXXX,1,Dial(" in section


def test_an_ami_outage_spends_no_redial_attempt(env):
    """Issue 13 item 10: ticks while the link is down dial nothing and keep every attempt;
    once the link is back the callback is dialled on its first attempt."""
    hotline, factory = env
    now = datetime.now(UTC)
    with factory.begin() as db:
        request_callback(db, call_id="outage-1", number="+79161234567", skill="tax",
                         priority=0, now=now)

    async def main():
        async with AMIEmulator(time_scale=0.005, originate_reason=lambda ch: 3) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hotline,
                                 server_id="ast1")
            down = [await bridge.dialler.tick() for _ in range(6)]  # never connected
            sent_while_down = await bridge.dialler._dial(
                {"id": 1, "attempts": 1, "language": "ru", "number": "+79161234567"})
            with factory() as db:
                during = db.scalars(select(Callback)).one()
                during = (during.status, during.attempts)
            await conn.start()
            up = await bridge.dialler.tick()
            await bridge.close()
            await conn.close()
            return down, sent_while_down, during, up
    down, sent_while_down, during, up = asyncio.run(main())
    assert down == [[]] * 6 and not sent_while_down.answered
    assert during == ("pending", 0)
    assert [r.reason for r in up] == [3]
    with factory() as db:
        assert db.scalars(select(Callback)).one().attempts == 1


def test_a_dial_left_by_a_bridge_that_died_is_made_pending_and_dialled_again(env):
    """A bridge stopped mid-dial leaves the row 'dialling'; the next bridge recovers it after
    ten minutes and dials it — the attempt the dead one spent is kept."""
    from ivr.drivers.ami.dialler import Dialler

    _, factory = env
    now = datetime.now(UTC)
    with factory.begin() as db:
        request_callback(db, call_id="o-dead", number="+79160000001", skill="tax",
                         priority=0, now=now - timedelta(minutes=30))
    (first,) = Dialler(None, factory)._claim(now - timedelta(minutes=30))  # then it died
    assert Dialler(None, factory)._claim(now - timedelta(minutes=25)) == []  # still 'dialling'
    (again,) = Dialler(None, factory)._claim(now)
    assert (first["id"], first["attempts"], again["attempts"]) == (again["id"], 1, 2)
