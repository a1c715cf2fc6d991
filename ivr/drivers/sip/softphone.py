"""``hotline softphone call``: dial any SIP server, listen, press keys, record what was heard.

    hotline softphone call sip:88005553535@127.0.0.1:5060 --dtmf "2,1,11223344595#,01021980#,code"
        [--inband | --rfc2833] [--record heard.wav] [--json] [--barge-in SECONDS]
    hotline softphone answer --listen 127.0.0.1:5070 --dtmf 3     # be the citizen called back

``answer`` waits for one INVITE (the hotline's ``--sip-outbound sip:127.0.0.1:5070``), picks up
and then behaves as ``call`` does.

Each comma-separated group is sent when the IVR is ready for it, judged by ear (20 ms frame
energy, no fixed sleeps): by default once a prompt has been heard and then ``--silence``
seconds of quiet follow (the IVR is waiting); with ``--barge-in S`` once S seconds of a prompt
have been heard (keys typed over the prompt). ``code`` sends the call's latest one-time code
from the hotline's dev SMS outbox (``HOTLINE_DB_URL``; our own endpoint only, whose call id is
the SIP Call-ID). Keys go as RFC 4733 events (default) or as in-band G.711 tones. Works against
this endpoint or any SIP server (Asterisk): plain INVITE over UDP, no authentication.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ivr.drivers.sip import g711, sdp
from ivr.drivers.sip import message as sipmsg
from ivr.drivers.sip.dtmf import keys_audio
from ivr.drivers.sip.media import MediaClock, RtpStream
from ivr.drivers.sip.transaction import Retransmitter

SPEECH_DBFS = -45.0
CodeSource = Callable[[str], str | None]


@dataclass
class Ear:
    """What the softphone heard: all audio, and when speech and silence were last seen."""

    frames: list[np.ndarray] = field(default_factory=list)
    speech_frames: int = 0
    run_speech: int = 0  # consecutive speech frames
    run_quiet: int = 0  # consecutive quiet frames
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def hear(self, frame: np.ndarray) -> None:
        self.frames.append(frame)
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) + 1e-9
        if 20 * np.log10(rms / 32768) > SPEECH_DBFS:
            self.speech_frames += 1
            self.run_speech, self.run_quiet = self.run_speech + 1, 0
        else:
            self.run_quiet, self.run_speech = self.run_quiet + 1, 0
        self.changed.set()

    async def until(self, test: Callable[[], bool]) -> None:
        while not test():
            self.changed.clear()
            await self.changed.wait()

    def audio(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.zeros(0, dtype=np.int16)


class _Sip(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[tuple[sipmsg.Message, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.inbox.put_nowait((sipmsg.parse(data), addr))
        except sipmsg.MalformedSip:
            pass


class Softphone:
    """One outgoing call at a time; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", *, inband: bool = False, silence: float = 0.8,
                 barge_in: float | None = None, answer_timeout: float = 10.0,
                 prompt_timeout: float = 60.0, code: CodeSource | None = None,
                 caller: str = "+79161234567") -> None:
        self.host, self.inband, self.silence, self.barge_in = host, inband, silence, barge_in
        self.answer_timeout, self.prompt_timeout = answer_timeout, prompt_timeout
        self.code, self.caller = code, caller
        self.media = MediaClock(rtp_timeout=3600)
        self._ack: tuple[bytes, tuple[str, int]] = (b"", ("127.0.0.1", 0))
        self._ok: Retransmitter | None = None  # answering: our 200, resent until the ACK

    async def call(self, uri: str, groups: list[str], *, linger: float = 60.0) -> dict[str, Any]:
        """Dial, send each group when the IVR is ready; then listen to the answer (at most
        ``linger`` s) and hang up, unless the IVR hangs up first."""
        loop = asyncio.get_running_loop()
        sip = _Sip()
        await loop.create_datagram_endpoint(lambda: sip, local_addr=(self.host, 0))
        assert sip.transport is not None
        port = sip.transport.get_extra_info("sockname")[1]
        server = sipmsg.host_port(uri)
        call_id, tag = f"{secrets.token_hex(8)}@{self.host}", sipmsg.new_tag()
        ear = Ear()
        stream = await self.media.open(self.host, None, sdp.PCMU, 101, inband=False,
                                       on_audio=ear.hear)
        result: dict[str, Any] = {"uri": uri, "call_id": call_id, "sent": [], "status": None}
        try:
            dialog = await self._invite(sip, uri, server, port, call_id, tag, stream, result)
            if dialog is not None:
                await self._converse(sip, stream, ear, groups, dialog, port, call_id, tag,
                                     result, linger=linger)
        finally:
            await self.media.stop()
            sip.transport.close()
        return self._heard(ear, result)

    async def answer(self, port: int, groups: list[str], *, linger: float = 60.0,
                     wait: float = 60.0) -> dict[str, Any]:
        """Wait (at most ``wait`` s) for one INVITE on ``port``, answer it, then as :meth:`call`:
        each group when the caller's prompt is over, hang up after ``linger`` s of listening."""
        loop = asyncio.get_running_loop()
        sip = _Sip()
        await loop.create_datagram_endpoint(lambda: sip, local_addr=(self.host, port))
        assert sip.transport is not None
        port = sip.transport.get_extra_info("sockname")[1]
        ear = Ear()
        stream = await self.media.open(self.host, None, sdp.PCMU, 101, inband=False,
                                       on_audio=ear.hear)
        result: dict[str, Any] = {"port": port, "sent": [], "status": None}
        try:
            try:
                async with asyncio.timeout(wait):
                    invite, addr = await sip.inbox.get()
                    while not (invite.is_request and invite.method == "INVITE"):
                        invite, addr = await sip.inbox.get()
            except TimeoutError:
                return self._heard(ear, result)
            offer = sdp.choose(invite.sdp, addr[0])
            stream.retarget((offer.host, offer.port), offer.codec, offer.event_pt)
            tag, dest = sipmsg.new_tag(), sipmsg.response_target(invite, addr)
            answer = sdp.build(self.host, stream.local_port, (offer.codec,),
                               offer.event_pt if offer.event_pt is not None else 101)
            ok = sipmsg.response(invite, 200, source=addr, to_tag=tag, body=answer,
                                 extra=(("Contact", f"<sip:softphone@{self.host}:{port}>"),))
            sip.transport.sendto(sipmsg.response(invite, 180, source=addr, to_tag=tag), dest)
            transport = sip.transport
            self._ok = Retransmitter(lambda: transport.sendto(ok, dest))  # until the ACK
            result.update(status=200, call_id=invite.call_id)
            to = invite.header("To")
            dialog = {"from": f"{to};tag={tag}", "to": invite.header("From"),
                      "target": sipmsg.uri_of(invite.header("Contact")) or
                      f"sip:{addr[0]}:{addr[1]}"}
            await self._converse(sip, stream, ear, groups, dialog, port, invite.call_id, tag,
                                 result, linger=linger)
        finally:
            if self._ok is not None:
                self._ok.stop()
            await self.media.stop()
            sip.transport.close()
        return self._heard(ear, result)

    def _heard(self, ear: Ear, result: dict[str, Any]) -> dict[str, Any]:
        audio = ear.audio()
        result.update(heard_s=round(len(audio) / g711.RATE, 2),
                      speech_s=round(ear.speech_frames * 0.02, 2))
        result["audio"] = audio
        return result

    async def _converse(self, sip: _Sip, stream: RtpStream, ear: Ear, groups: list[str],
                        dialog: dict[str, Any], port: int, call_id: str, tag: str,
                        result: dict[str, Any], *, linger: float) -> None:
        """Send each key group when the far end is ready, hear the end out, hang up (or be
        hung up on)."""
        assert sip.transport is not None
        bye = asyncio.get_running_loop().create_task(self._wait_bye(sip))
        bye.add_done_callback(lambda _: ear.changed.set())  # a BYE after the last frame ends
        # the wait at once (no audio follows it to wake the ear)
        for group in groups:
            if bye.done():
                break
            await self._when_ready(ear, bye)
            if bye.done():
                break
            keys = await self._resolve(group, call_id, bye)
            if keys is None:
                break
            await self._press(stream, keys)
            result["sent"].append(group if group != "code" else "code")
        if not bye.done():  # hear the answer to the last keys out, then hang up
            await self._when_ready(ear, bye, final=True, limit=linger)
        if bye.done():
            result["ended_by"] = "remote"
            msg, addr = bye.result()
            sip.transport.sendto(sipmsg.response(msg, 200, source=addr),
                                 sipmsg.response_target(msg, addr))
        else:
            bye.cancel()
            result["ended_by"] = "local"
            await self._bye(sip, dialog, port, call_id, tag)

    async def _invite(self, sip: _Sip, uri: str, server: tuple[str, int], port: int,
                      call_id: str, tag: str, stream: RtpStream,
                      result: dict[str, Any]) -> dict[str, Any] | None:
        branch = sipmsg.new_branch()
        via = f"SIP/2.0/UDP {self.host}:{port};branch={branch};rport"
        headers = [("Via", via), ("From", f"<sip:{self.caller}@{self.host}>;tag={tag}"),
                   ("To", f"<{uri}>"), ("Call-ID", call_id), ("CSeq", "1 INVITE"),
                   ("Contact", f"<sip:softphone@{self.host}:{port}>")]
        offer = sdp.build(self.host, stream.local_port, (sdp.PCMU, sdp.PCMA), 101)
        data = sipmsg.request("INVITE", uri, headers, offer)
        assert sip.transport is not None
        transport = sip.transport
        retrans = Retransmitter(lambda: transport.sendto(data, server))
        try:
            async with asyncio.timeout(self.answer_timeout):
                while True:
                    msg, _ = await sip.inbox.get()
                    if msg.is_request or msg.call_id != call_id:
                        continue
                    retrans.stop()
                    result["status"] = msg.status
                    if msg.status >= 200:
                        break
        except TimeoutError:
            retrans.stop()
            result["status"] = 408
            return None
        to = msg.header("To")
        if msg.status >= 300:  # ACK for a non-2xx: same branch, hop by hop
            ack = sipmsg.request("ACK", uri, [("Via", via), headers[1], ("To", to),
                                              ("Call-ID", call_id), ("CSeq", "1 ACK")])
            transport.sendto(ack, server)
            return None
        target = sipmsg.uri_of(msg.header("Contact")) or uri
        ack_via = f"SIP/2.0/UDP {self.host}:{port};branch={sipmsg.new_branch()};rport"
        ack = sipmsg.request("ACK", target, [("Via", ack_via), headers[1], ("To", to),
                                             ("Call-ID", call_id), ("CSeq", "1 ACK")])
        transport.sendto(ack, server)
        self._ack = (ack, server)
        media = sdp.choose(msg.sdp, server[0])
        stream.retarget((media.host, media.port), media.codec, media.event_pt)
        return {"to": to, "target": target, "from": headers[1][1]}

    async def _wait_bye(self, sip: _Sip) -> tuple[sipmsg.Message, tuple[str, int]]:
        while True:
            msg, addr = await sip.inbox.get()
            if not msg.is_request and msg.method == "INVITE" and msg.status == 200:
                assert sip.transport is not None  # our ACK was lost: the 200 comes again
                sip.transport.sendto(*self._ack)
            elif msg.is_request and msg.method != "ACK" and msg.method != "BYE":
                assert sip.transport is not None  # re-sent 200s are absorbed; answer the rest
                sip.transport.sendto(sipmsg.response(msg, 200, source=addr),
                                     sipmsg.response_target(msg, addr))
            if msg.is_request and msg.method == "ACK" and self._ok is not None:
                self._ok.stop()
            if msg.is_request and msg.method == "BYE":
                return msg, addr

    async def _when_ready(self, ear: Ear, bye: asyncio.Task[Any], *, final: bool = False,
                          limit: float | None = None) -> None:
        """Wait for a prompt, then for its end (or ``barge_in`` seconds into it)."""
        start = ear.speech_frames
        quiet = int(self.silence / 0.02)
        if self.barge_in is not None and not final:
            need = max(1, int(self.barge_in / 0.02))
            test = lambda: ear.speech_frames - start >= need or bye.done()
        else:
            test = lambda: (ear.speech_frames > start and ear.run_quiet >= quiet
                            ) or bye.done()
        try:
            await asyncio.wait_for(ear.until(test), limit or self.prompt_timeout)
        except TimeoutError:
            pass

    async def _resolve(self, group: str, call_id: str, bye: asyncio.Task[Any]) -> str | None:
        if group.strip().lower() != "code":
            return group.strip()
        for _ in range(100):  # the code may still be on its way
            got = self.code(call_id) if self.code else None
            if got:
                return f"{got}#"
            if bye.done():
                return None
            await asyncio.sleep(0.1)
        return None

    async def _press(self, stream: RtpStream, keys: str) -> None:
        if self.inband or stream.event_pt is None:
            pcm = keys_audio(keys, on_ms=100, off_ms=100).astype("<i2").tobytes()
            await stream.play(g711.frames(g711.encode(pcm, stream.codec), stream.codec))
            return
        for key in keys:
            stream.send_key(key, 100)
        while stream.sending_events:
            await asyncio.sleep(0.02)

    async def _bye(self, sip: _Sip, dialog: dict[str, Any], port: int, call_id: str,
                   tag: str) -> None:
        via = f"SIP/2.0/UDP {self.host}:{port};branch={sipmsg.new_branch()};rport"
        data = sipmsg.request("BYE", dialog["target"], [
            ("Via", via), ("From", dialog["from"]), ("To", dialog["to"]),
            ("Call-ID", call_id), ("CSeq", "2 BYE")])
        assert sip.transport is not None
        sip.transport.sendto(data, sipmsg.host_port(dialog["target"]))
        try:
            async with asyncio.timeout(2.0):
                while True:
                    msg, _ = await sip.inbox.get()
                    if not msg.is_request and msg.method == "BYE":
                        return
        except TimeoutError:
            return


