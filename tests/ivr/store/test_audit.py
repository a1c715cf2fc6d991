"""The audit log's hash chain on SQLite and a real PostgreSQL server: intact chains verify;
a row edited, deleted or slipped in directly in the database (triggers dropped, as an intruder
with the database password would) is named by `hotline audit verify`; concurrent appenders on
PostgreSQL never fork the chain."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ivr.cli import main
from ivr.store import audit
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import AuditEntry

pytestmark = pytest.mark.real("postgresql")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    eng = make_engine(db_url)
    upgrade(eng)
    with session_factory(eng).begin() as db:
        for i in range(6):
            if i % 2:  # both ways of writing: the ORM object and the function
                db.add(AuditEntry(at=T0 + timedelta(minutes=i), actor="ivr:c1",
                                  action="application_status_read", subject=f"application:{i}",
                                  detail={"citizen": i}))
            else:
                audit.record(db, at=T0 + timedelta(minutes=i), actor="auditor:petrova",
                             action="recording_played", subject=f"call:c{i}")
    yield eng
    eng.dispose()


def _lift_triggers(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))


def test_intact_chain_verifies(engine, db_url, capsys):
    verdict = audit.verify(engine)
    assert verdict.ok and verdict.rows == 6 and verdict.head_seq == 6
    assert main(["audit", "verify", "--url", db_url]) == 0
    assert "intact: 6 rows" in capsys.readouterr().out


def test_an_edited_row_is_named(engine, db_url, capsys):
    with engine.begin() as conn:
        _lift_triggers(conn)
        rid = conn.execute(text("SELECT id FROM audit_log WHERE seq = 4")).scalar()
        conn.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 4"))
    verdict = audit.verify(engine)
    assert not verdict.ok and (verdict.row_id, verdict.seq) == (rid, 4)
    assert "edited" in verdict.reason
    assert main(["audit", "verify", "--url", db_url]) == 1
    assert f"row id {rid}" in capsys.readouterr().out


def test_a_deleted_row_and_a_cut_tail_are_caught(engine):
    with engine.begin() as conn:
        _lift_triggers(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    verdict = audit.verify(engine)
    assert not verdict.ok and verdict.seq == 4 and "missing" in verdict.reason
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 3"))
    verdict = audit.verify(engine)
    assert not verdict.ok and "head says 6" in verdict.reason


def test_a_row_forged_without_the_key_is_caught(engine):
    with engine.begin() as conn:
        head = conn.execute(text("SELECT last_hash FROM audit_chain")).scalar()
        conn.execute(text("INSERT INTO audit_log (at, actor, action, seq, prev_hash, row_hash) "
                          "VALUES (:t, 'x', 'cover_up', 7, :p, :h)"),
                     {"t": T0, "p": head, "h": "f" * 64})
        conn.execute(text("UPDATE audit_chain SET seq = 7, last_hash = :h"), {"h": "f" * 64})
    verdict = audit.verify(engine)
    assert not verdict.ok and verdict.seq == 7 and "edited" in verdict.reason


@pytest.mark.timeout(60)
def test_concurrent_appenders_keep_one_chain(engine):
    factory = session_factory(engine)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                with factory.begin() as db:
                    audit.record(db, at=T0, actor=f"w{n}", action="otp_sent", subject=str(i))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    verdict = audit.verify(engine)
    assert verdict.ok and verdict.rows == 6 + 60, verdict
