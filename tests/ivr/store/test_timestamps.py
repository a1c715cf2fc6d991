"""One time convention in the database (issue 8): aware UTC in, aware UTC out, on both backends;
migration 0003 turns the console calls' Moscow wall clock on SQLite into UTC."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from ivr.citizens import registry
from ivr.cli import main
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call
from ivr.store.timestamps import UtcDateTime, aware, utc

MOSCOW = ZoneInfo("Europe/Moscow")


def test_naive_datetimes_are_refused_and_aware_ones_become_utc():
    with pytest.raises(ValueError, match="aware"):
        utc(datetime(2026, 11, 23, 13, 0))
    assert utc(datetime(2026, 11, 23, 13, 0, tzinfo=MOSCOW)) == datetime(2026, 11, 23, 10, 0,
                                                                         tzinfo=UTC)
    assert aware(datetime(2026, 11, 23, 10, 0)).tzinfo is UTC and aware(None) is None


def _row(call_id: str, at: datetime) -> dict:
    return {"call_id": call_id, "outcome": "self_served", "started_at": at, "answered_at": at,
            "ended_at": at + timedelta(minutes=2)}


def test_every_backend_stores_the_same_instant_and_returns_aware_utc(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    moscow_13 = datetime(2026, 11, 23, 13, 0, tzinfo=MOSCOW)
    with session_factory(engine)() as db:
        db.add(Call(**_row("c-moscow", moscow_13)))
        db.add(Call(**_row("c-offset", moscow_13.astimezone(timezone(timedelta(hours=-5))))))
        db.commit()
        with pytest.raises(Exception, match="aware"):
            db.add(Call(**_row("c-naive", datetime(2026, 11, 23, 13, 0))))
            db.flush()
        db.rollback()
        got = {c.call_id: c.started_at for c in db.scalars(select(Call))}
    assert got == {"c-moscow": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
                   "c-offset": datetime(2026, 11, 23, 10, 0, tzinfo=UTC)}
    assert all(v.tzinfo is UTC for v in got.values())
    engine.dispose()


def test_migration_0003_converts_console_calls_and_keeps_bridge_calls(db_url):
    """Rows as the code before 0003 wrote them: the console's Moscow wall clock (SQLite), the
    bridge's UTC; after the upgrade both read back as the instant they happened."""
    engine = make_engine(db_url)
    upgrade(engine, "0002")
    sqlite = engine.dialect.name == "sqlite"
    insert = text("INSERT INTO calls (call_id, identification, priority, callback_requested, "
                  "outcome, started_at, answered_at, ended_at) VALUES (:id, 'none', 0, :f, "
                  "'self_served', :t, :t, :e)")
    with engine.begin() as conn:
        if sqlite:  # wall clocks without offset, as SQLAlchemy's SQLite DATETIME stored them
            conn.execute(insert, {"id": "4f1c0e", "f": False, "t": "2026-11-23 13:00:00.000000",
                                  "e": "2026-11-23 13:02:00.000000"})
            conn.execute(insert, {"id": "ast1:1764.1", "f": False,
                                  "t": "2026-11-23 10:00:00.000000",
                                  "e": "2026-11-23 10:02:00.000000"})
        else:  # timestamptz kept the instant all along
            conn.execute(insert, {"id": "4f1c0e", "f": False, "t": "2026-11-23 13:00:00+03",
                                  "e": "2026-11-23 13:02:00+03"})
            conn.execute(insert, {"id": "ast1:1764.1", "f": False, "t": "2026-11-23 10:00:00+00",
                                  "e": "2026-11-23 10:02:00+00"})
    upgrade(engine, "0003")
    with session_factory(engine)() as db:
        got = {c.call_id: (c.started_at, c.ended_at)  # columns of 0003 only: the model is newer
               for c in db.execute(select(Call.call_id, Call.started_at, Call.ended_at))}
    ten = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert got == {"4f1c0e": (ten, ten + timedelta(minutes=2)),
                   "ast1:1764.1": (ten, ten + timedelta(minutes=2))}
    upgrade(engine, "0003")  # at head already: nothing moves twice
    with session_factory(engine)() as db:
        assert db.scalars(select(Call.started_at)).all() == [ten, ten]
    engine.dispose()


def test_a_console_call_and_its_sms_are_stored_on_one_clock(tmp_path, monkeypatch, capsys):
    """The issue's example: `--at 2026-11-23T13:00` (Moscow) stored the call at 13:00 and its SMS
    at 10:00. Both are 10:00 UTC now, read raw from the file."""
    url = f"sqlite:///{tmp_path / 'one-clock.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_SECRET", "one-clock-test-secret-0123456789")
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        registry.seed(db, 1)
        db.commit()
    demo = registry.fictitious_citizens(1)[0]
    assert main(["--log-format", "json", "call", "88005553535", "--at", "2026-11-23T13:00",
                 "--json", "--keys", f"2 1 {demo.snils}# 01021980# hangup"]) == 0
    call_id = json.loads(capsys.readouterr().out)["call_id"]
    with engine.connect() as conn:
        started = conn.execute(text("SELECT started_at FROM calls WHERE call_id = :c"),
                               {"c": call_id}).scalar_one()
        sent = conn.execute(text("SELECT created_at FROM sms_outbox WHERE call_id = :c"),
                            {"c": call_id}).scalar_one()
    assert started.startswith("2026-11-23 10:00") and sent.startswith("2026-11-23 10:00")
    engine.dispose()
    assert main(["sms", "outbox"]) == 0  # people are shown Moscow time
    assert "2026-11-23 13:00" in capsys.readouterr().out


def test_the_column_type_is_used_by_every_timestamp_column():
    from sqlalchemy import DateTime

    from ivr.store.schema import metadata

    plain = [f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns
             if isinstance(c.type, DateTime) and not isinstance(c.type, UtcDateTime)]
    assert plain == []