def write_wav(path: str, audio: np.ndarray) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(g711.RATE)
        w.writeframes(audio.astype("<i2").tobytes())


def outbox_code(db_url: str | None, clock: Callable[[], datetime] | None = None) -> CodeSource:
    """The dev SMS outbox's latest code for a call id (our endpoint, dev mode); ``clock`` is
    the hotline's (a code is shown only while valid)."""
    def code(call_id: str) -> str | None:
        from ivr.citizens.sms import list_outbox
        from ivr.store.base import make_engine, session_factory

        engine = make_engine(db_url)
        try:
            with session_factory(engine)() as db:
                now = clock() if clock else datetime.now(UTC)
                rows = list_outbox(db, now, call_id=call_id, limit=1)
                db.commit()
        finally:
            engine.dispose()
        return rows[0].dev_code if rows else None
    return code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("softphone", help="SIP test phone: dial the hotline, press keys, record")
    verbs = p.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("call", help="place one call")
    c.add_argument("uri", help="e.g. sip:88005553535@127.0.0.1:5060")
    mode = c.add_mutually_exclusive_group()
    mode.add_argument("--inband", action="store_true", help="send keys as G.711 tones")
    mode.add_argument("--rfc2833", action="store_true", help="send RFC 4733 events (default)")
    c.add_argument("--local", default="127.0.0.1", help="local address to use")
    c.add_argument("--db", default=None, help="database for 'code' (default HOTLINE_DB_URL)")
    for arg, kw in _SHARED:
        c.add_argument(arg, **kw)
    c.set_defaults(func=cmd_softphone)
    a = verbs.add_parser("answer", help="wait for one call and answer it (a callback's citizen)")
    a.add_argument("--listen", default="127.0.0.1:5070", metavar="HOST:PORT",
                   help="where to wait for the INVITE")
    a.add_argument("--wait", type=float, default=120.0, help="give up after this many seconds")
    for arg, kw in _SHARED:
        a.add_argument(arg, **kw)
    a.set_defaults(func=cmd_softphone)


