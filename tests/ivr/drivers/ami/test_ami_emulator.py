"""The emulator against the real Asterisk transcripts, and against an independent client."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Self

import pytest
from ami_transcripts import SCENARIOS, client_bytes, server_bytes

from ivr.drivers.ami.codec import Banner, Decoder, Message, parse_agi_env, parse_agi_result
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript, agi_env

# Fields whose values are ids, clocks or addresses: compared by presence and order only.
VOLATILE = {"uniqueid", "linkedid", "env", "timestamp", "eventtv", "sessiontv", "sessionid",
            "localaddress", "remoteaddress", "uptime", "lastreload", "durationms"}
# Emitted by Asterisk's RTP stack, not emulated (media statistics).
NOT_EMULATED_VARS = {"RTPAUDIOQOS", "RTPAUDIOQOSJITTER", "RTPAUDIOQOSLOSS", "RTPAUDIOQOSRTT",
                     "RTPAUDIOQOSMES"}
# Event types the transcripts do not show; their fields follow the Asterisk 22 AMI docs.
_CH = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
       "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context", "Exten",
       "Priority", "Uniqueid", "Linkedid")
_DEST = tuple("Dest" + k for k in _CH)
_EV = ("Event", "Privilege")
_MEMBER = ("Queue", "Name", "Location", "StateInterface", "Membership", "Penalty", "CallsTaken",
           "LastCall", "LastPause", "LoginTime", "InCall", "Status", "Paused", "PausedReason",
           "Wrapuptime")
DOC_SHAPES = {
    "AgentCalled": (*_EV, *_CH, *_DEST, "Queue", "Interface", "MemberName"),
    "AgentConnect": (*_EV, *_CH, *_DEST, "Queue", "MemberName", "Interface", "RingTime",
                     "HoldTime"),
    "AgentComplete": (*_EV, *_CH, *_DEST, "Queue", "MemberName", "Interface", "HoldTime",
                      "TalkTime", "Reason"),
    "QueueMemberStatus": (*_EV, *_MEMBER),
    "QueueMember": ("Event", *_MEMBER, "ActionID"),
    "CoreShowChannel": ("Event", "ActionID", *_CH, "BridgeId", "Application",
                        "ApplicationData", "Duration"),
    "CoreShowChannelsComplete": ("Event", "ActionID", "EventList", "ListItems"),
}


def transcript_shapes() -> dict[str, set[tuple[str, ...]]]:
    shapes: dict[str, set[tuple[str, ...]]] = {}
    for name in SCENARIOS:
        for m in Decoder().feed(server_bytes(name)):
            if isinstance(m, Message):
                shapes.setdefault(_kind(m), set()).add(tuple(m.keys()))
    return shapes


def _kind(m: Message) -> str:
    return m.event or f"Response:{m.response}"


def _wanted(m: Message) -> bool:
    return m.event != "RTCPSent" and m.get("Variable") not in NOT_EMULATED_VARS


class RawClient:
    """Sends exact client bytes and records every message, like the capture tool did."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.items: list = []
        self.dec = Decoder()

    async def __aenter__(self) -> Self:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()
        self.task.cancel()

    async def _read(self) -> None:
        while data := await self.reader.read(65536):
            self.items += self.dec.feed(data)

    def send(self, raw: bytes) -> None:
        self.writer.write(raw)

    @property
    def msgs(self) -> list[Message]:
        return [m for m in self.items if isinstance(m, Message)]

    async def wait_for(self, pred, timeout: float = 5.0) -> Message:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.msgs:
                if pred(m):
                    return m
            await asyncio.sleep(0.005)
        raise AssertionError("message not seen")


def _actions(name: str) -> list[bytes]:
    return [f + b"\r\n\r\n" for f in client_bytes(name).split(b"\r\n\r\n") if f]


def _comparable(m: Message) -> list[tuple[str, str]]:
    out = []
    for k, v in m.headers:
        if k.lower() in VOLATILE or (m.event in ("AGIExecStart", "AGIExecEnd")
                                     and k == "CommandId"):
            v = "*"
        if k == "Result" and m.event == "AsyncAGIExec":
            r = parse_agi_result(m)
            v = f"{r.code} {r.result}"
        out.append((k, v))
    return out


