"""The store on SQLite and on a real PostgreSQL server: schema by migration, exactly-once call
records, an audit log that refuses changes at the database level."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from ivr.cli import main
from ivr.store import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import current, head, upgrade
from ivr.store.models import AuditEntry, AuditLogIsAppendOnly, Call

pytestmark = pytest.mark.real("postgresql")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_upgrade_creates_the_schema_and_is_repeatable(db_url):
    engine = make_engine(db_url)
    assert upgrade(engine) == head()
    assert upgrade(engine) == head()  # a second run changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {"calls", "audit_log", "alembic_version"} <= tables
    cols = {c["name"] for c in inspect(engine).get_columns("calls")}
    assert {"call_id", "caller_number", "did", "line", "region", "started_at", "answered_at",
            "ended_at", "outcome", "agent_id"} <= cols


def test_a_call_is_recorded_exactly_once(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    Session = session_factory(engine)
    row = {"call_id": "srv1-1732351200.17", "caller_number": "+79161234567",
           "did": "+78005553535", "line": "federal", "region": "all", "started_at": T0,
           "ended_at": T0, "outcome": "self_served", "menu_path": ["1", "2"]}
    with Session.begin() as s:
        assert record_call(s, row) is True
    with Session.begin() as s:  # a reconnecting bridge writes the same call again
        assert record_call(s, {**row, "outcome": "abandoned_ivr"}) is False
    with Session() as s:
        rows = s.scalars(select(Call)).all()
    assert len(rows) == 1 and rows[0].outcome == "self_served" and rows[0].menu_path == ["1", "2"]
    assert rows[0].started_at.replace(tzinfo=UTC) == T0 or rows[0].started_at == T0


def test_unknown_record_field_is_refused(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with session_factory(engine).begin() as s, pytest.raises(ValueError, match="outcom"):
        record_call(s, {"call_id": "x", "started_at": T0, "outcom": "typo"})


def test_audit_log_is_append_only_in_orm_and_in_sql(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    Session = session_factory(engine)
    with Session.begin() as s:
        s.add(AuditEntry(at=T0, actor="supervisor:ivanova", action="view_call",
                         subject="call:srv1-1", detail={"reason": "complaint"}))
    with Session() as s:
        entry = s.scalars(select(AuditEntry)).one()
        entry.actor = "someone-else"
        with pytest.raises(AuditLogIsAppendOnly):
            s.flush()
        s.rollback()
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalar() == "supervisor:ivanova"


def test_db_upgrade_command(db_url, capsys):
    assert main(["db", "--url", db_url, "upgrade"]) == 0
    assert f"at revision {head()}" in capsys.readouterr().out
    assert current(make_engine(db_url)) == head()
    assert main(["db", "--url", db_url, "status"]) == 0
    assert "calls: 0" in capsys.readouterr().out


def test_unreachable_database_is_a_clear_error(capsys):
    rc = main(["db", "--url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "upgrade"])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: cannot upgrade") and "Traceback" not in err


def test_migrations_match_the_models(db_url):
    """Every table and column the code declares is created by `hotline db upgrade`."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ivr.store.schema import metadata

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models and migrations differ (write a migration): {diff}"
