"""Issue 13 item 5: stopping the bridge finishes every call in progress with its outcome.

SIGTERM with 50 callers in the IVR used to write 0 of 50 rows; under a start flood the stop was
not honoured within 20 s. Now each call the bridge saw gets exactly one row, and the stop is
bounded (each step has its own timeout; the tests only guard against a hang).
"""
from __future__ import annotations

import asyncio

import pytest
from ami_support import MONDAY_10
from sqlalchemy import select

from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.drivers.ami.serve import build, serve, stop_bridge
from ivr.service.cli import _off_loop_writes  # the production wiring of hotline serve
from ivr.service.writer import QueuedWrites, RecordWriter
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call

pytestmark = pytest.mark.timeout(120)
SILENT = CallerScript(presses=[None] * 40)  # listens to prompt after prompt


def _rows(factory) -> dict[str, Call]:
    with factory() as db:
        return {c.call_id: c for c in db.scalars(select(Call))}


def test_stop_with_50_calls_in_the_ivr_writes_50_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "ami-stop-test-secret-0123456789")
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)

    async def main():
        async with AMIEmulator(time_scale=0.05) as emu:
            stop = asyncio.Event()
            task = asyncio.create_task(serve(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}",
                                             db_url=url, server_id="srv", stop=stop,
                                             off_loop_writes=_off_loop_writes))
            for _ in range(500):
                if emu.sessions and all(s.mask is not None for s in emu.sessions):
                    break
                await asyncio.sleep(0.01)
            chans = [emu.place_call(callerid=f"7916000{i:04d}", script=SILENT)
                     for i in range(50)]
            for _ in range(500):
                if all(c.commands_run >= 2 for c in chans):
                    break
                await asyncio.sleep(0.01)
            assert all(not c.gone for c in chans), "callers were meant to be in the IVR"
            stop.set()  # what the SIGTERM handler does
            await asyncio.wait_for(task, 60)
            return chans
    chans = asyncio.run(main())
    rows = _rows(factory)
    assert {f"srv:{c.uniqueid}" for c in chans} <= set(rows)
    assert {r.outcome for r in rows.values()} == {"error"}
    assert all("bridge stopped" in (r.detail or "") for r in rows.values())
    engine.dispose()


def test_stop_under_a_start_flood_records_every_call_it_saw(hotline):
    hl, factory = hotline

    async def main():
        async with AMIEmulator(time_scale=0.05) as emu:
            writer = RecordWriter(factory)
            hl.services = QueuedWrites(hl.services, writer)
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl,
                                 server_id="ast1", clock=lambda: MONDAY_10, writer=writer)
            records = []
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            flooding = True

            async def flood():
                i = 0
                while flooding:
                    emu.place_call(callerid=f"7926{i:07d}", script=SILENT)
                    i += 1
                    await asyncio.sleep(0.001)
            flooder = asyncio.create_task(flood())
            await asyncio.sleep(0.3)
            await asyncio.wait_for(stop_bridge(conn, bridge, writer, None, grace_s=2), 60)
            flooding = False
            await flooder
            return records, bridge, writer
    records, bridge, writer = asyncio.run(main())
    rows = _rows(factory)
    assert len(records) == bridge.records_emitted > 50
    assert {r.call_id for r in records} == set(rows) and writer.lost == 0
    assert None not in {r.outcome for r in rows.values()}


def test_calls_beyond_the_cap_hear_busy_and_keep_their_record(hotline):
    """Issue 13 item 11: ``max_calls`` (HOTLINE_MAX_CALLS): excess calls hear the busy prompt,
    are hung up and are recorded as ``busy``; the others go on through the IVR."""
    hl, factory = hotline

    async def main():
        async with AMIEmulator(time_scale=0.05) as emu:
            conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl,
                                 server_id="ast1", clock=lambda: MONDAY_10, max_calls=3)
            records = []
            inner = bridge.on_call_end
            bridge.on_call_end = lambda r: (records.append(r), inner(r))
            await conn.start()
            for i in range(5):
                emu.place_call(callerid=f"7936{i:07d}", script=SILENT)
            for _ in range(500):
                if len(records) >= 2:
                    break
                await asyncio.sleep(0.01)
            live = len(bridge.calls)
            await bridge.close(2)
            await conn.close()
            return records, live, bridge.rejected_busy
    records, live, rejected = asyncio.run(main())
    rows = _rows(factory)
    busy = [r for r in records if r.end_reason == "over_capacity"]
    assert rejected == len(busy) == 2 and live == 3
    assert {rows[r.call_id].outcome for r in busy} == {"busy"}
    assert len(rows) == 5
