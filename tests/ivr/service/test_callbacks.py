"""The embedded callback dialler: virtual hold in the live ACD, dial at the head, SPEC §6 redials
under a moved clock, after-hours requests at the first working hour, restart keeps them."""
from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ivr.call.callback_legs import claim_ids, recover_stale
from ivr.call.callbacks import Callback
from ivr.store.base import make_engine, session_factory
from ivr.store.models import AuditEntry
from tests.ivr.service.callback_world import (
    MONDAY_10,
    advance,
    live,
    request,
    settle_all,
    world,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def factory(db_url):
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def rows(factory) -> dict[int, Callback]:
    with factory() as db:
        out = {c.id: c for c in db.scalars(select(Callback))}
        db.expunge_all()
    return out


def test_callback_is_dialled_at_its_place_and_its_leg_served_between_earlier_and_later(factory):
    t = MONDAY_10

    async def main():
        clock, svc, dialler, phones = world(factory, t, [1], aht=600.0)
        busy = live(svc, "busy")  # the only agent takes him
        clock.t = t + 1
        before = live(svc, "before")
        cb = request(factory, "orig", number="+79161234567", arrival=t + 5, now=t + 60)
        clock.t = t + 8
        after = live(svc, "after")
        clock.t = t + 60
        await dialler.sync()
        await settle_all(dialler)
        assert phones.dials == [] and svc.acd.virtual_count(0) == 1  # "before" is ahead
        await advance(clock, svc, dialler, t + 6 * 3600)
        assert len(phones.dials) == 1 and phones.dials[0][1] == "+79161234567"
        [leg] = phones.legs
        order = sorted((x.answered_at, x.call_id) for x in (busy, before, after, leg))
        return [c for _, c in order], leg, cb

    order, leg, cb = asyncio.run(main())
    assert order == ["busy", "before", leg.call_id, "after"]
    assert (rows(factory)[cb].status, rows(factory)[cb].attempts) == ("done", 1)


def test_unanswered_callbacks_are_redialled_at_spec_gaps_then_given_up(factory):
    t = MONDAY_10

    async def main():
        clock, svc, dialler, phones = world(factory, t, [2])
        phones.answer = False
        cb = request(factory, "orig", number="+79161234567", arrival=t, now=t)
        for step in range(0, 3 * 3600, 30):  # the clock moves 30 s at a time for 3 hours
            await advance(clock, svc, dialler, t + step)
        return cb, [at for at, _ in phones.dials], svc

    cb, dials, svc = asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(dials)]
    # SPEC §6: at once, after 1-2 min, 5 min, then every 10-15 min; at most 5 attempts
    assert dials[0] == t and len(dials) == 5
    assert 60 <= gaps[0] <= 150 and 300 <= gaps[1] <= 330
    assert all(600 <= g <= 930 for g in gaps[2:])
    row = rows(factory)[cb]
    assert (row.status, row.attempts) == ("failed", 5)
    assert svc.acd.virtual_count(0) == 0  # a given-up request holds no place
    with factory() as db:  # each attempt's outcome is on the audit chain
        audited = db.scalars(select(AuditEntry).where(
            AuditEntry.action == "callback_attempt", AuditEntry.subject == f"callback:{cb}")).all()
    assert sorted(e.detail["attempt"] for e in audited) == [1, 2, 3, 4, 5]
    assert not any(e.detail["answered"] for e in audited)


def test_after_hours_request_enters_the_line_at_the_first_working_hour(factory):
    t = MONDAY_10  # agents on duty from 10:00; the request was left at 21:00 the day before
    hours = [0] * 168
    for h in range(10, 20):  # Monday 10-20 (week hour 0 is Monday 00-01)
        hours[h] = 1

    async def main():
        clock, svc, dialler, phones = world(factory, t - 3600, hours, aht=900.0)
        cb = request(factory, "evening", number="+79161234567", arrival=t - 13 * 3600,
                     now=t - 13 * 3600, due=t)
        await advance(clock, svc, dialler, t - 60)
        assert phones.dials == [] and svc.acd.virtual_count(0) == 0  # not due: not in line
        clock.t = t - 30
        early = live(svc, "before-opening")  # queued before the agents came: he stays first
        await advance(clock, svc, dialler, t)
        clock.t = t + 5
        new = live(svc, "after-opening")
        await advance(clock, svc, dialler, t + 4 * 3600)
        [leg] = phones.legs
        return cb, early, new, leg, [at for at, _ in phones.dials]

    cb, early, new, leg, dials = asyncio.run(main())
    assert len(dials) == 1 and dials[0] >= t  # due at opening, dialled once the line allows
    assert early.answered_at < leg.answered_at < new.answered_at
    assert rows(factory)[cb].status == "done"


def test_a_restart_keeps_pending_callbacks_in_line(factory):
    t = MONDAY_10

    async def main():
        clock, svc, dialler, _phones = world(factory, t, [1], aht=1e5)
        live(svc, "busy")
        live(svc, "waiting")
        ids = [request(factory, f"o{i}", number=f"+7916123450{i}", arrival=t + 10 + i,
                       now=t + 10 + i) for i in range(3)]  # behind "waiting": not dialled
        clock.t = t + 20
        await dialler.sync()
        assert svc.acd.virtual_count(0) == 3
        # the process stops; a new one (fresh ACD, fresh dialler) reads the same database
        _clock2, svc2, dialler2, _ = world(factory, t + 60, [1], aht=1e5)
        await dialler2.sync()
        return ids, svc2.acd.virtual_count(0), {r.status for r in rows(factory).values()}

    ids, held, statuses = asyncio.run(main())
    assert held == len(ids) and statuses == {"pending"}


def test_a_dial_left_half_done_by_a_dead_server_is_taken_up_again(factory):
    t = MONDAY_10
    cb = request(factory, "orig", number="+79161234567", arrival=t, now=t)
    at = datetime.fromtimestamp(t, UTC)
    [claimed] = claim_ids(factory, [cb], at, lambda n: n)  # then the server died
    assert recover_stale(factory, at + timedelta(minutes=5)) == 0  # could still be ringing
    assert recover_stale(factory, at + timedelta(minutes=11)) == 1
    row = rows(factory)[cb]
    assert (row.status, row.attempts) == ("pending", claimed["attempts"])

    async def main():
        _clock, _svc, dialler, phones = world(factory, t + 11 * 60, [1])
        await dialler.sync()
        await settle_all(dialler)
        return phones.dials

    assert len(asyncio.run(main())) == 1
    assert rows(factory)[cb].status == "done"
