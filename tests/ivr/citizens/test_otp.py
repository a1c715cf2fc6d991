"""One-time codes: hashed storage, TTL, tries, resend schedule (SPEC §6), outbox dev codes."""
from __future__ import annotations

import itertools
import json
import logging
import os
import stat
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from ivr.citizens import otp, registry, sms
from ivr.citizens.registry import OtpCode
from ivr.store.base import make_engine, session_factory
from ivr.store.schema import metadata

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SECRET = "otp-test-secret-0123456789"


@pytest.fixture
def db(db_url, monkeypatch):
    """A fresh database on SQLite and on PostgreSQL (``db_url`` from tests/conftest.py)."""
    monkeypatch.setenv("HOTLINE_SECRET", SECRET)
    monkeypatch.delenv("HOTLINE_SMS_DEV_CODES", raising=False)
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with session_factory(engine)() as session:
        people = registry.seed(session, 3, today=NOW.date())
        session.commit()
        session.info["citizen_id"] = registry.identify(
            session, snils=people[0].snils, birth_date=people[0].birth_date, now=NOW).citizen_id
        yield session
    engine.dispose()


def send(db, at, call_id="call-1", gateway=None):
    return otp.send_code(db, call_id=call_id, citizen_id=db.info["citizen_id"], now=at,
                         gateway=gateway or sms.OutboxGateway())


def last_code(db, call_id="call-1", at=NOW):
    entries = sms.list_outbox(db, at, call_id=call_id, limit=1)
    return entries[0].dev_code if entries else None


def test_code_is_six_digits_stored_only_as_hmac(db):
    result = send(db, NOW)
    assert result.status == "sent" and result.expires_at == NOW + timedelta(minutes=5)
    code = last_code(db)
    assert len(code) == 6 and code.isdigit()
    row = db.scalars(select(OtpCode)).one()
    assert row.code_hmac == otp.code_hmac(SECRET.encode(), "call-1", 1, code)
    dump = str(list(db.execute(text("select * from otp_codes"))))
    assert code not in dump
    entry = sms.list_outbox(db, NOW)[0]
    assert "******" in entry.text and code not in entry.text
    assert entry.to == "+*********67"  # the demo citizen's mobile, masked


def test_the_sms_states_the_policys_lifetime(db):
    """The lifetime said in the SMS is the policy's, not a "5 минут" written in the text."""
    otp.send_code(db, call_id="call-9", citizen_id=db.info["citizen_id"], now=NOW,
                  gateway=sms.OutboxGateway(), policy=otp.OtpPolicy(ttl=timedelta(minutes=3)))
    assert "Действует 3 мин." in sms.list_outbox(db, NOW, call_id="call-9")[0].text
    later = NOW + timedelta(hours=2)  # past the account's resend gap and hourly budget
    assert send(db, later).status == "sent"
    assert "Действует 5 мин." in sms.list_outbox(db, later, call_id="call-1")[0].text


def test_right_code_once_then_no_live_code_and_dev_code_wiped(db):
    send(db, NOW)
    code = last_code(db)
    assert otp.check_code(db, call_id="call-1", entered=code, now=NOW).status == "ok"
    assert otp.check_code(db, call_id="call-1", entered=code, now=NOW).status == "none"
    assert last_code(db) is None


def test_three_wrong_codes_lock_the_account(db):
    send(db, NOW)
    code = last_code(db)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert otp.check_code(db, call_id="call-1", entered=wrong, now=NOW).tries_left == 2
    assert otp.check_code(db, call_id="call-1", entered=wrong, now=NOW).tries_left == 1
    third = otp.check_code(db, call_id="call-1", entered=wrong, now=NOW)
    assert third.status == "locked" and third.locked_until > NOW
    # a pause (SPEC §6), not a day-long lock an attacker could impose (issue 13 item 6)
    assert registry.is_locked(db, db.info["citizen_id"], NOW + timedelta(minutes=10))
    assert not registry.is_locked(db, db.info["citizen_id"], NOW + timedelta(hours=1))
    assert otp.check_code(db, call_id="call-1", entered=code, now=NOW).status == "none"


def test_code_expires_after_five_minutes(db):
    send(db, NOW)
    code = last_code(db)
    at = NOW + timedelta(minutes=5)
    assert otp.check_code(db, call_id="call-1", entered=code, now=at).status == "expired"
    assert sms.list_outbox(db, at)[0].dev_code is None


def test_hangup_voids_the_live_code(db):
    send(db, NOW)
    code = last_code(db)
    assert otp.invalidate(db, "call-1") == 1
    assert otp.check_code(db, call_id="call-1", entered=code, now=NOW).status == "none"
    assert last_code(db) is None


def test_resend_schedule_follows_spec_section_6(db):
    minutes = timedelta(minutes=1)
    assert send(db, NOW).send_no == 1
    early = send(db, NOW + 59 * timedelta(seconds=1))
    assert early.status == "too_soon" and early.retry_after == timedelta(seconds=1)
    t2 = NOW + 1 * minutes
    assert send(db, t2).send_no == 2
    assert send(db, t2 + 4 * minutes).status == "too_soon"
    t3 = t2 + 5 * minutes
    assert send(db, t3).send_no == 3
    assert otp.send_status(db, "call-1", t3 + 9 * minutes).retry_after == minutes
    t4 = t3 + 10 * minutes
    assert send(db, t4).send_no == 4
    t5 = t4 + 10 * minutes
    assert send(db, t5).send_no == 5
    assert send(db, t5 + 60 * minutes).status == "limit"
    # only the newest code is live: the earlier ones were voided by each resend
    assert [r.state for r in db.scalars(select(OtpCode).order_by(OtpCode.send_no))] == \
        ["void"] * 4 + ["live"]
    assert [e.dev_code is not None for e in sms.list_outbox(db, t5)] == [True] + [False] * 4
    # another call of the same account shares its budget (issue 13 item 6) until the
    # account's window slides past those sends
    assert send(db, t5, call_id="call-2").status == "limit"
    assert send(db, t5 + 60 * minutes, call_id="call-2").send_no == 1


