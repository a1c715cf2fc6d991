"""Issue 13 item 6: OTP guessing across calls is limited per account, across calls and time.

The probe: 40 calls of "two wrong codes, hang up" gave 80 guesses, no lock and 40 SMS to the
victim. SPEC §6: at most five attempts, then a pause — per account, whichever call asks.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ivr.citizens import otp, registry, sms
from ivr.citizens.registry import OtpCode
from ivr.store.base import make_engine, session_factory
from ivr.store.schema import metadata

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def db(monkeypatch, tmp_path):
    monkeypatch.setenv("HOTLINE_SECRET", "otp-across-calls-secret-0123456789")
    engine = make_engine(f"sqlite:///{tmp_path / 'otp.db'}")
    metadata.create_all(engine)
    with session_factory(engine)() as session:
        people = registry.seed(session, 2, today=NOW.date())
        session.info["victim"] = registry.identify(
            session, snils=people[0].snils, birth_date=people[0].birth_date, now=NOW).citizen_id
        yield session
    engine.dispose()


def _attack(db, calls: int, every: timedelta) -> int:
    """Each call: send a code, key two wrong ones, hang up. Returns how many SMS went out."""
    gateway = sms.OutboxGateway(reveal_codes=False)
    for i in range(calls):
        at, call_id = NOW + i * every, f"attack-{i}"
        otp.send_code(db, call_id=call_id, citizen_id=db.info["victim"], now=at,
                      gateway=gateway)
        for guess in ("000000", "000001"):
            otp.check_code(db, call_id=call_id, entered=guess, now=at)
        otp.invalidate(db, call_id)  # the attacker hangs up
    return db.scalar(select(func.count(sms.SmsOutbox.id))) or 0


def test_forty_calls_of_two_wrong_codes_give_at_most_five_guesses_and_sms(db):
    texts = _attack(db, 40, timedelta(minutes=1))
    guesses = db.scalar(select(func.sum(OtpCode.tries))) or 0  # entries actually compared
    assert guesses <= 5 and texts <= 5, (guesses, texts)


def test_slow_guessing_over_a_day_stays_within_five_per_hour(db):
    _attack(db, 48, timedelta(minutes=30))  # one call every 30 min for a day
    rows = db.scalars(select(OtpCode).order_by(OtpCode.created_at)).all()
    for row in rows:  # any one-hour window holds at most five compared guesses
        start = row.created_at
        window = [r for r in rows if start <= r.created_at < start + timedelta(hours=1)]
        assert sum(r.tries for r in window) <= 5


def test_the_owner_is_not_locked_out_for_long(db):
    """After the attack the account pauses; an hour later its owner gets a code and in."""
    _attack(db, 40, timedelta(minutes=1))
    later = NOW + timedelta(minutes=40 + 60)
    assert registry.is_locked(db, db.info["victim"], later) is None
    gateway = sms.OutboxGateway(reveal_codes=True)
    sent = otp.send_code(db, call_id="owner", citizen_id=db.info["victim"], now=later,
                         gateway=gateway)
    assert sent.status == "sent"
    code = sms.list_outbox(db, later, call_id="owner")[0].dev_code
    assert otp.check_code(db, call_id="owner", entered=code, now=later).status == "ok"
