"""The live board's snapshot (the interface the web app codes against), its subscription,
``hotline stats`` on the shared snapshot file, and the record writer's batches."""
from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.cli import main
from ivr.service.serve import Options, Service
from ivr.service.stats import publish
from ivr.store.base import make_engine, session_factory
from ivr.store.writer import RecordWriter
from tests.ivr.service.conftest import call_rows

pytestmark = pytest.mark.timeout(60)
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
GROUP_KEYS = {"skill", "name", "waiting", "virtual", "dialling", "longest_wait_s", "agents", "ewt_s", "answered",
              "abandoned", "short_abandoned", "service_level", "asa_s", "aht_s",
              "abandon_rate", "occupancy"}


def test_snapshot_shape_and_coalesced_subscription(db_url):
    async def body():
        svc = Service(Options(db_url=db_url, sip=False, web=False, start=MONDAY_10,
                              forecast=False))
        await svc.start()
        try:
            snap = svc.board.snapshot()
            json.dumps(snap)  # JSON-able as it is
            assert set(snap) == {"at", "sl_definition", "groups", "lines", "callbacks",
                                 "retention"}  # the daily job's last and next run
            assert snap["retention"]["last"] is None  # nothing ran yet
            assert datetime.fromisoformat(snap["at"]).tzinfo is not None
            assert "abandon" in snap["sl_definition"]
            for g in snap["groups"]:
                assert set(g) == GROUP_KEYS
                assert set(g["agents"]) == {"available", "on_call", "wrap_up"}
            security = next(g for g in snap["groups"] if g["skill"] == "security")
            assert security["agents"]["available"] >= 1  # the 24/7 team is on duty
            assert set(snap["callbacks"]) == {"pending", "dialling", "completed"}
            got = []

            async def read():
                async for s in svc.board.subscribe():
                    got.append(s)

            reader = asyncio.create_task(read())
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.0:  # a storm of changes
                svc.board.notify()
                await asyncio.sleep(0.001)
            reader.cancel()
            assert 2 <= len(got) <= 6  # fresh on change, at most five a second
        finally:
            await svc.stop()

    asyncio.run(body())


def test_stats_reads_the_published_snapshot(tmp_path, capsys):
    path = tmp_path / "live.json"
    assert main(["stats", "--file", str(path)]) == 1
    assert "no running hotline" in capsys.readouterr().err
    snap = {"at": "2026-11-23T12:00:00+03:00", "sl_definition": "answered within 20 s / x",
            "groups": [{"skill": "tax", "name": "Налоги", "waiting": 3, "longest_wait_s": 75.0,
                        "agents": {"available": 0, "on_call": 9, "wrap_up": 1},
                        "ewt_s": 240.0, "answered": 120, "abandoned": 7, "short_abandoned": 2,
                        "service_level": 0.61, "asa_s": 48.0, "aht_s": 390.0,
                        "abandon_rate": 0.04, "occupancy": 0.93}],
            "lines": [{"line": "federal", "region": "all", "in_ivr": 4, "queued": 3,
                       "self_service_share": 0.2}],
            "callbacks": {"pending": 1, "completed": 0}}
    publish(path, snap)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert main(["stats", "--json", "--file", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == snap
    assert main(["stats", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "tax" in out and "7/2" in out and "61%" in out and "federal" in out
    old = time.time() - 60
    os.utime(path, (old, old))
    assert main(["stats", "--file", str(path)]) == 1  # a stopped server's leftover
    assert "old" in capsys.readouterr().err


def test_writer_keeps_every_good_row_when_a_batch_fails(db_url):
    writer = RecordWriter(session_factory(make_engine(db_url)))
    now = datetime.now(UTC)
    base = {"outcome": "queued", "started_at": now, "answered_at": now, "ended_at": now}
    writer.insert({"call_id": "a", **base})
    writer.insert({"call_id": "bad", "no_such_column": 1, **base})
    writer.insert({"call_id": "b", **base})
    writer.final("a", outcome="answered", agent_id="agent-7", answered_at=now, ended_at=now)
    assert writer.close(10)
    rows = {r.call_id: r for r in call_rows(db_url)}
    assert set(rows) == {"a", "b"} and writer.lost == 1
    assert (rows["a"].outcome, rows["a"].agent_id) == ("answered", "agent-7")


@pytest.mark.parametrize(("env", "reveal"), [(None, False), ("1", True)])
def test_serve_keeps_no_code_in_clear_unless_asked(db_url, monkeypatch, env, reveal):
    """issue 13 item 13: the embedded gateway of `hotline serve` stores one-time codes only as
    HMACs; clear dev codes (what `hotline demo`'s fictitious callers read) only when asked."""
    if env is None:
        monkeypatch.delenv("HOTLINE_SMS_DEV_CODES", raising=False)
    else:
        monkeypatch.setenv("HOTLINE_SMS_DEV_CODES", env)

    async def body():
        svc = Service(Options(db_url=db_url, sip=False, web=False, start=MONDAY_10,
                              forecast=False))
        await svc.start()
        try:
            return svc.hotline.services.gateway.reveal_codes
        finally:
            await svc.stop()

    assert asyncio.run(body()) is reveal
