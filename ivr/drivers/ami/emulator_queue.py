"""app_queue of the FAKE Asterisk in ``emulator.py`` (not Asterisk): a queue with agents.

Event order follows the queue_timeout / queue_abandon transcripts; AgentCalled/Connect/Complete
and QueueMember(Status) follow the Asterisk 22 AMI documentation. A queue made with
``transfer_to=(context, exten)`` has agents who blind-transfer every caller there halfway
through the talk (``emulator_transfer``); the caller runs that context: ``Queue(<context>)``.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from ivr.drivers.ami.emulator_agi import CallerLeft
from ivr.drivers.ami.emulator_channel import Channel, EmulatorHost
from ivr.drivers.ami.emulator_transfer import blind_transfer


@dataclass(eq=False)
class _Agent:
    name: str
    interface: str
    busy: bool = False
    calls_taken: int = 0


class QueueSim:
    """One app_queue queue with logged-in agents answering after ``ring_s``."""

    def __init__(self, emu: EmulatorHost, name: str, agents: list[str], ring_s: float,
                 talk_s: float, strategy: str,
                 transfer_to: tuple[str, str] | None = None) -> None:
        self.emu, self.name, self.ring_s, self.talk_s, self.strategy = (
            emu, name, ring_s, talk_s, strategy)
        self.transfer_to = transfer_to
        self.agents = [_Agent(a, f"PJSIP/{a}") for a in agents]
        self.waiting: list[tuple[Channel, float]] = []
        self.free: asyncio.Queue[_Agent] = asyncio.Queue()
        for a in self.agents:
            self.free.put_nowait(a)
        self.completed = self.abandoned = 0

    # -- list-action payloads (queue_timeout transcript order) ----------------------------------
    def params(self) -> list[tuple[str, str]]:
        return [("Queue", self.name), ("Max", "0"), ("Strategy", self.strategy),
                ("Calls", str(len(self.waiting))), ("Holdtime", "0"), ("TalkTime", "0"),
                ("Completed", str(self.completed)), ("Abandoned", str(self.abandoned)),
                ("ServiceLevel", "0"), ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"),
                ("Weight", "0")]

    def member(self, a: _Agent) -> list[tuple[str, str]]:
        return [("Queue", self.name), ("Name", a.name), ("Location", a.interface),
                ("StateInterface", a.interface), ("Membership", "static"), ("Penalty", "0"),
                ("CallsTaken", str(a.calls_taken)), ("LastCall", "0"), ("LastPause", "0"),
                ("LoginTime", str(int(self.emu.started))), ("InCall", "1" if a.busy else "0"),
                ("Status", "2" if a.busy else "1"), ("Paused", "0"), ("PausedReason", ""),
                ("Wrapuptime", "0")]

    def members(self) -> list[list[tuple[str, str]]]:
        return [self.member(a) for a in self.agents]

    def entries(self) -> list[list[tuple[str, str]]]:
        now = time.monotonic()
        return [[("Queue", self.name), ("Position", str(i)), ("Channel", ch.name),
                 ("Uniqueid", ch.uniqueid), ("CallerIDNum", ch.callerid_num),
                 ("CallerIDName", ch.callerid_name), ("ConnectedLineNum", "<unknown>"),
                 ("ConnectedLineName", "<unknown>"),
                 ("Wait", str(int((now - t) / max(self.emu.time_scale, 1e-9)))),
                 ("Priority", "0")]
                for i, (ch, t) in enumerate(self.waiting, 1)]

    def summary(self) -> list[tuple[str, str]]:
        free = sum(not a.busy for a in self.agents)
        return [("Queue", self.name), ("LoggedIn", str(len(self.agents))),
                ("Available", str(free)), ("Callers", str(len(self.waiting))),
                ("HoldTime", "0"), ("TalkTime", "0"), ("LongestHoldTime", "0")]

    # -- a caller in the queue ------------------------------------------------------------------
    async def enter(self, ch: Channel, timeout: float | None) -> str:
        """Returns QUEUESTATUS (TIMEOUT / COMPLETED); raises CallerLeft on caller hang-up."""
        calls = self.emu.calls
        ch.app, ch.appdata = "Queue", self.name
        self.emu.emit("call", [("Event", "DeviceStateChange"), ("Device", f"Queue:{self.name}"),
                               ("State", "RINGING")])
        t0 = time.monotonic()
        self.waiting.append((ch, t0))
        calls.ev("agent", "QueueCallerJoin", ch, ("Queue", self.name),
                 ("Position", str(len(self.waiting))), ("Count", str(len(self.waiting))))
        calls.ev("call", "MusicOnHoldStart", ch, ("Class", "default"))
        get = asyncio.ensure_future(self.free.get())
        hang = asyncio.ensure_future(ch.hangup_evt.wait())
        t = None if timeout is None else self.emu.scaled(timeout)
        done, _ = await asyncio.wait({get, hang}, timeout=t, return_when=asyncio.FIRST_COMPLETED)
        hold = str(int((time.monotonic() - t0) / max(self.emu.time_scale, 1e-9)))
        pos = str(1 + next((i for i, (c, _) in enumerate(self.waiting) if c is ch), 0))
        if get not in done:
            get.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await get
            if get.done() and not get.cancelled():
                self.free.put_nowait(get.result())
            caller_left = hang in done
            hang.cancel()
            if caller_left:  # queue_abandon: HangupRequest first
                calls.request_hangup(ch)
            calls.ev("call", "MusicOnHoldStop", ch)
            self.abandoned += 1
            calls.ev("agent", "QueueCallerAbandon", ch, ("Queue", self.name), ("Position", pos),
                     ("OriginalPosition", pos), ("HoldTime", hold))
            self._leave(ch, pos)
            if caller_left:
                ch.queue_result = "ABANDON"
                raise CallerLeft
            calls.varset(ch, "QUEUESTATUS", "TIMEOUT")
            return "TIMEOUT"
        hang.cancel()
        agent = get.result()
        agent.busy = True
        self._member_status(agent)
        achan = calls.new_channel(agent.interface, agent.name, agent.name, "agents", agent.name,
                                  "ru")
        achan.state = 6
        calls.ev("agent", "AgentCalled", ch, *achan.dest_headers(), ("Queue", self.name),
                 ("Interface", agent.interface), ("MemberName", agent.name))
        try:
            await calls._sleep(ch, self.ring_s)
            calls.ev("call", "MusicOnHoldStop", ch)
            self._leave(ch, pos)
            calls.ev("agent", "AgentConnect", ch, *achan.dest_headers(), ("Queue", self.name),
                     ("MemberName", agent.name), ("Interface", agent.interface),
                     ("RingTime", str(int(self.ring_s))), ("HoldTime", hold))
            reason = "agent"
            transfer = self.transfer_to
            try:
                await calls._sleep(ch, self.talk_s / 2 if transfer else self.talk_s)
            except CallerLeft:
                reason, transfer = "caller", None
                calls.request_hangup(ch)
            if transfer:
                self.emu.emit("call", blind_transfer(achan, ch, *transfer))
                reason = "transfer"
            calls.ev("agent", "AgentComplete", ch, *achan.dest_headers(), ("Queue", self.name),
                     ("MemberName", agent.name), ("Interface", agent.interface),
                     ("HoldTime", hold), ("TalkTime", str(int(self.talk_s))), ("Reason", reason))
            self.completed += 1
            agent.calls_taken += 1
            if transfer:  # the agent is free (finally); the caller runs the target context
                ch.queue_result = "TRANSFER"
            else:
                ch.queue_result = "COMPLETED"
            ch.end_reason = ch.end_reason or (
                "caller-hangup" if reason == "caller" else "agent-hangup")
            if not transfer:
                # the bridged call is over: the caller channel is hung up under the AGI
                ch.hangup_evt.set()
                raise CallerLeft
        finally:
            agent.busy = False
            self.emu.channels.pop(achan.name, None)
            self._member_status(agent)
            self.free.put_nowait(agent)
        return await self._transferred(ch, *transfer)

    async def _transferred(self, ch: Channel, context: str, exten: str) -> str:
        """``[hotline-senior]`` of the exported dialplan: the caller queues there."""
        calls = self.emu.calls
        ch.context, ch.exten, ch.priority = context, exten, 1
        calls.newexten(ch, "Set", "QUEUE_PRIO=5")
        ch.priority += 1
        calls.newexten(ch, "Queue", f"{context},,,,")
        target = self.emu.queues.get(context)
        if target is None:
            calls.varset(ch, "QUEUESTATUS", "UNKNOWN")
            return "UNKNOWN"
        return await target.enter(ch, None)

    def _leave(self, ch: Channel, pos: str) -> None:
        self.waiting = [(c, t) for c, t in self.waiting if c is not ch]
        self.emu.emit("call", [("Event", "DeviceStateChange"), ("Device", f"Queue:{self.name}"),
                               ("State", "NOT_INUSE")])
        self.emu.calls.ev("agent", "QueueCallerLeave", ch, ("Queue", self.name),
                          ("Position", pos), ("Count", str(len(self.waiting))))
        self.emu.calls.varset(ch, "QUEUEPOSITION", pos)

    def _member_status(self, a: _Agent) -> None:
        self.emu.emit("agent", [("Event", "QueueMemberStatus"), *self.member(a)])