def test_asyncagi_call_replayed_against_emulator_matches_transcript():
    """Replay asyncagi_sip_dtmf.client.txt byte for byte; the emulator must answer with the same
    messages in the same order, field for field, apart from ids, clocks and RTP statistics."""
    async def main():
        async with AMIEmulator(time_scale=0.002) as emu:
            acts = _actions("asyncagi_sip_dtmf")
            async with RawClient(emu.port) as c:
                c.send(acts[0])
                await c.wait_for(lambda m: m.event == "SuccessfulAuth")
                emu.place_call(callerid="79161234567", script=CallerScript(
                    presses=["1", "2345"], hangup_after_commands=2))
                await c.wait_for(lambda m: m.event == "AsyncAGIStart")
                c.send(acts[1])
                await c.wait_for(lambda m: m.event == "AsyncAGIExec")
                c.send(acts[2])
                await c.wait_for(lambda m: m.event == "Hangup")
                await asyncio.sleep(0.05)
                c.send(acts[3])
                await c.wait_for(lambda m: m.response == "Goodbye")
                got = c.items
        want = [m for m in Decoder().feed(server_bytes("asyncagi_sip_dtmf"))]
        assert isinstance(got[0], Banner) and got[0] == want[0]
        got_m = [_comparable(m) for m in got[1:]]
        want_m = [_comparable(m) for m in want[1:] if _wanted(m)]
        assert [dict(x).get("Event") or dict(x).get("Response") for x in got_m] == \
            [dict(x).get("Event") or dict(x).get("Response") for x in want_m]
        for g, w in zip(got_m, want_m, strict=True):
            assert g == w
    asyncio.run(asyncio.wait_for(main(), 30))


def test_agi_env_encoding_is_byte_exact():
    start = next(m for m in Decoder().feed(server_bytes("asyncagi_sip_dtmf"))
                 if isinstance(m, Message) and m.event == "AsyncAGIStart")
    env = parse_agi_env(start)
    assert agi_env(list(env.items())) == start["Env"]


def test_misc_errors_replay_answers_like_asterisk():
    async def main():
        async with AMIEmulator() as emu, RawClient(emu.port) as c:
            for a in _actions("misc_errors_and_command"):
                c.send(a)
                await asyncio.sleep(0.02)
            await c.wait_for(lambda m: m.response == "Goodbye")
            got = {m.action_id: m for m in c.msgs if m.response}
            done = [m for m in c.msgs if m.event == "QueueStatusComplete"]
            orig = await c.wait_for(lambda m: m.event == "OriginateResponse")
        want = {m.action_id: m for m in Decoder().feed(server_bytes("misc_errors_and_command"))
                if isinstance(m, Message) and m.response}
        for n in (1, 3, 4, 7, 8, 9):
            aid = f"misc_errors_and_command-{n}"
            assert got[aid].headers == want[aid].headers, aid
        assert got["misc_errors_and_command-2"].keys() == want["misc_errors_and_command-2"].keys()
        assert got["misc_errors_and_command-6"].keys() == want["misc_errors_and_command-6"].keys()
        assert [m.headers for m in done] == [[("Event", "QueueStatusComplete"),
                                             ("ActionID", "misc_errors_and_command-8"),
                                             ("EventList", "Complete"), ("ListItems", "0")]]
        assert orig["Reason"] == "4" and orig.action_id == "misc_errors_and_command-4"
    asyncio.run(asyncio.wait_for(main(), 30))


async def _exercise_everything(emu: AMIEmulator) -> list[Message]:
    """Drive every feature once and return all messages a client saw."""
    emu.add_queue("test", ["alice"], ring_s=0.5, talk_s=0.5)
    emu.add_queue("empty", [])
    async with RawClient(emu.port) as c:
        c.send(_actions("queue_timeout")[0])
        await c.wait_for(lambda m: m.event == "SuccessfulAuth")

        def agi(ch, cmd, cid):
            c.send(f"Action: AGI\r\nChannel: {ch.name}\r\nCommand: {cmd}\r\n"
                   f"CommandID: {cid}\r\nActionID: a-{cid}\r\n\r\n".encode())

        a = emu.place_call(script=CallerScript(presses=["2"]))
        b = emu.place_call(script=CallerScript(presses=[]))
        d = emu.place_call(script=CallerScript(presses=[], hangup_after_s=40.0))
        await c.wait_for(lambda m: m.event == "AsyncAGIStart" and m["Uniqueid"] == d.uniqueid)
        agi(a, 'STREAM FILE hello "12"', "a1")
        agi(a, "EXEC Queue test,,,,10", "a2")
        agi(b, "GET DATA missing-prompt 300 2", "b1")
        agi(b, "EXEC Queue empty,,,,1", "b2")
        agi(b, "ASYNCAGI BREAK", "b3")
        agi(d, "EXEC Queue empty", "d1")
        await c.wait_for(lambda m: m.event == "QueueCallerJoin" and m["Uniqueid"] == d.uniqueid)
        c.send(b"Action: QueueStatus\r\nActionID: qs\r\n\r\n")
        c.send(b"Action: QueueSummary\r\nActionID: qsum\r\n\r\n")
        c.send(b"Action: CoreShowChannels\r\nActionID: cs\r\n\r\n")
        for ch in (a, b, d):
            await c.wait_for(lambda m, ch=ch: m.event == "Hangup" and m["Channel"] == ch.name)
        c.send(b"Action: Originate\r\nChannel: Local/100@local-test\r\nContext: local-test\r\n"
               b"Exten: 600\r\nPriority: 1\r\nCallerID: \"AMI test\" <74950000001>\r\n"
               b"Async: true\r\nTimeout: 10000\r\nActionID: o1\r\n\r\n")
        await c.wait_for(lambda m: m.event == "OriginateResponse")
        c.send(b"Action: Logoff\r\nActionID: bye\r\n\r\n")
        await c.wait_for(lambda m: m.response == "Goodbye")
        return c.msgs


