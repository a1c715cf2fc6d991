"""Issue 13 item 9: an over-long caller id, DID or callback number never loses the record.

PostgreSQL refused such rows (``StringDataRightTruncation`` → ``call_outcome_lost``); SQLite
stored them whole. Now the bridge cuts caller-controlled identifiers and the store cuts every
bounded column, so the call keeps its one row on both.
"""
from __future__ import annotations

import pytest
from ami_support import MONDAY_10, db_hotline, run_bridge_calls
from sqlalchemy import select

from ivr.drivers.ami.emulator import CallerScript
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import upgrade
from ivr.store.models import Call

pytestmark = pytest.mark.timeout(120)
LONG_CALLER = "7916" + "1" * 200
LONG_DID = "8800555" + "3" * 60


def test_long_caller_id_and_did_keep_their_rows(db_url, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "ami-long-fields-secret-0123456789")
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    records = run_bridge_calls(db_hotline(factory), lambda emu: (
        emu.place_call(dnid=LONG_DID, callerid="79161234567", script=CallerScript()),
        emu.place_call(callerid=LONG_CALLER, script=CallerScript(presses=["4"]))), 2)
    with factory() as db:
        rows = {c.call_id: c for c in db.scalars(select(Call))}
    assert len(records) == 2 and {r.call_id for r in records} == set(rows)
    assert all(len(r.did or "") <= 32 for r in rows.values())
    engine.dispose()


def test_store_cuts_bounded_columns_instead_of_failing(db_url, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "ami-long-fields-secret-0123456789")
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as db:
        assert record_call(db, {"call_id": "long-1", "did": "9" * 100, "line": "l" * 100,
                                "skill": "s" * 100, "agent_id": "a" * 100,
                                "caller_number": "7" * 100_000, "outcome": "queued",
                                "started_at": MONDAY_10, "detail": "x" * 100_000})
    with factory() as db:
        row = db.scalars(select(Call)).one()
    assert (len(row.did), len(row.agent_id)) == (32, 32) and len(row.detail) <= 4000
    assert len(row.caller_number) <= 64
    engine.dispose()
