"""The hooks other parts use: ``on_enqueue`` (the live ACD's hand-over), INFO keys, and the
``hotline softphone call`` command line."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest

from ivr.cli import main
from ivr.drivers.sip import rtp
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


class FakeRecorder:
    """Stands for ivr.records.recordings.CallRecorder: keeps what the driver hands it."""

    def __init__(self, session, now) -> None:
        self.call_id, self.frames, self.batches, self.closed = session.call_id, [], [], 0

    def audio(self, caller: bytes, ivr: bytes) -> None:
        self.frames.append((caller, ivr))

    def commands(self, cmds, now) -> None:
        self.batches.append(cmds)

    def close(self, now) -> None:
        self.closed += 1


def test_recorder_gets_both_directions_every_batch_and_one_close(sip_db, short_prompts):
    url, _ = sip_db
    made: list[FakeRecorder] = []

    def recorder(session, now):
        made.append(FakeRecorder(session, now))
        return made[-1]

    async def body(ep):
        uac = await RawUac.open(ep.port)
        tag, media = await uac.answered()
        uac.ack(tag)
        tone = bytes([0x00, 0x80] * 80)  # loud μ-law square wave from the caller
        for seq in range(25):
            udp(media[1], rtp.build(0, seq, 160 * seq, 77, tone))
            await asyncio.sleep(0.02)
        uac.bye(tag)
        await uac.expect(200)
        await asyncio.sleep(0.1)

    run_with_endpoint(url, body, recorder=recorder, recordings=str(short_prompts))
    [rec] = made
    [row] = rows(url)
    assert rec.call_id == row.call_id and rec.closed == 1
    assert rec.batches and any(c for c in rec.batches[0])  # the first batch: the greeting
    assert len(rec.frames) >= 25 and all(len(c) == len(i) == 320 for c, i in rec.frames)
    assert any(c != bytes(320) for c, _ in rec.frames)  # the caller's audio
    assert any(i != bytes(320) for _, i in rec.frames)  # the prompts


def test_real_call_recorder_stores_the_call_encrypted(sip_db, short_prompts, tmp_path,
                                                       monkeypatch):
    from sqlalchemy import select

    from ivr.records import recordings
    from ivr.store.base import make_engine, session_factory

    monkeypatch.delenv("HOTLINE_KEYRING", raising=False)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    url, _ = sip_db
    engine = make_engine(url)
    factory = session_factory(engine)
    root = tmp_path / "rec"

    async def body(ep):
        uac = await RawUac.open(ep.port)
        tag, _ = await uac.answered()
        uac.ack(tag)
        await asyncio.sleep(1.0)
        uac.bye(tag)
        await uac.expect(200)
        await asyncio.sleep(0.1)

    run_with_endpoint(url, body, recordings=str(short_prompts),
                      recorder=lambda s, now: recordings.CallRecorder(factory, s, now, root=root))
    with factory() as db:
        [stored] = db.scalars(select(recordings.Recording))
    engine.dispose()
    [row] = rows(url)
    assert stored.call_id == row.call_id and stored.seconds > 0.5
    assert len(recordings.wav_bytes(root / stored.path)) > 44 + 2 * 2 * 8000 // 2
