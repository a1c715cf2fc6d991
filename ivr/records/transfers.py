"""Transfers of connected calls to a senior or specialised group (SPEC §4, issue 9).

The ``calls`` row stays one per call; each transfer adds a ``call_transfers`` row: who
transferred (an agent's id, or ``web:<user>``), when, through what (``acd`` — the live ACD's
agents, ``web`` — ``POST /api/calls/{id}/transfer``, ``ami`` — Asterisk's ``BlindTransfer`` /
``AttendedTransfer`` events), from which agent and group to which group, the senior agent who
answered and when, and the history the senior was handed: the IVR menu path, the
identification result, the first agent. Nothing personal is in it (no number, no name), so it
needs no encryption. Functions flush, never commit.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.store.base import Base
from ivr.store.timestamps import UtcDateTime

__all__ = ["CallTransfer", "TransferError", "UnknownGroup", "apply_event", "call_history",
           "record_transfer", "transfer_answered", "transfers_of"]

VIAS = ("acd", "web", "ami")


class TransferError(ValueError):
    """A refused transfer: the call is not talking to an agent (now)."""


class UnknownGroup(TransferError):
    """The group to transfer to is not one of the live ACD's."""


class CallTransfer(Base):
    __tablename__ = "call_transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))
    from_agent: Mapped[str | None] = mapped_column(String(64))
    from_skill: Mapped[str | None] = mapped_column(String(32))
    to_skill: Mapped[str] = mapped_column(String(64))
    to_agent: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    history: Mapped[dict | None] = mapped_column(JSON)


def call_history(db: Session, call_id: str) -> dict[str, Any]:
    """What travels with a transferred call, read from its ``calls`` row (the AMI bridge's
    and the web's source; the embedded ACD has it from the IVR's hand-over)."""
    from ivr.store.models import Call

    row = db.scalar(select(Call).where(Call.call_id == call_id))
    if row is None:
        return {}
    return {"menu_path": list(row.menu_path or []), "identification": row.identification,
            "skill": row.skill, "line": row.line, "region": row.region,
            "language": row.language, "first_agent": row.agent_id}


def record_transfer(db: Session, call_id: str, *, at: datetime, by: str, via: str,
                    to_skill: str, from_agent: str | None = None,
                    from_skill: str | None = None,
                    history: dict[str, Any] | None = None) -> CallTransfer:
    """One transfer; ``history`` None: read from the call's row (:func:`call_history`)."""
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}")
    row = CallTransfer(call_id=call_id, at=at, by=by[:64], via=via, from_agent=from_agent,
                       from_skill=from_skill, to_skill=to_skill[:64],
                       history=history if history is not None else call_history(db, call_id))
    db.add(row)
    db.flush()
    return row


def transfer_answered(db: Session, call_id: str, *, to_agent: str, at: datetime) -> bool:
    """The senior agent answered the call's latest open transfer; False: none open."""
    row = db.scalar(select(CallTransfer).where(CallTransfer.call_id == call_id,
                                               CallTransfer.to_agent.is_(None))
                    .order_by(CallTransfer.id.desc()).limit(1))
    if row is None:
        return False
    row.to_agent, row.answered_at = to_agent[:64], at
    db.flush()
    return True


def transfers_of(db: Session, call_id: str) -> list[CallTransfer]:
    return list(db.scalars(select(CallTransfer).where(CallTransfer.call_id == call_id)
                           .order_by(CallTransfer.id)))


def apply_event(db: Session, event: dict[str, Any]) -> None:
    """A driver's transfer event (``kind``: ``transferred`` or ``answered``) written in the
    record writer's order (``RecordWriter.call``), so it follows the call's own row."""
    ev = dict(event)
    kind = ev.pop("kind")
    call_id = ev.pop("call_id")
    if kind == "transferred":
        record_transfer(db, call_id, **ev)
    elif kind == "answered":
        transfer_answered(db, call_id, **ev)
    else:
        raise ValueError(f"unknown transfer event {kind!r}")