_SHARED: list[tuple[str, dict[str, Any]]] = [
    ("--dtmf", {"default": "", "help": 'key groups, e.g. "2,1,11223344595#,code"'}),
    ("--record", {"default": None, "help": "write what was heard to this WAV"}),
    ("--json", {"action": "store_true", "help": "print the result as JSON"}),
    ("--barge-in", {"type": float, "default": None, "metavar": "S",
                    "help": "send each group S seconds into a prompt instead of after it"}),
    ("--silence", {"type": float, "default": 0.8, "help": "quiet that ends a prompt (s)"}),
    ("--linger", {"type": float, "default": 60.0,
                  "help": "after the last group, listen at most this long before hanging up"}),
]


def cmd_softphone(args: argparse.Namespace) -> int:
    groups = [g for g in args.dtmf.split(",") if g.strip()]
    if args.verb == "answer":
        host, _, port = args.listen.rpartition(":")
        phone = Softphone(host or "127.0.0.1", silence=args.silence, barge_in=args.barge_in)
        result = asyncio.run(phone.answer(int(port or 0), groups, linger=args.linger,
                                          wait=args.wait))
    else:
        phone = Softphone(args.local, inband=args.inband, silence=args.silence,
                          barge_in=args.barge_in, code=outbox_code(args.db))
        result = asyncio.run(phone.call(args.uri, groups, linger=args.linger))
    audio = result.pop("audio")
    if args.record:
        write_wav(args.record, audio)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"status {result['status']}  sent {' '.join(result['sent']) or '-'}  "
              f"heard {result.get('heard_s', 0)} s (speech {result.get('speech_s', 0)} s)  "
              f"ended by {result.get('ended_by', '-')}")
    return 0 if result["status"] == 200 else 1


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="softphone")
    register(parser.add_subparsers())
    ns = parser.parse_args()
    sys.exit(ns.func(ns))