def test_every_emulated_message_has_a_recorded_shape():
    """Each event/response the emulator sends has exactly the field names and order Asterisk
    used for that type in the transcripts (or in the AMI docs for types they lack)."""
    async def main():
        async with AMIEmulator(time_scale=0.01) as emu:
            return await _exercise_everything(emu)
    msgs = asyncio.run(asyncio.wait_for(main(), 30))
    shapes = transcript_shapes()
    kinds = {_kind(m) for m in msgs}
    assert {"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
            "AgentConnect", "AgentComplete", "QueueParams", "QueueEntry", "QueueSummary",
            "CoreShowChannel", "OriginateResponse", "AsyncAGIEnd"} <= kinds
    for m in msgs:
        k = _kind(m)
        if k in shapes:
            assert tuple(m.keys()) in shapes[k], (k, m.keys())
        else:
            assert k in DOC_SHAPES, f"unrecorded message type {k}"
            assert tuple(m.keys()) == DOC_SHAPES[k], k
    # queue orderings: caller hang-up shows HangupRequest before QueueCallerAbandon
    names = [(m.event, m.get("Uniqueid")) for m in msgs if m.event]
    execs = [parse_agi_result(m) for m in msgs if m.event == "AsyncAGIExec"]
    assert any(r.result == "-1" and r.extra.get("endpos") is None for r in execs)
    assert any(r.timed_out for r in execs)  # GET DATA on a missing prompt, nobody typing
    hr = [i for i, (e, _) in enumerate(names) if e == "HangupRequest"]
    ab = [i for i, (e, _) in enumerate(names) if e == "QueueCallerAbandon"]
    assert len(ab) == 2 and len(hr) >= 1


def test_asterisk_ami_client_logs_in_and_receives_events():
    """The independent ``asterisk-ami`` client (import ``asterisk.ami``) talks to the emulator."""
    from asterisk.ami import AMIClient, SimpleAction

    loop = asyncio.new_event_loop()
    emu = AMIEmulator(time_scale=0.01)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emu.start())
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    ready.wait(5)
    events: list = []
    client = AMIClient(address="127.0.0.1", port=emu.port, timeout=10)
    try:
        resp = client.login(username="ivr", secret="ivrsecret").response
        assert resp is not None and resp.status == "Success"
        client.add_event_listener(lambda event, **kw: events.append(event))
        loop.call_soon_threadsafe(lambda: emu.place_call(
            script=CallerScript(presses=[], hangup_after_commands=0)))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e.name == "Hangup" for e in events):
            time.sleep(0.01)
        names = [e.name for e in events]
        assert "AsyncAGIStart" in names and "Hangup" in names
        start = next(e for e in events if e.name == "AsyncAGIStart")
        assert "agi_dnid%3A%2088005553535" in start.keys["Env"]
        pong = client.send_action(SimpleAction("Ping")).response
        assert pong.status == "Success" and pong.keys["Ping"] == "Pong"
        client.logoff()
    finally:
        client.disconnect()
        fut = asyncio.run_coroutine_threadsafe(emu.stop(), loop)
        fut.result(5)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)


@pytest.mark.parametrize("events,expect", [("off", set()), ("agi", {"agi"}),
                                            ("call,dtmf", {"call"})])
def test_login_events_mask_filters_classes(events, expect):
    async def main():
        async with AMIEmulator(time_scale=0.002) as emu, RawClient(emu.port) as c:
            c.send(f"Action: Login\r\nUsername: ivr\r\nSecret: ivrsecret\r\nEvents: {events}\r\n"
                   f"ActionID: l1\r\n\r\n".encode())
            await c.wait_for(lambda m: m.response == "Success")
            emu.place_call(script=CallerScript(presses=[], hangup_after_commands=0))
            await asyncio.sleep(0.2)
            return {m["Privilege"].split(",")[0] for m in c.msgs if m.event}
    assert asyncio.run(main()) == expect
