"""Written requests opened from a call (SPEC §8): deadline classes in working time.

``dialplans/tickets.yaml`` gives each kind its class — calendar hours (24/48/72 h), working
hours (security: 12) or working days (other agencies: 5; complaints escalate after 15) — and
the back office's working time. Working time skips the dialplan's holidays (``holidays.yaml``)
and the pre-holiday short days of the overrides, so a ticket opened on the evening before the
New Year break is due in mid-January, not on the 2nd. A repeat caller quotes the number: the
IVR reads the status and may reopen it (:func:`find_for_caller`, :func:`reopen`). The request
content (``summary``) is personal data and is encrypted at rest. Functions flush, never commit.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.dialplan.schedule import Schedule
from ivr.store import audit
from ivr.store.base import Base
from ivr.store.crypto import BlindIndex, Encrypted, blind_index
from ivr.store.timestamps import UtcDateTime, aware, utc

STATUSES = ("open", "in_progress", "resolved", "reopened", "escalated")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    citizen_id: Mapped[int | None] = mapped_column(Integer, index=True)
    caller_hash: Mapped[str | None] = mapped_column(BlindIndex("phone"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Encrypted("tickets.summary"))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reopened: Mapped[int] = mapped_column(Integer, default=0)


# ---- configuration ----------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KindSpec(_Strict):
    name: str = ""
    hours: int | None = Field(None, gt=0)
    working_hours: int | None = Field(None, gt=0)
    working_days: int | None = Field(None, gt=0)
    escalate_after_working_days: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_class(self) -> KindSpec:
        given = [k for k in ("hours", "working_hours", "working_days") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of hours, working_hours, working_days")
        return self


class WorkingTime(_Strict):
    hours: dict[str, str]
    overrides: dict[date, str] = Field(default_factory=dict)


class TicketsFile(_Strict):
    working_time: WorkingTime
    number_digits: int = Field(8, ge=6, le=16)
    kinds: dict[str, KindSpec]
    by_skill: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_kinds(self) -> TicketsFile:
        unknown = sorted(set(self.by_skill.values()) - set(self.kinds))
        if unknown:
            raise ValueError(f"by_skill names unknown kinds: {', '.join(unknown)}")
        return self


@dataclass(frozen=True)
class TicketRules:
    kinds: dict[str, KindSpec]
    schedule: Schedule
    holidays: frozenset[date]
    tz: ZoneInfo
    number_digits: int
    by_skill: dict[str, str]

    def kind_for_skill(self, skill: str | None) -> str:
        return self.by_skill.get(skill or "", "technical" if "technical" in self.kinds
                                 else next(iter(self.kinds)))


@lru_cache(maxsize=8)
def load_rules(directory: str | Path = "dialplans") -> TicketRules:
    """``tickets.yaml`` with the dialplan's holidays and time zone (errors name file:line)."""
    from ivr.dialplan.model import ScheduleSpec, _schedule, load_dialplan
    from ivr.dialplan.yamlconf import ConfigError, load_yaml, validate

    dp = load_dialplan(directory)
    doc = load_yaml(Path(directory) / "tickets.yaml")
    spec = validate(doc, TicketsFile)
    problems: list[Any] = []
    sched = _schedule("tickets", ScheduleSpec(hours=spec.working_time.hours,
                                              overrides=spec.working_time.overrides),
                      doc, problems, ("working_time",))
    if problems or sched is None:
        raise ConfigError(problems)
    return TicketRules(dict(spec.kinds), sched, frozenset(dp.holidays), dp.tz,
                       spec.number_digits, dict(spec.by_skill))


# ---- working-time arithmetic ------------------------------------------------------------------
def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def add_working_hours(start: datetime, hours: float, rules: TicketRules) -> datetime:
    """The moment ``hours`` of working time after ``start`` (time outside working hours,
    weekends and holidays does not count)."""
    local = start.astimezone(rules.tz)
    left = timedelta(hours=hours)  # exact to the microsecond: no float drift across days
    day = local.date()
    for _ in range(800):
        base = _day_start(day, rules.tz)
        for s, e in rules.schedule.intervals_on(day, rules.holidays):
            s_at, e_at = base + timedelta(minutes=s), base + timedelta(minutes=e)
            begin = max(s_at, local)
            if begin >= e_at:
                continue
            if e_at - begin >= left:
                return (begin + left).astimezone(start.tzinfo)
            left -= e_at - begin
        day += timedelta(days=1)
    raise ValueError("the working-time calendar never opens")


