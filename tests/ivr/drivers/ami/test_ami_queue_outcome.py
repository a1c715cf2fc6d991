"""Issue 13 items 1 and 3: the queue's result reaches the database through the AMI bridge.

The IVR writes ``queued``; once the channel is gone the row carries the true final outcome:
answered by agent X (``agent_id``, ``answered_at`` = pick-up), abandoned after W s, timeout.
An AMI ``Hangup`` (Asterisk sends only ``SoftHangupRequest``) is an abandon, not a timeout.
"""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from ami_support import MONDAY_10
from sqlalchemy import select

from ivr.drivers.ami.emulator import AMIEmulator, CallerScript
from ivr.drivers.ami.serve import build
from ivr.store.models import Call

pytestmark = pytest.mark.timeout(60)
SCALE = 0.002  # emulator seconds → real seconds


def _row(factory, call_id: str) -> Call:
    with factory() as db:
        return db.scalars(select(Call).where(Call.call_id == call_id)).one()


async def _one_call(hl, *, agents: list[str], leave: str | None = None, timeout: str = ""):
    """One caller pressing 4 (payments); ``leave``: 'bye' / 'ami' once they wait in the queue."""
    t0 = time.monotonic()

    def clock():  # Monday 10:00 moving at the emulator's pace
        return MONDAY_10 + timedelta(seconds=(time.monotonic() - t0) / SCALE)

    records = []
    async with AMIEmulator(time_scale=SCALE) as emu:
        q = emu.add_queue("hotline-payments", agents, ring_s=5, talk_s=60)
        conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{emu.port}", hl, server_id="ast1",
                             clock=clock)
        inner = bridge.on_call_end
        bridge.on_call_end = lambda r: (records.append(r), inner(r))
        await conn.start()
        ch = emu.place_call(script=CallerScript(presses=["4"]),
                            variables={"HOTLINE_QUEUE_TIMEOUT": timeout} if timeout else None)
        if leave:
            for _ in range(2000):
                if q.waiting:
                    break
                await asyncio.sleep(0.005)
            assert q.waiting, "the caller never reached the queue"
            await asyncio.sleep(SCALE * 30)  # 30 s in the queue
            if leave == "bye":
                ch.hangup_evt.set()
            else:
                await conn.send_action("Hangup", {"Channel": ch.name})
        for _ in range(3000):
            if records:
                break
            await asyncio.sleep(0.005)
        await bridge.close()
        await conn.close()
    return records


def test_answered_call_gets_agent_and_pickup_time(hotline):
    hl, factory = hotline
    (rec,) = asyncio.run(_one_call(hl, agents=["alice"]))
    row = _row(factory, rec.call_id)
    assert (row.outcome, row.agent_id) == ("answered", "PJSIP/alice")
    assert rec.queued_at is not None and row.answered_at >= rec.queued_at  # the agent's pick-up
    assert row.queued_at == rec.queued_at  # the queue join, in its own column (issue 11)
    assert row.ended_at > row.answered_at  # the talk, not the moment of queueing
    assert "answered by PJSIP/alice" in row.detail


@pytest.mark.parametrize("how", ["bye", "ami"])
def test_caller_leaving_the_queue_is_an_abandon(hotline, how):
    hl, factory = hotline
    (rec,) = asyncio.run(_one_call(hl, agents=[], leave=how))
    row = _row(factory, rec.call_id)
    assert rec.queue_result == "abandoned"
    assert (row.outcome, row.agent_id) == ("abandoned", None)
    waited = (row.ended_at - rec.queued_at).total_seconds()
    assert row.queued_at == rec.queued_at
    assert waited >= 25 and f"abandoned after {waited:.0f} s" in row.detail
