"""Escalation in embedded mode: an agent's connected call goes to a senior group (SPEC §4).

:class:`ivr.service.acd.AcdService` keeps one :class:`~ivr.service.acd.Ticket` per call from
the IVR's hand-over to the last agent's release. A transfer — the live ACD's agents escalating
the scenario's share (``queue_engine.acd.Transfer``) or a human through
``POST /api/calls/{id}/transfer`` (:meth:`AcdService.transfer`) — re-queues the caller at the
group with a priority; the ticket, its first answer (``answered_at``, ``agent_id``: what the
reports' waits read) and the IVR's history travel with it. Each transfer and the senior's
answer go to ``on_transfer`` as events for :func:`ivr.records.transfers.apply_event` (the
service runs them in the record writer's order).
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ivr.records.transfers import TransferError, UnknownGroup
from queue_engine.records import QueueCall

__all__ = ["TransferError", "UnknownGroup", "history_of", "senior_answered", "transfer", "transfer_detail",
           "transferred"]

DEFAULT_PRIORITY = 5  # ahead of ordinary callers (1), behind security incidents (10)




def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def history_of(record: dict[str, Any]) -> dict[str, Any]:
    """What travels with the call, from the IVR's hand-over record (``Enqueue.record``)."""
    return {"menu_path": list(record.get("history") or []),
            "identification": record.get("identification") or
            ("ok" if record.get("identified") else "none"),
            "skill": record.get("skill"), "line": record.get("line"),
            "region": record.get("region"), "language": record.get("language")}


def transfer(svc: Any, call_id: str, to: str, *, by: str, via: str = "web",
             priority: int | None = None) -> Any:
    """The agent on ``call_id`` hands it to group ``to``; returns the ticket (queued there)."""
    t = svc.tickets.get(call_id)
    if to not in svc.acd.g_of:
        raise UnknownGroup(f"unknown group {to!r}; groups: {', '.join(svc.acd.skills)}")
    if t is None or t.done or t.agent is None or call_id not in svc.acd.talking:
        raise TransferError(f"call {call_id} is not talking to an agent")
    now = svc.clock.ts()
    prio = DEFAULT_PRIORITY if priority is None else int(priority)
    first = t.agent
    _note(svc, t, first, t.skill, to, now, by=by, via=via)
    actions = svc.acd.transfer(QueueCall(
        call_id=call_id, line=t.line, region=t.region,
        language=str(t.history.get("language") or "ru"), skill=to, priority=prio,
        identified=t.history.get("identification") == "ok", arrival_time=now), now)
    svc._apply(actions or [])
    svc._wake.set()
    svc.on_change()
    return t


def transferred(svc: Any, t: Any, action: Any) -> None:
    """The live ACD's agent escalated the call (``queue_engine.acd.Transfer``)."""
    _note(svc, t, action.agent, action.from_skill, action.to_skill, action.at,
          by=action.agent, via="acd")


def _note(svc: Any, t: Any, agent: str, from_skill: str, to: str, at: float, *, by: str,
          via: str) -> None:
    t.transfers.append({"to": to, "by": by, "from_agent": agent, "at": at, "agent": None,
                        "answered_at": None})
    t.senior_queued = at
    svc.on_transfer({"kind": "transferred", "call_id": t.call_id, "at": _utc(at), "by": by,
                     "via": via, "from_agent": agent, "from_skill": from_skill,
                     "to_skill": to, "history": {**t.history, "first_agent": t.first_agent,
                                                 "answered_at": _iso(t.answered_at)}})


def senior_answered(svc: Any, t: Any, connect: Any) -> None:
    """A senior agent picked up the transferred call (the first answer stays the record's)."""
    last = t.transfers[-1]
    last["agent"], last["answered_at"] = connect.agent, connect.at
    t.agent, t.talk_s = connect.agent, connect.talk
    svc.on_transfer({"kind": "answered", "call_id": t.call_id, "to_agent": connect.agent,
                     "at": _utc(connect.at)})


def transfer_detail(t: Any) -> str:
    """The record's detail after the first answer: each transfer, and who answered it."""
    parts = []
    for x in t.transfers:
        s = f"transferred to {x['to']} by {x['by']}"
        if x["agent"] is not None:
            s += f", answered by {x['agent']} after {x['answered_at'] - x['at']:.0f} s"
        parts.append(s)
    return "; ".join(parts)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else _utc(ts).isoformat()