def test_a_resend_does_not_reset_the_wrong_entries(db):
    send(db, NOW)
    code = last_code(db)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert otp.check_code(db, call_id="call-1", entered=wrong, now=NOW).tries_left == 2
    assert otp.check_code(db, call_id="call-1", entered=wrong, now=NOW).tries_left == 1
    at = NOW + timedelta(minutes=1)
    send(db, at)
    code = last_code(db, at=at)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert otp.check_code(db, call_id="call-1", entered=wrong, now=at).status == "locked"


def test_old_code_is_refused_after_a_resend(db):
    send(db, NOW)
    first = last_code(db)
    send(db, NOW + timedelta(minutes=1))
    second = last_code(db, at=NOW + timedelta(minutes=1))
    at = NOW + timedelta(minutes=2)
    if first != second:
        assert otp.check_code(db, call_id="call-1", entered=first, now=at).status == "wrong"
    assert otp.check_code(db, call_id="call-1", entered=second, now=at).status == "ok"


def test_dev_codes_can_be_turned_off(db, monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_DEV_CODES", "0")
    send(db, NOW)
    assert last_code(db) is None
    assert "******" in sms.list_outbox(db, NOW)[0].text


def test_no_mobile_means_no_code(db):
    citizen = db.get(registry.Citizen, db.info["citizen_id"])
    citizen.mobile = None
    assert send(db, NOW).status == "no_mobile"


def test_code_never_reaches_the_log(db, capsys):
    from ivr.logs import configure_logging

    configure_logging("json", logging.INFO)
    send(db, NOW)
    code = last_code(db)
    otp.check_code(db, call_id="call-1", entered="000000" if code != "000000" else "111111",
                   now=NOW)
    structlog.reset_defaults()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
             if line.startswith("{")]
    assert {line["event"] for line in lines} >= {"sms_queued", "otp_sent", "otp_wrong"}
    fields = json.dumps([{k: v for k, v in line.items() if k != "timestamp"} for line in lines])
    assert code not in fields and "9161234567" not in fields


def test_secret_file_is_created_0600_and_refused_when_open(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_SECRET", raising=False)
    path = tmp_path / "var" / "secret"
    monkeypatch.setenv("HOTLINE_SECRET_FILE", str(path))
    value = otp.server_secret()
    assert len(value) == 64 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert otp.server_secret() == value
    other = tmp_path / "loose"
    other.write_text("x" * 40)
    other.chmod(0o644)
    monkeypatch.setenv("HOTLINE_SECRET_FILE", str(other))
    with pytest.raises(otp.SecretError, match="chmod 600"):
        otp.server_secret()
    monkeypatch.setenv("HOTLINE_SECRET", "short")
    with pytest.raises(otp.SecretError):
        otp.server_secret()


_EPOCHS = itertools.count(1)  # each example on its own day: the account windows never overlap
OPS = st.lists(st.tuples(st.sampled_from(["send", "right", "wrong", "hangup"]),
                         st.integers(0, 900)), max_size=25)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS)
def test_random_sequences_follow_the_model(db, ops):
    """Model-based: any order of sends, right/wrong entries, hang-ups and waits behaves as the
    rules say — at most 5 codes, SPEC §6 gaps, one live code, TTL, 3 wrong entries per call,
    hang-up voids."""
    policy = otp.OtpPolicy()
    call_id = f"prop-{uuid.uuid4().hex[:12]}"
    now, sent, live, wrongs = NOW + timedelta(days=next(_EPOCHS)), [], None, 0  # live: [code, expires]
    for op, dt in ops:
        now += timedelta(seconds=dt)
        if op == "send":
            allowed = len(sent) < 5 and (not sent or now >= sent[-1] + policy.gap_before(
                len(sent) + 1))
            result = send(db, now, call_id=call_id)
            assert (result.status == "sent") == allowed, (result, len(sent))
            if allowed:
                sent.append(now)
                live = [last_code(db, call_id, now), now + policy.ttl]
        elif op == "hangup":
            otp.invalidate(db, call_id)
            live = None
        else:
            code = live[0] if live else "123456"
            if op == "wrong" or live is None:
                code = f"{(int(code) + 1) % 10**6:06d}"
            status = otp.check_code(db, call_id=call_id, entered=code, now=now).status
            if live is None:
                assert status == "none"
            elif now >= live[1]:
                assert status == "expired"
                live = None
            elif op == "right":
                assert status == "ok"
                live = None
            else:  # wrong entries add up over the whole call, across resends
                wrongs += 1
                assert status == ("locked" if wrongs >= 3 else "wrong")
                live = None if wrongs >= 3 else live
        rows = db.scalars(select(OtpCode).where(OtpCode.call_id == call_id)).all()
        assert len(rows) == len(sent) <= 5
        assert sum(r.state == "live" for r in rows) <= 1
        assert (last_code(db, call_id, now) is not None) == (live is not None and now < live[1])
