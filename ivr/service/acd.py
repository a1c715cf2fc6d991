"""The IVR's ``Enqueue`` → the live ACD → the queued call's true final outcome.

A driver (SIP hook, demo caller) hands over a finished IVR session with :meth:`enqueue` and
gets a :class:`Ticket`: ``await ticket.answered`` (the agent's name) and ``await
ticket.released``; if the caller hangs up first it calls :meth:`hangup`. The service runs the
ACD's timers (:meth:`run`) and writes, once per call, the outcome that replaces the IVR's
``queued`` row (issue 13 item 1, embedded mode): ``answered`` with ``agent_id`` and
``answered_at`` (agent pick-up) and ``ended_at``; ``abandoned`` after W s; ``error`` when the
service stopped first. A connected call may be transferred to a senior group
(:meth:`AcdService.transfer`, :mod:`ivr.service.transfer`): the ticket goes on, the record
keeps its first answer and lists the transfers. The EWT the IVR announces comes from the same
:class:`queue_engine.live.LiveCentre` (``ivr.call.waits.LiveWaits``).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from ivr.call.protocol import Enqueue
from ivr.service import transfer as escalation
from ivr.service.clock import Clock
from queue_engine.acd import Connect, DialCallback, LiveAcd, Release, Transfer
from queue_engine.records import QueueCall

log = structlog.get_logger("ivr.service.acd")


@dataclass
class Ticket:
    """One caller in (or through) the queue."""

    call_id: str
    skill: str
    line: str
    region: str
    joined: float
    answered: asyncio.Future = field(repr=False)
    released: asyncio.Future = field(repr=False)
    agent: str | None = None
    answered_at: float | None = None
    talk_s: float = 0.0
    done: bool = False
    first_agent: str | None = None  # who answered first (a transfer moves ``agent`` on)
    history: dict = field(default_factory=dict)  # IVR path, identification: travels along
    transfers: list = field(default_factory=list)
    senior_queued: float | None = None


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class AcdService:
    """Drives a :class:`queue_engine.acd.LiveAcd` on a :class:`Clock`; writes final outcomes."""

    def __init__(self, acd: LiveAcd, clock: Clock, *, write: Callable[..., None] | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.acd, self.clock = acd, clock
        self.write = write or (lambda call_id, **f: None)
        self.on_change = on_change or (lambda: None)
        #: a callback's virtual place reached the head (ivr.service.callbacks dials it)
        self.on_dial: Callable[[DialCallback], None] = lambda d: None
        #: transfer events for ivr.records.transfers.apply_event (serve: the record writer)
        self.on_transfer: Callable[[dict], None] = lambda ev: None
        self.tickets: dict[str, Ticket] = {}
        self.handed: dict[str, float] = {}  # recorded 'queued' by the IVR, not yet enqueued
        self._wake = asyncio.Event()
        self.closing = False
        self.started = False
        self.outcomes = {"answered": 0, "abandoned": 0, "error": 0}

    # ---- drivers' side ----------------------------------------------------------------------
    def ivr_queued(self, call_id: str) -> None:
        """The IVR recorded ``queued``: the driver is about to :meth:`enqueue` the caller. When
        the service is already stopping (the row came late from a database worker) no agent
        will come: the call gets its outcome now instead of staying ``queued``."""
        if self.closing:
            self.write(call_id, outcome="error", ended_at=_utc(self.clock.ts()),
                       detail="service stopped before the caller reached the queue")
            return
        self.handed[call_id] = self.clock.ts()

    def left_before_queue(self, call_id: str) -> None:
        """The caller hung up after the IVR's ``queued`` but before reaching the queue (during
        the "connecting" prompt): an abandonment after 0 s, not a call waiting forever."""
        handed = self.handed.pop(call_id, None)
        if handed is not None and call_id not in self.tickets:
            now = self.clock.ts()
            self.outcomes["abandoned"] += 1
            self.write(call_id, outcome="abandoned", ended_at=_utc(now), queued_at=_utc(handed),
                       detail="abandoned after 0 s: hung up before reaching the queue")
            self.on_change()

    def enqueue(self, session: Any, enq: Enqueue) -> Ticket:
        """Queue the caller whose IVR part just ended with ``enq``."""
        loop = asyncio.get_running_loop()
        now = self.clock.ts()
        self.handed.pop(session.call_id, None)
        rec = enq.record or {}
        skill = enq.skill if enq.skill in self.acd.g_of else self._fallback(enq.skill)
        t = Ticket(session.call_id, skill, str(rec.get("line") or ""),
                   str(rec.get("region") or ""), now, loop.create_future(), loop.create_future())
        t.history = escalation.history_of(rec)
        self.tickets[t.call_id] = t
        if self.closing:  # stopping: no agent will come
            self._finish(t, "error", now, "service stopping: not queued")
            t.answered.cancel()
            t.released.cancel()
            return t
        place = None
        if rec.get("callback_id") is not None:  # a callback's answered leg: its place, live now
            self._apply(self.acd.unhold(int(rec["callback_id"]), now))
            place = float(rec.get("arrival_time") or now)
        actions = self.acd.offer(QueueCall(
            call_id=t.call_id, line=t.line, region=t.region,
            language=str(rec.get("language") or "ru"), skill=skill, priority=int(enq.priority),
            identified=bool(rec.get("identified")), arrival_time=now), now, place=place)
        self._apply(actions)
        self._wake.set()
        self.on_change()
        return t

    def hangup(self, call_id: str, cause: str = "caller") -> None:
        """The caller left: an abandonment while queued, the end of the call while talking."""
        t = self.tickets.get(call_id)
        if t is None or t.done:
            return
        now = self.clock.ts()
        waited = self.acd.abandon(call_id, now)
        if waited is not None and t.transfers:  # left while waiting for the senior group
            self._wake.set()
            self._finish(t, "answered", now, f"{self._answered(t)}; caller left after "
                                             f"{waited:.0f} s waiting ({cause})")
            if not t.released.done():
                t.released.set_result(now)
        elif waited is not None:
            self._wake.set()  # a callback's place may be at the head now
            self._finish(t, "abandoned", now, f"abandoned after {waited:.0f} s in queue "
                                             f"{t.skill} ({cause})")
            for fut in (t.answered, t.released):
                if not fut.done():
                    fut.set_exception(ConnectionAbortedError("caller hung up"))
                    fut.exception()  # retrieved: nobody need await it
        elif t.agent is not None:  # hung up while talking to the agent: answered, ended now
            self._finish(t, "answered", now, f"{self._answered(t)}; caller ended the call")
            self.acd.hang_up(call_id, now)  # the agent moves on to wrap-up at once
            self._wake.set()  # a new timer: the end of that wrap-up
            if not t.released.done():
                t.released.set_result(now)
        self.on_change()

    def transfer(self, call_id: str, to: str, *, by: str, via: str = "web",
                 priority: int | None = None) -> Ticket:
        """The agent talking to ``call_id`` transfers it to group ``to`` (a senior group):
        it queues there with ``priority`` (default 5), its history along. Raises
        :class:`ivr.service.transfer.TransferError` when it cannot be done."""
        return escalation.transfer(self, call_id, to, by=by, via=via, priority=priority)

    def hold(self, callback_id: int, skill: str, priority: int, arrival: float) -> None:
        """A pending callback takes its virtual place (``queue_engine.virtual_hold``)."""
        skill = skill if skill in self.acd.g_of else self._fallback(skill)
        self._apply(self.acd.hold(callback_id, skill, priority, arrival, self.clock.ts()))
        self.on_change()

    def unhold(self, callback_id: int) -> None:
        self._apply(self.acd.unhold(callback_id, self.clock.ts()))
        self.on_change()

    def _fallback(self, skill: str) -> str:
        log.warning("acd.unknown_skill", skill=skill)
        return "general" if "general" in self.acd.g_of else self.acd.skills[0]

    # ---- the ACD's timers ---------------------------------------------------------------------
    def start(self) -> None:
        """Agents log in by the roster of the clock's hour."""
        self.started = True
        self._apply(self.acd.start(self.clock.ts()))

    async def run(self, stop: asyncio.Event) -> None:
        """Tick the ACD at its next due time (or when woken) until ``stop``."""
        if not self.started:
            self.start()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                self._wake.clear()
                delay = min(self.clock.until(self.acd.next_due()), 1.0)
                waker = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({waker, stopping}, timeout=delay,
                                   return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
                actions = self.acd.tick(self.clock.ts())
                if actions:
                    self._apply(actions)
                    self.on_change()
        finally:
            stopping.cancel()

    def _apply(self, actions: list[Any]) -> None:
        for a in actions:
            if isinstance(a, DialCallback):
                self.on_dial(a)
                continue
            t = self.tickets.get(a.call_id)
            if t is None:
                continue
            if isinstance(a, Transfer):
                escalation.transferred(self, t, a)
            elif isinstance(a, Connect) and t.transfers:
                escalation.senior_answered(self, t, a)
            elif isinstance(a, Connect):
                t.agent, t.answered_at, t.talk_s = a.agent, a.at, a.talk
                t.first_agent = a.agent
                if not t.answered.done():
                    t.answered.set_result(a.agent)
            elif isinstance(a, Release) and not t.done:
                self._finish(t, "answered", a.at, self._answered(t))
                if not t.released.done():
                    t.released.set_result(a.at)

    @staticmethod
    def _answered(t: Ticket) -> str:
        """The detail every answered record carries (reports read the wait back from it)."""
        first = (f"answered by {t.first_agent or t.agent} after "
                 f"{(t.answered_at or t.joined) - t.joined:.0f} s")
        return f"{first}; {escalation.transfer_detail(t)}" if t.transfers else first

    def _finish(self, t: Ticket, outcome: str, at: float, detail: str) -> None:
        t.done = True
        self.tickets.pop(t.call_id, None)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        fields: dict[str, Any] = {"outcome": outcome, "ended_at": _utc(at), "detail": detail,
                                  "queued_at": _utc(t.joined)}
        if t.agent is not None:
            fields.update(agent_id=t.first_agent or t.agent,
                          answered_at=_utc(t.answered_at or at))
        self.write(t.call_id, **fields)

    # ---- stopping -----------------------------------------------------------------------------
    def close(self, reason: str = "service stopped") -> int:
        """Every call still queued or talking gets its outcome now; returns how many."""
        now = self.clock.ts()
        n = len(self.handed)
        for call_id in list(self.handed):
            self.write(call_id, outcome="error", ended_at=_utc(now),
                       detail=f"{reason} before the caller reached the queue")
        self.handed.clear()
        for t in list(self.tickets.values()):
            if t.done:
                continue
            n += 1
            waited = self.acd.abandon(t.call_id, now)
            if waited is not None and not t.transfers:
                self._finish(t, "error", now, f"{reason} after {waited:.0f} s in queue {t.skill}")
            elif waited is not None:  # answered, then waiting for the senior group
                self._finish(t, "answered", now, f"{self._answered(t)}; {reason} after "
                                                 f"{waited:.0f} s waiting")
            else:
                self._finish(t, "answered", now, f"{self._answered(t)}; {reason} mid-call")
            for fut in (t.answered, t.released):
                if not fut.done():
                    fut.cancel()
        self.on_change()
        return n
