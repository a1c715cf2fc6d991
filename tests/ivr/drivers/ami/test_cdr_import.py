"""`hotline import cdr`: Asterisk's own records close the disconnected-bridge gap (issue 11).

The files in tests/data/asterisk/cdr are in the layouts Asterisk 22's cdr_csv and cel_custom
write (see the module docstring of ivr.drivers.ami.cdr and tests/data/asterisk/README.md).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ivr.cli import main
from ivr.drivers.ami.cdr import (
    CdrFormatError,
    agent_of,
    cel_calls,
    master_calls,
    read_text,
    sniff,
)
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.migrate import upgrade
from ivr.store.models import Call

DATA = Path(__file__).resolve().parents[3] / "data" / "asterisk" / "cdr"
MSK = ZoneInfo("Europe/Moscow")


def test_master_csv_calls_merge_legs_and_name_the_agent():
    calls = {c.uniqueid: c for c in master_calls(read_text(DATA / "Master.csv"), MSK)}
    assert set(calls) == {"1795304357.8", "1795304400.11", "1795304460.14"}
    first = calls["1795304357.8"]  # two queue legs: agent18 rang out, agent17 answered
    assert (first.outcome, first.agent, first.caller, first.did) == (
        "answered", "agent17", "+79161234567", "88005553535")
    assert first.started_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # local time → UTC
    assert first.answered_at == datetime(2026, 11, 23, 10, 3, 10, tzinfo=UTC)
    assert first.ended_at == datetime(2026, 11, 23, 10, 9, 40, tzinfo=UTC)
    assert calls["1795304400.11"].outcome == "abandoned"  # in Queue, never bridged to an agent
    assert calls["1795304460.14"].outcome == "abandoned_ivr"  # ended in the IVR


def test_cel_events_become_calls_seen_from_the_callers_channel():
    calls = {c.uniqueid: c for c in cel_calls(read_text(DATA / "cel.csv"), MSK)}
    assert set(calls) == {"1795304500.20", "1795304700.30"}  # .40 has not ended: not imported
    answered = calls["1795304500.20"]
    assert (answered.outcome, answered.agent, answered.did) == ("answered", "agent17",
                                                                "88005553535")
    assert answered.answered_at == datetime.fromtimestamp(1795304600.25, UTC)
    assert answered.ended_at == datetime.fromtimestamp(1795304900, UTC)
    assert calls["1795304700.30"].outcome == "abandoned"
    # the queue join (APP_START of Queue) goes to calls.queued_at: waits of imported calls
    assert answered.queued_at == datetime.fromtimestamp(1795304560.5, UTC)
    assert answered.record("ast1", "cel.csv")["queued_at"] == answered.queued_at


@pytest.mark.parametrize(("channel", "agent"), [
    ("PJSIP/agent17-0000000a", "agent17"), ("Local/1017@agents-00000003;1", "1017"),
    ("SIP/operator-5-000001ff", "operator-5"), ("", None)])
def test_agent_names_from_channels(channel, agent):
    assert agent_of(channel) == agent


def test_files_it_cannot_read_are_refused_with_the_reason(tmp_path):
    short = '"","+79161234567","88005553535","did-federal","x","PJSIP/t-1","","AGI","",' \
            '"2026-11-23 13:00:00","","2026-11-23 13:01:00",60,0,"NO ANSWER","DOCUMENTATION"\n'
    with pytest.raises(CdrFormatError, match="loguniqueid=yes"):
        master_calls(short, MSK)
    with pytest.raises(CdrFormatError, match="not a time"):
        master_calls(short.replace("2026-11-23 13:00:00", "yesterday").replace(
            '"DOCUMENTATION"', '"DOCUMENTATION","1.1",""'), MSK)
    with pytest.raises(CdrFormatError, match="no record"):
        sniff("")
    assert sniff(read_text(DATA / "cel.csv")) == "cel"
    assert sniff(read_text(DATA / "Master.csv")) == "master"


def test_import_fills_the_gap_never_counts_twice_and_is_idempotent(db_url, tmp_path, capsys):
    engine = make_engine(db_url)
    upgrade(engine)
    with session_factory(engine)() as db:  # the bridge saw this call and recorded it itself
        at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        record_call(db, {"call_id": "ast1:1795304357.8", "outcome": "answered",
                         "agent_id": "agent17", "started_at": at, "answered_at": at,
                         "ended_at": at, "menu_path": ["2"], "detail": "bridge"})
        db.commit()
    argv = ["import", "cdr", str(DATA / "Master.csv"), "--url", db_url, "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {"calls_read": 3, "inserted": 2,
                                                  "already_recorded": 1}
    assert main(argv) == 0  # the same file again changes nothing
    assert json.loads(capsys.readouterr().out)["inserted"] == 0
    assert main(["import", "cdr", str(DATA / "cel.csv"), "--url", db_url]) == 0
    assert "2 recorded now" in capsys.readouterr().out
    with session_factory(engine)() as db:
        assert db.scalar(select(func.count()).select_from(Call)) == 5
        kept = db.scalar(select(Call).where(Call.call_id == "ast1:1795304357.8"))
        assert kept.detail == "bridge" and kept.menu_path == ["2"]  # the bridge's record wins
        gap = db.scalar(select(Call).where(Call.call_id == "ast1:1795304400.11"))
        assert (gap.outcome, gap.did, gap.caller_number) == ("abandoned", "88005553536",
                                                             "+79031112233")
    engine.dispose()


def test_a_bad_file_is_a_message_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "Master.csv"
    bad.write_text('"only","three","fields"\n')
    assert main(["import", "cdr", str(bad), "--url", f"sqlite:///{tmp_path / 'x.db'}"]) == 1
    err = capsys.readouterr().err
    assert "neither cdr_csv Master.csv" in err and "Traceback" not in err
    assert main(["import", "cdr", str(tmp_path / "missing.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
