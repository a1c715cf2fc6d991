"""A SIP caller really waits (hold prompts) and is really answered by a virtual agent: the
record carries the agent and the moment he answered; a caller leaving on hold abandons."""
from __future__ import annotations

import asyncio
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from ivr.call.protocol import Enqueue
from ivr.service.serve import Options, Service
from tests.ivr.drivers.sip.conftest import short_prompts  # noqa: F401 - fixture
from tests.ivr.drivers.sip.uac import RawUac, event_packets
from tests.ivr.service.conftest import call_rows

pytestmark = pytest.mark.timeout(90)
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


class Counter(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets = 0

    def datagram_received(self, data: bytes, addr) -> None:
        self.packets += 1


async def busy_documents(svc: Service, waiting: int) -> None:
    """Every documents agent on a call, callers already waiting: the next one must wait."""
    acd = svc.acd.acd
    g = acd.g_of["documents"]
    n = sum(acd.agent_counts(g)) + waiting
    for i in range(n):
        svc.acd.enqueue(SimpleNamespace(call_id=f"filler-{i}"), Enqueue("documents", 0, {}))
    assert acd.waiting_count(g) >= 1


async def call_documents(svc: Service, rtp_sock, port: int, hang_up_after: float | None):
    uac = await RawUac.open(svc.sip.port)
    uac.invite(rtp_port=port)
    ok = await uac.expect(200)
    tag = ok.tag("To")
    uac.ack(tag)
    from ivr.drivers.sip import sdp

    dest = sdp.choose(ok.sdp, "127.0.0.1")
    for packet in event_packets("3", ts=8000):
        rtp_sock.sendto(packet, (dest.host, dest.port))
        await asyncio.sleep(0.02)
    if hang_up_after is not None:
        await asyncio.sleep(hang_up_after)
        uac.bye(tag)
        await uac.expect(200)
        await asyncio.sleep(0.3)
        return None
    return await uac.expect("BYE", timeout=60)


@pytest.mark.parametrize("hang_up_after", [None, 1.0])
def test_sip_caller_waits_on_hold_then_agent_answers(db_url, short_prompts,  # noqa: F811
                                                     hang_up_after, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_RECORDINGS_DIR", str(tmp_path / "rec"))

    async def body():
        svc = Service(Options(db_url=db_url, sip_port=0, web=False, start=MONDAY_10,
                              speed=120.0, recordings=str(short_prompts), forecast=False))
        await svc.start()
        loop = asyncio.get_running_loop()
        media = Counter()
        transport, _ = await loop.create_datagram_endpoint(lambda: media,
                                                           local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            await busy_documents(svc, 1 if hang_up_after is None else 8)
            await call_documents(svc, transport, port, hang_up_after)
        finally:
            transport.close()
            await svc.stop()
        return media.packets

    packets = asyncio.run(body())
    [row] = call_rows(db_url)
    assert packets > 50  # the caller heard the IVR and the hold prompt (20 ms packets)
    # serve records the call (the caller did not refuse), encrypted, never as a plain WAV
    assert len(list((tmp_path / "rec").rglob("*.wav.enc"))) == 1
    assert not list((tmp_path / "rec").rglob("*.wav"))
    if hang_up_after is None:
        assert row.outcome == "answered" and row.agent_id.startswith("agent-")
        assert (row.answered_at - row.started_at).total_seconds() > 10  # he did wait
        assert row.started_at < row.queued_at <= row.answered_at  # the hand-over (issue 11)
        assert row.ended_at > row.answered_at
    else:
        assert row.outcome == "abandoned" and row.agent_id is None
        assert "abandoned after" in row.detail
        assert row.started_at < row.queued_at <= row.ended_at
