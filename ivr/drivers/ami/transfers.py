"""Transfers seen on the AMI: an agent hands a queued call to the senior group (SPEC §4).

Asterisk announces a completed transfer with ``BlindTransfer`` / ``AttendedTransfer``
(``main/stasis_bridges.c`` ``blind_transfer_to_ami`` / ``attended_transfer_to_ami``): ``Result``
(``Success``, ``Fail``, ``Invalid``, ``Not Permitted``), the transferer's and the transferee's
channel blocks (``Transferer…`` / ``Transferee…``: Channel … Uniqueid, Linkedid), the bridge
block (``BridgeUniqueid`` …), ``IsExternal`` and, for a blind transfer, the ``Context`` and
``Extension`` the transferee was sent to; an attended transfer names ``OrigTransferer…``,
``SecondTransferer…`` and the ``TransferTarget…`` channel the caller now talks to. app_queue
then ends the agent's part with ``AgentComplete`` ``Reason: transfer``.

The caller's channel keeps its Uniqueid (and its ``HOTLINE_*`` variables): after a blind
transfer to ``[hotline-senior]`` it joins ``hotline-senior`` (``QueueCallerJoin``) and a senior
answers (``AgentConnect``). The bridge keeps the first queue's join and answer as the call's
(what the reports' waits read) and notes the transfer: who, when, to where, the senior and when
he answered. :func:`transfer_events` turns them into rows for ``call_transfers``
(:func:`ivr.records.transfers.apply_event`; the history is read from the call's row).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.drivers.ami.cdr import agent_of

__all__ = ["TRANSFER_EVENTS", "SeenTransfer", "after_transfer", "detail_suffix", "final_result",
           "seen", "transfer_events", "transferee", "write_transfers"]

TRANSFER_EVENTS = frozenset({"BlindTransfer", "AttendedTransfer"})


@dataclass
class SeenTransfer:
    at: datetime
    kind: str  # blind / attended
    by: str  # the transferring agent (from his channel name)
    from_agent: str | None  # the agent app_queue connected (its interface)
    from_queue: str | None
    to: str  # the target: the queue joined next, else the context/extension sent to
    to_agent: str | None = None
    answered_at: datetime | None = None
    external: bool = False


def transferee(m: Any) -> str | None:
    """The Uniqueid of the channel that was transferred (the caller), if it succeeded."""
    if m.get("Result") != "Success":
        return None
    return m.get("TransfereeUniqueid") or None


def seen(call: Any, m: Any, now: datetime, agent: str | None, prefix: str) -> SeenTransfer:
    """Note the transfer of ``call`` announced by ``m`` (BlindTransfer / AttendedTransfer)."""
    def strip(name: str) -> str:
        return name[len(prefix):] if prefix and name.startswith(prefix) else name

    queue = strip(call.queue) if call.queue else None
    if m.event == "BlindTransfer":
        by = m.get("TransfererChannel") or ""
        # where the caller was sent (e.g. senior@hotline-agents); the queue he joins next
        # names the group (after_transfer)
        to = f"{m.get('Extension') or ''}@{m.get('Context') or ''}"
        t = SeenTransfer(now, "blind", agent_of(by) or by, agent, queue, to,
                         external=m.get("IsExternal") == "Yes")
    else:  # attended: the senior already talks to the caller
        by = m.get("OrigTransfererChannel") or ""
        target = m.get("TransferTargetChannel") or m.get("SecondTransfererConnectedLineNum")
        ctx = m.get("SecondTransfererContext") or ""
        to = strip(ctx) if prefix and ctx.startswith(prefix) else (
            m.get("SecondTransfererExten") or ctx or "?")
        t = SeenTransfer(now, "attended", agent_of(by) or by, agent, queue, to,
                         to_agent=agent_of(target or "") or target, answered_at=now,
                         external=m.get("IsExternal") == "Yes")
    call.transfers.append(t)
    return t


def after_transfer(call: Any, event: str, m: Any, now: datetime, prefix: str) -> bool:
    """A queue event of a transferred call: the senior group's join or answer goes to the
    transfer, not over the first queue's (True: handled)."""
    t = call.transfers[-1]
    if event == "QueueCallerJoin":
        q = m.get("Queue") or ""
        t.to = q[len(prefix):] if prefix and q.startswith(prefix) else q
        return True
    if event == "AgentConnect":
        iface = m.get("Interface") or m.get("MemberName") or ""
        t.to_agent, t.answered_at = agent_of(iface) or iface, now
        return True
    return event == "QueueCallerAbandon"  # left the senior queue: the call was answered


def final_result(call: Any, result: str | None, agent: str | None
                 ) -> tuple[str | None, str | None]:
    """A transferred call was answered (by its first agent, the record's agent)."""
    if not call.transfers:
        return result, agent
    return "answered", call.transfers[0].from_agent or agent


def transfer_events(rec: Any) -> list[dict[str, Any]]:
    """``apply_event`` rows for each transfer of a finished call (history: its row)."""
    out: list[dict[str, Any]] = []
    for t in getattr(rec, "transfers", ()) or ():
        out.append({"kind": "transferred", "call_id": rec.call_id, "at": t.at,
                    "by": t.by[:64], "via": "ami", "from_agent": t.from_agent,
                    "from_skill": t.from_queue, "to_skill": t.to[:64]})
        if t.to_agent:
            out.append({"kind": "answered", "call_id": rec.call_id, "to_agent": t.to_agent,
                        "at": t.answered_at or t.at})
    return out


def detail_suffix(rec: Any) -> str:
    """What the record's detail adds for each transfer (as the embedded ACD writes it)."""
    parts = []
    for t in getattr(rec, "transfers", ()) or ():
        s = f"; transferred to {t.to} by {t.by}"
        if t.to_agent and t.answered_at is not None:
            s += f", answered by {t.to_agent} after {(t.answered_at - t.at).total_seconds():.0f} s"
        parts.append(s)
    return "".join(parts)


def write_transfers(factory: Any, rec: Any, writer: Any = None) -> None:
    """The call's transfers into ``call_transfers``, after its final row (the writer's order;
    synchronously without a writer)."""
    events = transfer_events(rec)
    if not events or factory is None:
        return
    from ivr.records.transfers import apply_event

    def write(db: Any) -> None:
        for ev in events:
            apply_event(db, ev)

    if writer is not None:
        writer.call(write)
        return
    with factory.begin() as db:
        write(db)
