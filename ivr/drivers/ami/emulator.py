"""FAKE Asterisk 22 AMI server for tests and benchmarks — not Asterisk.

Asterisk cannot be installed here, so this asyncio TCP server stands in for it. It speaks the
real wire format recorded from Asterisk 22.10.1 in tests/data/asterisk/transcripts: the banner,
CRLF framing, the field names and their order per event type (``tests/ivr/ami`` checks every
event it emits against the transcripts), ``AsyncAGIStart`` with a URL-encoded ``Env``,
``AGIExecStart/End`` with their own internal ids, ``AsyncAGIExec`` answering ``CommandID`` with
``CommandId``, STREAM FILE / GET DATA results as Asterisk formats them, the hang-up orderings,
``Originate`` → ``OriginateResponse`` and the app_queue events. Event types absent from the
transcripts (``AgentCalled/Connect/Complete``, ``QueueMember(Status)``, ``CoreShowChannel``)
follow the Asterisk 22 AMI documentation.

What it simulates: inbound calls running ``AGI(agi:async)`` driven by a scripted caller
(``CallerScript``: keys to press, when to hang up), queues with agents, originated calls, and
faults (``drop_connections`` closes every AMI socket; calls carry on as they would on a real
Asterisk whose manager link broke). Time runs ``time_scale`` times real time.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

import structlog

from ivr.drivers.ami.codec import Decoder, Message, encode
from ivr.drivers.ami.emulator_calls import CallRunner
from ivr.drivers.ami.emulator_channel import (  # noqa: F401 - agi_* re-exported for tests
    CallerScript,
    Channel,
    agi_env,
    agi_result,
)
from ivr.drivers.ami.emulator_mixmonitor import MixMonitorSim
from ivr.drivers.ami.emulator_queue import QueueSim

log = structlog.get_logger("ivr.drivers.ami.emulator")

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
ALL_CLASSES = frozenset({"system", "call", "log", "verbose", "command", "agent", "user", "config",
                         "dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc",
                         "test", "security", "message"})


@dataclass(eq=False)
class _Session:
    writer: asyncio.StreamWriter
    peer: str
    mask: frozenset[str] | None = None  # None = not logged in
    username: str = ""


class AMIEmulator:
    """``async with AMIEmulator() as emu: emu.port ...``; see the module docstring."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        users: dict[str, str] | None = None,
        *,
        time_scale: float = 0.01,
        prompt_s: float = 2.0,
        prompt_exists: Callable[[str], bool] = lambda path: "missing" not in path,
        originate_reason: Callable[[str], int] = lambda ch: 0 if "nonexistent" in ch else 4,
        result_override: Callable[[Channel, str], str | None] | None = None,
        seed: int = 0,
    ) -> None:
        self.host, self.port = host, port
        self.users = users if users is not None else {"ivr": "ivrsecret"}
        self.time_scale = time_scale
        self.prompt_s = prompt_s
        self.prompt_exists = prompt_exists
        self.originate_reason = originate_reason
        self.result_override = result_override
        self.rng = random.Random(seed)
        self.started = time.time()
        self._chan_seq = itertools.count(0)
        self._uid_seq = itertools.count(0)
        self._epoch = int(self.started)
        self.channels: dict[str, Channel] = {}  # by channel name
        self.queues: dict[str, QueueSim] = {}
        self.sessions: set[_Session] = set()
        self.calls = CallRunner(self)
        self.mixmonitor = MixMonitorSim(self)  # MixMonitor / StopMixMonitor actions
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.events_sent = 0
        self.actions_received = 0
        self.finished: list[Channel] = []

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> AMIEmulator:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.drop_connections()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def drop_connections(self) -> int:
        """Abort every AMI socket (fault injection); calls keep running. Returns how many
        logged-in sessions were cut."""
        sessions = list(self.sessions)
        self.sessions.clear()
        for s in sessions:
            s.writer.transport.abort()
        await asyncio.sleep(0)
        return sum(s.mask is not None for s in sessions)

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- ids and time ---------------------------------------------------------------------------
    def new_uniqueid(self) -> str:
        return f"{self._epoch}.{next(self._uid_seq)}"

    def new_channel_suffix(self) -> str:
        return f"{next(self._chan_seq):08x}"

    def scaled(self, seconds: float) -> float:
        return max(0.0, seconds * self.time_scale)

    # -- scripted calls -------------------------------------------------------------------------
    def place_call(
        self,
        dnid: str = "88005553535",
        callerid: str = "79161234567",
        script: CallerScript | None = None,
        *,
        callerid_name: str = "sipp",
        language: str = "ru",
        agi_args: tuple[str, ...] = (),
        variables: dict[str, str] | None = None,
        agi_dnid: str | None = None,
    ) -> Channel:
        """Start an inbound SIP call into ``from-trunk`` → ``AGI(agi:async)``. ``variables``
        are set on the channel before AGI (as the exported dialplan sets ``HOTLINE_*``);
        ``agi_dnid`` overrides the Env's ``agi_dnid`` (``unknown`` on some trunks)."""
        return self.calls.inbound(dnid, callerid, script or CallerScript(), callerid_name,
                                  language, agi_args, variables or {}, agi_dnid)

    def add_queue(self, name: str, agents: list[str] | None = None, *, ring_s: float = 1.0,
                  talk_s: float = 5.0, strategy: str = "ringall",
                  transfer_to: tuple[str, str] | None = None) -> QueueSim:
        """``transfer_to`` (context, exten): its agents blind-transfer every caller there."""
        q = QueueSim(self, name, list(agents or []), ring_s, talk_s, strategy, transfer_to)
        self.queues[name] = q
        return q

    # -- output ---------------------------------------------------------------------------------
    def emit(self, cls: str, pairs: list[tuple[str, str]]) -> None:
        """Send an event of privilege class ``cls`` to every session whose mask allows it."""
        data = None
        for s in self.sessions:
            if s.mask is not None and cls in s.mask:
                if data is None:
                    data = encode([("Event", pairs[0][1]), ("Privilege", f"{cls},all"),
                                   *pairs[1:]])
                s.writer.write(data)
                self.events_sent += 1

    @staticmethod
    def _reply(s: _Session, pairs: list[tuple[str, str]]) -> None:
        s.writer.write(encode(pairs))

    # -- server ---------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = "{}:{}".format(*writer.get_extra_info("peername")[:2])
        s = _Session(writer, peer)
        self.sessions.add(s)
        writer.write(BANNER)
        dec = Decoder(expect_banner=False)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for msg in dec.feed(data):
                    if isinstance(msg, Message):
                        self.actions_received += 1
                        if not self._action(s, msg):
                            return
        except (ConnectionError, OSError):
            pass
        finally:
            self.sessions.discard(s)
            writer.transport.abort()

    def _action(self, s: _Session, m: Message) -> bool:
        """Answer one action; False closes the connection (Logoff, failed login)."""
        name = (m.action or "").lower()
        aid = m.action_id
        head = [("ActionID", aid)] if aid is not None else []
        if name == "login":
            if self.users.get(m.get("Username", "")) != m.get("Secret"):
                self._reply(s, [("Response", "Error"), *head,
                                ("Message", "Authentication failed")])
                return False
            s.username = m.get("Username", "")
            s.mask = _mask(m.get("Events", "on"))
            self._reply(s, [("Response", "Success"), *head,
                            ("Message", "Authentication accepted")])
            uptime = str(int(time.time() - self.started))
            if "system" in s.mask:
                s.writer.write(encode([("Event", "FullyBooted"), ("Privilege", "system,all"),
                                       ("Uptime", uptime), ("LastReload", uptime),
                                       ("Status", "Fully Booted")]))
            if "security" in s.mask:
                tv = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
                local = "{}:{}".format(*s.writer.get_extra_info("sockname")[:2])
                s.writer.write(encode([
                    ("Event", "SuccessfulAuth"), ("Privilege", "security,all"), ("EventTV", tv),
                    ("Severity", "Informational"), ("Service", "AMI"), ("EventVersion", "1"),
                    ("AccountID", s.username), ("SessionID", f"0x{id(s):x}"),
                    ("LocalAddress", f"IPV4/TCP/{local.replace(':', '/')}"),
                    ("RemoteAddress", f"IPV4/TCP/{s.peer.replace(':', '/')}"),
                    ("UsingPassword", "0"), ("SessionTV", tv)]))
            return True
        if name == "logoff":
            self._reply(s, [("Response", "Goodbye"), *head,
                            ("Message", "Thanks for all the fish.")])
            return False
        if s.mask is None:
            self._reply(s, [("Response", "Error"), *head, ("Message", "Permission denied")])
            return True
        handler = getattr(self, f"_act_{name}", None)
        if handler is None:
            self._reply(s, [("Response", "Error"), *head, (
                "Message", (f"Invalid/unknown command: {m.action}. "
                           "Use Action: ListCommands to show available commands."))])
            return True
        handler(s, m, head)
        return True

    # -- actions --------------------------------------------------------------------------------
    def _act_ping(self, s: _Session, m: Message, head: list) -> None:
        self._reply(s, [("Response", "Success"), *head, ("Ping", "Pong"),
                        ("Timestamp", f"{time.time():.6f}")])

    def _act_events(self, s: _Session, m: Message, head: list) -> None:
        s.mask = _mask(m.get("EventMask", "on"))
        self._reply(s, [("Response", "Success"), *head,
                        ("Events", "Off" if not s.mask else "On")])

    def _act_command(self, s: _Session, m: Message, head: list) -> None:
        cmd = m.get("Command", "")
        out = ("Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux (AMI emulator)"
               if cmd == "core show version" else f"No such command '{cmd}' (AMI emulator)")
        self._reply(s, [("Response", "Success"), *head, ("Message", "Command output follows"),
                        ("Output", out)])

    def _act_agi(self, s: _Session, m: Message, head: list) -> None:
        chan = self.channels.get(m.get("Channel", ""))
        if chan is None or chan.gone:
            self._reply(s, [("Response", "Error"), *head,
                            ("Message", f"Channel {m.get('Channel')} does not exist.")])
            return
        if not chan.in_agi:
            self._reply(s, [("Response", "Error"), *head, (
                "Message", f"Failed to add AGI command to channel {chan.name} queue")])
            return
        chan.agi_queue.put_nowait((m.get("Command", ""), m.get("CommandID")))
        self._reply(s, [("Response", "Success"), *head, ("Message", "Added AGI command to queue")])

    def _act_playdtmf(self, s: _Session, m: Message, head: list) -> None:
        chan = self.channels.get(m.get("Channel", ""))
        if chan is None or chan.gone:
            self._reply(s, [("Response", "Error"), *head, ("Message", "Channel not found")])
            return
        self.calls.press(chan, m.get("Digit", "")[:1])
        self._reply(s, [("Response", "Success"), *head, ("Message", "DTMF successfully queued")])

    def _act_hangup(self, s: _Session, m: Message, head: list) -> None:
        chan = self.channels.get(m.get("Channel", ""))
        if chan is None or chan.gone:
            self._reply(s, [("Response", "Error"), *head, ("Message", "No such channel")])
            return
        self.calls.hangup_from_ami(chan)
        self._reply(s, [("Response", "Success"), *head, ("Message", "Channel Hungup")])

    def _act_originate(self, s: _Session, m: Message, head: list) -> None:
        if not m.get("Channel"):
            self._reply(s, [("Response", "Error"), *head, ("Message", "Channel not specified")])
            return
        if (m.get("Async") or "").lower() not in ("true", "yes", "1"):
            # the bridge always uses Async; a synchronous originate is answered after the call
            self.spawn(self.calls.originate(m, None))
            return
        self._reply(s, [("Response", "Success"), *head,
                        ("Message", "Originate successfully queued")])
        self.spawn(self.calls.originate(m, m.action_id))

    def _act_mixmonitor(self, s: _Session, m: Message, head: list) -> None:
        reply, ch = self.mixmonitor.start(m, head)
        self._reply(s, reply)
        if ch is not None:
            self.calls.ev("call", "MixMonitorStart", ch)

    def _act_stopmixmonitor(self, s: _Session, m: Message, head: list) -> None:
        reply, ch = self.mixmonitor.stop(m, head)
        self._reply(s, reply)
        if ch is not None:
            self.calls.ev("call", "MixMonitorStop", ch)

    def _list(self, s: _Session, head: list, what: str, items: list[list[tuple[str, str]]],
              complete: str) -> None:
        self._reply(s, [("Response", "Success"), *head, ("EventList", "start"),
                        ("Message", f"{what} will follow")])
        for pairs in items:
            self._reply(s, pairs)
        self._reply(s, [("Event", complete), *head, ("EventList", "Complete"),
                        ("ListItems", str(len(items)))])

    def _act_coreshowchannels(self, s: _Session, m: Message, head: list) -> None:
        now = time.time()
        items = []
        for ch in self.channels.values():
            if ch.gone:
                continue
            dur = int((now - ch.created) / max(self.time_scale, 1e-9))
            items.append([("Event", "CoreShowChannel"), *head, *ch.headers(),
                          ("BridgeId", ""), ("Application", ch.app),
                          ("ApplicationData", ch.appdata),
                          ("Duration", f"{dur // 3600:02d}:{dur // 60 % 60:02d}:{dur % 60:02d}")])
        self._list(s, head, "Channels", items, "CoreShowChannelsComplete")

    def _act_queuestatus(self, s: _Session, m: Message, head: list) -> None:
        want = m.get("Queue")
        items: list[list[tuple[str, str]]] = []
        for q in self.queues.values():
            if want and q.name != want:
                continue
            items.append([("Event", "QueueParams"), *q.params(), *head])
            items.extend([("Event", "QueueMember"), *p, *head] for p in q.members())
            items.extend([("Event", "QueueEntry"), *p, *head] for p in q.entries())
        self._list(s, head, "Queue status", items, "QueueStatusComplete")

    def _act_queuesummary(self, s: _Session, m: Message, head: list) -> None:
        want = m.get("Queue")
        items = [[("Event", "QueueSummary"), *q.summary(), *head]
                 for q in self.queues.values() if not want or q.name == want]
        self._list(s, head, "Queue summary", items, "QueueSummaryComplete")


def _mask(events: str) -> frozenset[str]:
    """Login ``Events:`` value → set of privilege classes (``on``/``off``/``call,agi,…``)."""
    v = events.strip().lower()
    if v in ("on", "yes", "true", "all", "1"):
        return ALL_CLASSES
    if v in ("off", "no", "false", "0", ""):
        return frozenset()
    return frozenset(p.strip() for p in v.split(",") if p.strip())
