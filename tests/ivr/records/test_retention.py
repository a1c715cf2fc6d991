"""Retention under a moved clock: exactly the expired items go, statistics stay, a second run
changes nothing, and a run killed mid-way (SIGKILL, a real subprocess) leaves every row either
untouched or fully done, with the audit log agreeing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ivr.call.callbacks import Callback, request_callback
from ivr.citizens import registry
from ivr.citizens.registry import IdentAttempt, OtpCode
from ivr.citizens.sms import OutboxGateway, SmsMessage, SmsOutbox
from ivr.records import retention
from ivr.records.recordings import Recording, open_writer
from ivr.store import audit
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import upgrade
from ivr.store.models import AuditEntry, Call

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
POLICY = retention.load_policy(ROOT / "dialplans")
N = 40


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    monkeypatch.setenv("HOTLINE_SECRET", "retention-test-secret-0123456789")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    upgrade(engine)
    rec_root = tmp_path / "recordings"
    with session_factory(engine).begin() as db:
        people = registry.seed(db, 2, today=T0.date())
        cid = db.scalars(select(registry.Citizen.id)).first()
        for i in range(N):
            at = T0 + timedelta(hours=i)
            record_call(db, {"call_id": f"c{i}", "caller_number": people[i % 2].mobile,
                             "started_at": at, "ended_at": at + timedelta(minutes=3),
                             "skill": "tech" if i % 3 else "pf", "outcome": "queued",
                             "menu_path": ["main:5:tech"], "detail": "hangup:normal"})
            w = open_writer(db, call_id=f"c{i}", started_at=at, root=rec_root)
            w.write(b"\x01\x00" * 1600)
            w.close(db, at + timedelta(minutes=3))
            request_callback(db, call_id=f"c{i}", number=people[0].mobile, skill="tech",
                             priority=0, now=at)
            db.add(IdentAttempt(call_id=f"c{i}", kind="not_found", at=at))
            db.add(OtpCode(call_id=f"c{i}", citizen_id=cid, code_hmac="x" * 64, send_no=1,
                           created_at=at, expires_at=at + timedelta(minutes=5)))
            OutboxGateway(reveal_codes=False).send(db, SmsMessage("+79161234567", "t {code}",
                                                                  "1", f"c{i}"), at)
        db.execute(Callback.__table__.update().where(Callback.id % 2 == 0)
                   .values(status="done"))
    yield url, engine, rec_root
    engine.dispose()


def hourly(engine) -> Counter:
    with session_factory(engine)() as db:
        return Counter((c.started_at.replace(minute=0), c.skill, c.outcome)
                       for c in db.execute(select(Call.started_at, Call.skill, Call.outcome)))


def counts(engine) -> dict[str, int]:
    with session_factory(engine)() as db:
        n = lambda q: db.scalar(select(func.count()).select_from(q.subquery()))
        return {
            "numbers": n(select(Call.id).where(Call.caller_number.is_not(None))),
            "paths": n(select(Call.id).where(Call.menu_path.is_not(None))),
            "audio": n(select(Recording.id).where(Recording.state == "stored")),
            "otp": n(select(OtpCode.id)), "sms": n(select(SmsOutbox.id)),
            "attempts": n(select(IdentAttempt.id)),
            "cb_numbers": n(select(Callback.id).where(Callback.number.is_not(None))),
            "calls": n(select(Call.id))}


def files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.wav.enc"))


def test_moving_the_clock_deletes_exactly_the_expired(world):
    _url, engine, root = world
    stats = hourly(engine)
    full = counts(engine)
    assert files(root) == N and full["audio"] == N
    # day 30 + 10 h: codes and SMS of the first 10 hours are past 30 days, the rest are not
    rep = retention.run(engine, T0 + timedelta(days=30, hours=10), POLICY, root=root, batch=7)
    c = counts(engine)
    assert (c["otp"], c["sms"]) == (N - 10, N - 10)
    assert {k: c[k] for k in ("numbers", "paths", "audio", "attempts")} == \
        {k: full[k] for k in ("numbers", "paths", "audio", "attempts")}
    assert rep.done == {"otp_rows:otp_codes": 10, "sms:sms_outbox": 10}
    # day 90 + 5 h: audio, IVR inputs, finished callbacks
    rep90 = retention.run(engine, T0 + timedelta(days=90, hours=5), POLICY, root=root)
    c = counts(engine)
    assert (c["audio"], files(root), c["paths"], c["attempts"]) == (N - 5, N - 5, N - 5, N - 5)
    assert c["cb_numbers"] == N - 2  # the done ones among the first 5 (ids 2, 4); pending kept
    # a year on: every caller number wiped, the hourly statistics untouched
    rep400 = retention.run(engine, T0 + timedelta(days=400), POLICY, root=root)
    c = counts(engine)
    assert (c["numbers"], c["audio"], c["otp"], c["sms"], c["calls"]) == (0, 0, 0, 0, N)
    assert c["cb_numbers"] == N // 2  # pending callbacks are never wiped
    assert hourly(engine) == stats
    again = retention.run(engine, T0 + timedelta(days=400), POLICY, root=root)
    assert again.batches == 0 and again.files == 0  # idempotent
    with session_factory(engine)() as db:
        logged = sum(e.detail["count"] for e in db.scalars(
            select(AuditEntry).where(AuditEntry.action == "records_deleted")))
    assert logged == sum(sum(r.done.values()) for r in (rep, rep90, rep400))
    assert audit.verify(engine).ok


@pytest.mark.timeout(120)
def test_a_run_killed_mid_way_leaves_nothing_half_deleted(world):
    url, engine, root = world
    at = (T0 + timedelta(days=400)).isoformat()
    env = {**os.environ, "HOTLINE_RECORDINGS_DIR": str(root)}
    cmd = [sys.executable, "-m", "ivr.cli", "retention", "run", "--url", url, "--at", at,
           "--dialplans", str(ROOT / "dialplans"), "--recordings", str(root), "--batch", "3",
           "--pause", "0.15"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for some committed work, then kill
            with session_factory(engine)() as db:
                done = db.scalar(select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "records_deleted"))
            if done >= 4:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    c = counts(engine)
    assert 0 < c["audio"] < N  # really stopped mid-way through the audio
    # every recording row is either stored with its file, or deleted (file maybe left behind)
    with session_factory(engine)() as db:
        for r in db.scalars(select(Recording)):
            assert r.state in ("stored", "deleted")
            if r.state == "stored":
                assert (root / r.path).exists()
            else:
                assert r.deleted_at is not None
        logged = sum(e.detail["count"] for e in db.scalars(
            select(AuditEntry).where(AuditEntry.action == "records_deleted")))
    assert logged == N - c["audio"]  # the log names exactly what is gone
    assert audit.verify(engine).ok
    rep = retention.run(engine, T0 + timedelta(days=400), POLICY, root=root)
    c = counts(engine)
    assert (c["audio"], files(root), c["numbers"], c["otp"], c["calls"]) == (0, 0, 0, 0, N)
    assert rep.batches > 0


def test_the_daily_job_serve_calls(world):
    _url, engine, root = world
    rep = retention.daily(engine, T0 + timedelta(days=32), directory=ROOT / "dialplans",
                          root=root)
    assert rep.done["otp_rows:otp_codes"] == N and rep.done["tickets_escalated"] == 0
    nxt = retention.next_daily_run(T0, ZoneInfo("Europe/Moscow"))
    assert nxt > T0 and nxt.hour == 3 and nxt - T0 <= timedelta(days=1)


def test_a_bad_retention_file_names_the_file_line_and_key(tmp_path):
    from ivr.dialplan.yamlconf import ConfigError

    (tmp_path / "retention.yaml").write_text(
        "audio: 90\ncall_record: -1\nivr_inputs: 90\notp_rows: 30\nsms: 30\ncallbacks: 90\n"
        "tickets: 1825\nvideo: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        retention.load_policy(tmp_path)
    text = str(err.value)
    assert "retention.yaml:2" in text and "call_record" in text
    assert "retention.yaml:8" in text and "video: unknown key" in text
