"""The hooks other parts use: ``on_enqueue`` (the live ACD's hand-over), INFO keys, and the
``hotline softphone call`` command line."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest

from ivr.cli import main
from tests.ivr.drivers.sip.conftest import rows, run_with_endpoint
from tests.ivr.drivers.sip.uac import RawUac, event_packets, udp

pytestmark = pytest.mark.timeout(60)


def test_on_enqueue_plays_hold_audio_until_the_caller_leaves(sip_db, short_prompts):
    url, _ = sip_db
    seen = {}

    async def hold(call, enqueue):
        seen["skill"], seen["outcome"] = enqueue.skill, call.session.outcome["outcome"]
        music = call.prompts.get("connecting", "ru", call.stream.codec)
        try:
            while True:
                await call.stream.play(music)
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise

    async def body(ep):
        uac = await RawUac.open(ep.port)
        tag, media = await uac.answered()
        uac.ack(tag)
        for packet in event_packets("3", ts=8000):
            udp(media[1], packet)
            await asyncio.sleep(0.02)
        while "skill" not in seen:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # on hold
        uac.bye(tag)
        await uac.expect(200)
        await asyncio.sleep(0.1)

    run_with_endpoint(url, body, on_enqueue=hold, recordings=str(short_prompts))
    assert seen == {"skill": "documents", "outcome": "queued", "cancelled": True}
    [row] = rows(url)  # the caller's BYE on hold adds no second row
    assert row.outcome == "queued"


def test_info_dtmf_relay_is_a_key(sip_db, short_prompts):
    url, _ = sip_db

    async def body(ep):
        from ivr.drivers.sip import message as sipmsg

        uac = await RawUac.open(ep.port)
        tag, _ = await uac.answered()
        uac.ack(tag)
        uac.send(sipmsg.request("INFO", "sip:88005553535@127.0.0.1",
                                uac.headers("INFO", 3, tag, sipmsg.new_branch()),
                                b"Signal=3\r\nDuration=160\r\n", "application/dtmf-relay"))
        await uac.expect(200)
        return await uac.expect("BYE", timeout=20)

    run_with_endpoint(url, body, recordings=str(short_prompts))
    [row] = rows(url)
    assert (row.outcome, row.skill) == ("queued", "documents")


def test_softphone_command_line(sip_db, short_prompts, tmp_path, capsys):
    """``hotline softphone call`` against an endpoint running on its own thread and loop."""
    url, _ = sip_db
    port: list[int] = []
    stop = threading.Event()

    async def body(ep):
        port.append(ep.port)
        while not stop.is_set():
            await asyncio.sleep(0.05)

    server = threading.Thread(target=run_with_endpoint, args=(url, body),
                              kwargs={"recordings": str(short_prompts)})
    server.start()
    try:
        while not port:
            threading.Event().wait(0.05)
        heard = tmp_path / "heard.wav"
        code = main(["--log-format", "json", "softphone", "call",
                     f"sip:88005553535@127.0.0.1:{port[0]}", "--dtmf", "3", "--inband",
                     "--silence", "0.3", "--record", str(heard), "--json"])
    finally:
        stop.set()
        server.join(30)
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{\n"):])
    assert code == 0 and result["status"] == 200 and result["sent"] == ["3"]
    assert result["ended_by"] == "remote" and heard.stat().st_size > 8000
    [row] = rows(url)
    assert row.call_id == result["call_id"] and row.skill == "documents"