def add_working_days(start: datetime, days: int, rules: TicketRules) -> datetime:
    """The end of the ``days``-th working day after the day of ``start``."""
    day, found = start.astimezone(rules.tz).date(), 0
    for _ in range(800):
        day += timedelta(days=1)
        intervals = rules.schedule.intervals_on(day, rules.holidays)
        if intervals:
            found += 1
            if found == days:
                end = _day_start(day, rules.tz) + timedelta(minutes=intervals[-1][1])
                return end.astimezone(start.tzinfo)
    raise ValueError("the working-time calendar never opens")


def deadline(kind: str, opened: datetime, rules: TicketRules) -> tuple[datetime, datetime | None]:
    """(due, escalate-at) for a ticket of ``kind`` opened at ``opened``."""
    spec = rules.kinds[kind]
    if spec.hours:
        due = opened + timedelta(hours=spec.hours)
    elif spec.working_hours:
        due = add_working_hours(opened, spec.working_hours, rules)
    else:
        due = add_working_days(opened, spec.working_days or 0, rules)
    esc = add_working_days(opened, spec.escalate_after_working_days, rules) \
        if spec.escalate_after_working_days else None
    return due, esc


# ---- tickets ----------------------------------------------------------------------------------
def _new_number(db: Session, digits: int) -> str:
    while True:
        number = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
        if db.scalar(select(Ticket.id).where(Ticket.number == number)) is None:
            return number


def open_ticket(db: Session, *, kind: str, now: datetime, rules: TicketRules,
                call_id: str | None = None, citizen_id: int | None = None,
                caller: str | None = None, summary: str | None = None,
                actor: str = "ivr") -> Ticket:
    if kind not in rules.kinds:
        raise ValueError(f"unknown ticket kind {kind!r} (tickets.yaml: {', '.join(rules.kinds)})")
    now = utc(now)
    due, esc = deadline(kind, now, rules)
    t = Ticket(number=_new_number(db, rules.number_digits), call_id=call_id,
               citizen_id=citizen_id, caller_hash=blind_index("phone", caller) if caller else None,
               kind=kind, summary=summary,
               status="open", opened_at=now, due_at=utc(due),
               escalate_at=utc(esc) if esc else None, updated_at=now, reopened=0)
    db.add(t)
    db.flush()
    audit.record(db, at=now, actor=actor, action="ticket_opened", subject=f"ticket:{t.id}",
                 detail={"kind": kind, "call": call_id, "citizen": citizen_id})
    return t


def find_for_caller(db: Session, number: str, *, citizen_id: int | None,
                    caller: str | None) -> Ticket | None:
    """The ticket ``number`` if it is this caller's (same citizen, or — opened without
    identification — the same phone number); a stranger's and a missing one look the same."""
    t = db.scalars(select(Ticket).where(Ticket.number == number)).first()
    if t is None:
        return None
    if t.citizen_id is not None:
        return t if citizen_id == t.citizen_id else None
    if caller and t.caller_hash == blind_index("phone", caller):
        return t
    return None


def status_read(db: Session, t: Ticket, *, now: datetime, actor: str) -> None:
    audit.record(db, at=now, actor=actor, action="ticket_status_read", subject=f"ticket:{t.id}")


def reopen(db: Session, t: Ticket, *, now: datetime, rules: TicketRules,
           actor: str = "ivr") -> Ticket:
    """Reopen a resolved (or any) ticket: a fresh deadline of its class from now."""
    now = utc(now)
    due, esc = deadline(t.kind, now, rules)
    t.status, t.reopened, t.updated_at = "reopened", t.reopened + 1, now
    t.due_at = utc(due)
    t.escalate_at = utc(esc) if esc else t.escalate_at
    db.flush()
    audit.record(db, at=now, actor=actor, action="ticket_reopened", subject=f"ticket:{t.id}")
    return t


def escalate_due(db: Session, now: datetime, *, actor: str = "tickets") -> int:
    """Complaints past their escalation moment, unresolved, go to seniors (status escalated)."""
    now = utc(now)
    rows = db.scalars(select(Ticket).where(Ticket.escalate_at.is_not(None),
                                           Ticket.escalate_at <= now,
                                           Ticket.status.in_(("open", "in_progress",
                                                              "reopened")))).all()
    for t in rows:
        t.status, t.updated_at = "escalated", now
        audit.record(db, at=now, actor=actor, action="ticket_escalated",
                     subject=f"ticket:{t.id}")
    db.flush()
    return len(rows)


def due_local(t: Ticket, rules: TicketRules) -> datetime:
    return aware(t.due_at).astimezone(rules.tz)  # type: ignore[union-attr]
