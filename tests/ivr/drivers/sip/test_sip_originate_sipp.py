"""SIPp plays the called citizen (UAS) for calls the endpoint places: answered (RTP reaches it —
SIPp echoes it back — and it gets our ACK and BYE), busy, ringing until our CANCEL, and a
gateway that challenges the INVITE with a digest. Scenarios in ./sipp/; SIPp's exit status says
whether every message it expected came, in order."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.call.session import Hotline
from ivr.call.waits import FixedWait
from ivr.drivers.sip import SipEndpoint
from ivr.drivers.sip.outbound import OriginateResult
from tests.ivr.drivers.sip.conftest import clock, rows
from tests.sipp.test_sipp import free_port

HERE = Path(__file__).resolve().parent / "sipp"
pytestmark = [pytest.mark.real("sipp"), pytest.mark.timeout(90)]
NUMBER = "+79161234567"


async def start_uas(scenario: str, port: int, timeout: int = 40) -> asyncio.subprocess.Process:
    args = ["sipp", "-sf", str(HERE / scenario), "-m", "1", "-nostdin", "-i", "127.0.0.1",
            "-p", str(port), "-mp", str(free_port()), "-rtp_echo", "-timeout", f"{timeout}s",
            "-timeout_error", "-trace_err", "-error_file", "/dev/stderr"]
    proc = await asyncio.create_subprocess_exec(*args, cwd=HERE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    await asyncio.sleep(0.3)  # SIPp binds its port (a late bind only costs a retransmission)
    return proc


def originate(url: str, scenario: str, *, route: str = "sip:127.0.0.1:{port}",
              timeout_s: float = 20.0, **kw):
    """SIPp on a free port as the gateway; one call placed; the result, what the call's RTP
    stream received back, SIPp's exit status and output."""
    port = free_port()

    async def main():
        proc = await start_uas(scenario, port)
        hotline = Hotline.load("dialplans", db_url=url, waits=FixedWait(180))
        # T1 stays 0.5 s: SIPp 3.6 aborts a call when an INVITE retransmission comes after
        # its 200 (it links a repeated request to its first answer only), so none must be sent
        options = {"clock": clock, "timeout_scale": 0.1} | kw
        ep = SipEndpoint(hotline, "127.0.0.1", 0, outbound=route.format(port=port), **options)
        await ep.start()
        try:
            result = await ep.originate(NUMBER, hotline.new_call(did="88005553535"),
                                        timeout_s=timeout_s)
            streams = [d.stream for d in ep.dialogs.values() if d.uac and d.stream]
            calls = [d.call.task for d in ep.dialogs.values() if d.call and d.call.task]
            if calls:
                await asyncio.wait(calls, timeout=40)
            out, _ = await asyncio.wait_for(proc.communicate(), 45)
        finally:
            await ep.stop(drain_timeout=1.0)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        echoed = sum(s.packets_in for s in streams)
        return result, echoed, proc.returncode, out.decode(errors="replace")[-3000:]

    return asyncio.run(main())


def test_answered_callee_hears_the_ivr_and_gets_our_ack_and_bye(sip_db, short_prompts):
    url, _ = sip_db
    result, echoed, code, out = originate(url, "uas_answer.xml", recordings=str(short_prompts))
    assert result == OriginateResult(True, 200, "answered")
    assert code == 0, out
    assert echoed > 0  # SIPp received our RTP (it echoes what arrives on its media port)
    [row] = rows(url)
    assert row.outcome == "queued"  # three silences: the IVR queued the call, then BYE


def test_busy_callee(sip_db):
    url, _ = sip_db
    result, _, code, out = originate(url, "uas_busy.xml")
    assert result == OriginateResult(False, 486, "busy") and code == 0, out
    assert rows(url) == []


def test_ringing_without_answer_is_cancelled_at_the_ring_timeout(sip_db):
    url, _ = sip_db
    result, _, code, out = originate(url, "uas_ring_forever.xml", timeout_s=1.0)
    assert result == OriginateResult(False, 487, "no_answer") and code == 0, out
    assert rows(url) == []


def test_gateway_digest_challenge_is_answered_once(sip_db, short_prompts):
    url, _ = sip_db
    result, echoed, code, out = originate(url, "uas_digest.xml",
                                          route="sip:hotline:s3cret@127.0.0.1:{port}",
                                          recordings=str(short_prompts))
    assert result == OriginateResult(True, 200, "answered") and code == 0, out
    assert echoed > 0
    assert [r.outcome for r in rows(url)] == ["queued"]
