"""Live queue state from app_queue's AMI events, for ``queue_engine`` and the dashboard.

Sans-IO: ``apply(message)`` in, state and per-call results out. Rules (from the
queue_timeout / queue_abandon transcripts):

* ``QueueCallerJoin`` adds a waiting caller; ``QueueCallerLeave`` removes it.
* ``QueueCallerAbandon`` is sent both when the caller hangs up *and* when the queue times out.
  It is a hang-up when a ``HangupRequest`` (the caller's BYE) or a ``SoftHangupRequest`` (an
  AMI ``Hangup``, ``channel request hangup``: Asterisk sends only the soft one) for the same
  Uniqueid came before it — app_queue's timeout path sends neither first; a
  ``VarSet QUEUESTATUS=TIMEOUT`` (dialplan class) confirms a timeout when it is subscribed.
* ``AgentConnect`` → answered (hold time known); ``AgentComplete`` → talk time, who hung up.
* ``QueueMemberStatus`` / ``QueueMember`` keep agents' status; ``QueueParams``/``QueueEntry``
  (``QueueStatus`` after a reconnect) replace the waiting list of that queue.
* With a ``queue_engine.live.LiveCentre`` attached, the same events drive it: join (with the
  IVR's ``Enqueue.record`` when the bridge queued the call itself), leave on abandon/timeout,
  answer on ``AgentConnect``, agent free on ``AgentComplete``, login/logout from member status
  (AMI status 5 = unavailable, 0 = invalid). Time is the event's arrival on ``clock``.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.drivers.ami.codec import Message

QUEUE_EVENTS = frozenset({
    "queuecallerjoin", "queuecallerleave", "queuecallerabandon", "agentcalled", "agentconnect",
    "agentcomplete", "agentringnoanswer", "queuememberstatus", "queuemember", "queueparams",
    "queueentry", "hanguprequest", "softhanguprequest", "varset", "hangup",
})


@dataclass
class QueueLive:
    name: str
    waiting: dict[str, dict[str, Any]] = field(default_factory=dict)  # uniqueid -> info
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # interface -> info
    answered: int = 0
    abandoned: int = 0
    timed_out: int = 0
    hold_times: list[int] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {
            "queue": self.name, "waiting": len(self.waiting),
            "members": len(self.members),
            "available": sum(1 for m in self.members.values() if m.get("status") == "1"
                             and m.get("paused") != "1"),
            "answered": self.answered, "abandoned": self.abandoned, "timed_out": self.timed_out,
        }


class QueueFeed:
    """Apply AMI messages; ``results[uniqueid]`` = answered / abandoned / timeout."""

    def __init__(self, on_change: Callable[[str, dict[str, Any]], None] | None = None,
                 clock: Callable[[], float] = time.time, centre: Any = None,
                 call_id: Callable[[str], str] = lambda uid: uid,
                 queue_prefix: str = "hotline-") -> None:
        self.centre = centre
        self.queue_prefix = queue_prefix  # Asterisk queue "hotline-payments" = skill "payments"
        self.call_id = call_id  # Uniqueid -> the call id the IVR used
        self.expected: dict[str, dict[str, Any]] = {}  # Uniqueid -> Enqueue.record
        self.queues: dict[str, QueueLive] = {}
        self.results: dict[str, str] = {}
        self.agents: dict[str, str] = {}  # uniqueid -> agent interface that took the call
        self._hangup_requested: set[str] = set()
        self.on_change = on_change
        self.clock = clock

    def queue(self, name: str) -> QueueLive:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = QueueLive(name)
        return q

    def apply(self, m: Message) -> str | None:
        """Feed one message; returns the queue name it changed, if any."""
        ev = (m.event or "").lower()
        if ev not in QUEUE_EVENTS:
            return None
        uid = m.get("Uniqueid", "")
        if ev in ("hanguprequest", "softhanguprequest"):
            self._hangup_requested.add(uid)
            return None
        if ev == "hangup":
            self._hangup_requested.discard(uid)
            return None
        if ev == "varset":
            if m.get("Variable") == "QUEUESTATUS" and m.get("Value") == "TIMEOUT":
                self.results[uid] = "timeout"
            return None
        name = m.get("Queue")
        if not name:
            return None
        q = self.queue(name)
        now = self.clock()
        if ev == "queuecallerjoin":
            q.waiting[uid] = {"channel": m.get("Channel"), "callerid": m.get("CallerIDNum"),
                              "position": m.get("Position"), "since": now}
            self._centre_join(uid, name, now)
        elif ev == "queuecallerleave":
            q.waiting.pop(uid, None)
            self.expected.pop(uid, None)
        elif ev == "queuecallerabandon":
            q.waiting.pop(uid, None)
            if uid in self._hangup_requested:
                q.abandoned += 1
                self.results[uid] = "abandoned"
            else:
                q.timed_out += 1
                self.results[uid] = "timeout"
            if self.centre is not None:
                self.centre.leave(self.call_id(uid), now)
        elif ev == "agentconnect":
            q.waiting.pop(uid, None)
            q.answered += 1
            self.results[uid] = "answered"
            agent = m.get("Interface") or m.get("MemberName") or ""
            self.agents[uid] = agent
            hold = m.get("HoldTime", "")
            if hold.isdigit():
                q.hold_times.append(int(hold))
                del q.hold_times[:-1000]
            if self.centre is not None:
                self.centre.answer(self.call_id(uid), now, agent)
        elif ev == "agentcomplete":
            live = self._live(name)
            if live is not None:
                live.agent_free(m.get("Interface") or m.get("MemberName") or "", now)
        elif ev in ("queuememberstatus", "queuemember"):
            iface = m.get("Interface") or m.get("Location") or m.get("StateInterface") or ""
            status = m.get("Status")
            q.members[iface] = {"name": m.get("MemberName") or m.get("Name"),
                                "status": status, "paused": m.get("Paused"),
                                "in_call": m.get("InCall")}
            live = self._live(name)
            if live is not None:
                if status in ("0", "5"):  # invalid / unavailable: not on duty
                    live.agent_logout(iface, now)
                else:
                    live.agent_login(iface, now)
        elif ev == "queueparams":
            q.waiting.clear()  # a QueueStatus snapshot follows: QueueEntry rebuilds it
        elif ev == "queueentry":
            q.waiting[uid] = {"channel": m.get("Channel"), "callerid": m.get("CallerIDNum"),
                              "position": m.get("Position"),
                              "since": self.clock() - int(m.get("Wait", "0") or 0)}
        elif ev in ("agentcalled", "agentcomplete", "agentringnoanswer"):
            pass
        if len(self.results) > 50_000 or len(self.expected) > 50_000:
            self._trim()
        if self.on_change is not None:
            self.on_change(name, q.snapshot())
        return name

    def forget(self, uniqueid: str) -> tuple[str | None, str | None]:
        """The call is over: return (result, agent) and drop what was kept for it."""
        self.expected.pop(uniqueid, None)
        return self.results.pop(uniqueid, None), self.agents.pop(uniqueid, None)

    def _trim(self) -> None:
        """Calls queued by someone else never get ``forget``: keep the maps bounded."""
        for d in (self.results, self.agents, self.expected):
            while len(d) > 50_000:
                d.pop(next(iter(d)))

    def expect(self, uniqueid: str, record: dict[str, Any]) -> None:
        """The IVR is about to queue this call: its ``Enqueue.record`` describes it."""
        self.expected[uniqueid] = record

    def skill_of(self, queue: str) -> str:
        p = self.queue_prefix
        return queue[len(p):] if p and queue.startswith(p) else queue

    def _live(self, queue: str) -> Any:
        if self.centre is None:
            return None
        return self.centre.queues.get(self.skill_of(queue))

    def _centre_join(self, uid: str, queue: str, now: float) -> None:
        skill = self.skill_of(queue)
        if self.centre is None or skill not in self.centre.queues:
            return
        from queue_engine.records import QueueCall

        rec = self.expected.pop(uid, {})
        try:
            self.centre.join(QueueCall(
                call_id=self.call_id(uid), line=str(rec.get("line") or ""),
                region=str(rec.get("region") or ""), language=str(rec.get("language") or "ru"),
                skill=skill, priority=int(rec.get("priority") or 0),
                identified=bool(rec.get("identified")),
                arrival_time=float(rec.get("arrival_time") or now)))
        except (TypeError, ValueError, KeyError):
            pass  # a malformed record must not stop the feed; the queue state stays usable

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {name: q.snapshot() for name, q in self.queues.items()}
