"""Callback requests ("leave a request"): the caller hangs up, an agent of the skill calls back.

Two kinds (SPEC §2, §3): after hours the request is due at the line's first working hour; in
hours, when the expected wait is over the threshold, it is due at once and keeps the caller's
place — ``arrival_at`` is when the caller first reached the queue, so the ACD orders the callback
among live callers as if they had stayed on the line. Redials follow SPEC §6 (the dialler reads
``attempts`` / ``next_attempt_at``). One request per call: asking twice returns the first.
Functions flush, never commit — the caller owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.store.base import Base
from ivr.store.crypto import BlindIndex, Encrypted, blind_index
from ivr.store.timestamps import UtcDateTime, aware, utc

# SPEC §6: first attempt at once, then after 1–2 min, 5 min, then every 10–15 min; at most 5.
REDIAL_GAPS = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=15))
MAX_ATTEMPTS = 5


class Callback(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    number: Mapped[str | None] = mapped_column(Encrypted("callbacks.number"))
    number_hash: Mapped[str | None] = mapped_column(BlindIndex("phone"), index=True)
    skill: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8), default="ru")
    line: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    arrival_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # confirming (the caller is confirming the number) / pending / dialling / done / failed /
    # cancelled (a repeat caller cancelled it)


@dataclass(frozen=True)
class CallbackTicket:
    id: int
    due_at: datetime
    position: int


def position(db: Session, cb: Callback) -> int:
    """1-based place among pending callbacks of the skill: higher priority first, then due
    time, then arrival — the order the dialler serves them."""
    ahead = db.scalar(select(func.count(Callback.id)).where(
        Callback.skill == cb.skill, Callback.status == "pending", Callback.id != cb.id,
        (Callback.priority > cb.priority)
        | ((Callback.priority == cb.priority) & (Callback.due_at < cb.due_at))
        | ((Callback.priority == cb.priority) & (Callback.due_at == cb.due_at)
           & (Callback.arrival_at <= cb.arrival_at))))
    return int(ahead or 0) + 1


def request_callback(db: Session, *, call_id: str, number: str | None, skill: str,
                     priority: int, now: datetime, due: datetime | None = None,
                     arrival: datetime | None = None, language: str = "ru",
                     line: str | None = None, region: str | None = None,
                     status: str = "pending") -> CallbackTicket:
    """Store the request (idempotent per ``call_id``); ``due`` None = as soon as possible;
    ``status`` "confirming": not dialled until :func:`confirm` (the caller checks the number)."""
    existing = db.scalars(select(Callback).where(Callback.call_id == call_id)).first()
    if existing is not None:
        return CallbackTicket(existing.id, aware(existing.due_at), position(db, existing))
    now = utc(now)
    due_at = utc(due) if due else now
    cb = Callback(call_id=call_id, number=number, skill=skill, priority=priority,
                  number_hash=blind_index("phone", number) if number else None,
                  language=language, line=line, region=region, requested_at=now,
                  arrival_at=utc(arrival) if arrival else now, due_at=due_at,
                  next_attempt_at=due_at, attempts=0, status=status)
    db.add(cb)
    db.flush()
    return CallbackTicket(cb.id, due_at, position(db, cb))


LIVE = ("pending", "dialling")


def pending_for(db: Session, number: str | None) -> Callback | None:
    """The request still in line for this number (by its keyed hash), if any."""
    if not number:
        return None
    return db.scalars(select(Callback).where(
        Callback.number_hash == blind_index("phone", number), Callback.status.in_(LIVE))
        .order_by(Callback.id)).first()


def confirm(db: Session, call_id: str, number: str | None = None) -> Callback | None:
    """The caller confirmed the number (or gave ``number``): the request may be dialled."""
    cb = db.scalars(select(Callback).where(Callback.call_id == call_id)).first()
    if cb is None:
        return None
    if number:
        cb.number, cb.number_hash = number, blind_index("phone", number)
    if cb.status == "confirming":
        cb.status = "pending"
    db.flush()
    return cb


def cancel_for(db: Session, number: str | None) -> int:
    """A repeat caller cancels what is still pending for their number; how many."""
    if not number:
        return 0
    rows = list(db.scalars(select(Callback).where(
        Callback.number_hash == blind_index("phone", number), Callback.status == "pending")))
    for cb in rows:
        cb.status = "cancelled"
    db.flush()
    return len(rows)


def next_attempt(attempts: int, after: datetime) -> datetime | None:
    """When to redial after ``attempts`` failed dials (SPEC §6); None = give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return after + REDIAL_GAPS[min(max(attempts - 1, 0), len(REDIAL_GAPS) - 1)]


def due_callbacks(db: Session, now: datetime, skill: str | None = None) -> list[Callback]:
    """Pending callbacks whose next attempt is due, in serving order."""
    q = select(Callback).where(Callback.status == "pending",
                               Callback.next_attempt_at <= utc(now))
    if skill:
        q = q.where(Callback.skill == skill)
    return list(db.scalars(q.order_by(Callback.priority.desc(), Callback.due_at,
                                      Callback.arrival_at)))
