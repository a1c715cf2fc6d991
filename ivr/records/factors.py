"""Extra identification factors (SPEC §5): control questions and e-mail confirmation.

Where the one-time SMS code cannot be delivered (no registered mobile), the IVR asks one of the
citizen's control questions (``dialplans/control_questions.yaml``: prompt and number of digits,
since answers are keyed on the phone). Answers are stored only as keyed hashes
(:func:`ivr.store.crypto.blind_index`, a space per question), like SNILS; a wrong answer is a
failed identification attempt (it counts toward the account lock of :mod:`ivr.citizens.registry`).
A citizen with no answered question gets an e-mail confirmation *request* recorded instead —
the mail itself is sent by the back office from this table; the caller confirms and calls again.
Every check and request is audited. Functions flush, never commit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.citizens import registry
from ivr.store import audit
from ivr.store.base import Base
from ivr.store.crypto import blind_index
from ivr.store.timestamps import UtcDateTime, utc


class ControlAnswer(Base):
    __tablename__ = "control_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    question: Mapped[str] = mapped_column(String(32))
    answer_hash: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EmailRequest(Base):
    """A confirmation to send to the citizen's registered e-mail (status requested/sent/
    confirmed/expired); the address itself lives with the account, not here."""

    __tablename__ = "email_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digits: int = Field(ge=2, le=12)
    prompt: str


class ControlFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: dict[str, _Question]
    tries: int = Field(2, ge=1, le=5)


@lru_cache(maxsize=8)
def load_questions(directory: str | Path = "dialplans") -> ControlFile:
    from ivr.dialplan.yamlconf import load_yaml, validate

    return validate(load_yaml(Path(directory) / "control_questions.yaml"), ControlFile)


def _hash(question: str, answer: str) -> str:
    return blind_index(f"control:{question}", "".join(c for c in answer if c.isdigit()))


def set_answer(db: Session, citizen_id: int, question: str, answer: str, now: datetime,
               qs: ControlFile) -> None:
    if question not in qs.questions:
        raise ValueError(f"unknown control question {question!r}")
    digits = "".join(c for c in answer if c.isdigit())
    if len(digits) != qs.questions[question].digits:
        raise ValueError(f"{question}: the answer has {qs.questions[question].digits} digits")
    for old in db.scalars(select(ControlAnswer).where(ControlAnswer.citizen_id == citizen_id,
                                                      ControlAnswer.question == question)):
        db.delete(old)
    db.add(ControlAnswer(citizen_id=citizen_id, question=question,
                         answer_hash=_hash(question, digits), set_at=utc(now)))
    db.flush()


@dataclass(frozen=True)
class Asked:
    question: str
    prompt: str
    digits: int


def pick_question(db: Session, citizen_id: int, call_id: str, qs: ControlFile) -> Asked | None:
    """One of the citizen's answered questions, varied by call (a listener learns one only)."""
    have = sorted(q for q in db.scalars(select(ControlAnswer.question).where(
        ControlAnswer.citizen_id == citizen_id)) if q in qs.questions)
    if not have:
        return None
    q = have[int(hashlib.sha256(call_id.encode()).hexdigest(), 16) % len(have)]
    return Asked(q, qs.questions[q].prompt, qs.questions[q].digits)


def check_answer(db: Session, *, citizen_id: int, question: str, answer: str, now: datetime,
                 call_id: str | None = None,
                 policy: registry.IdentPolicy | None = None) -> str:
    """``ok``, ``wrong`` (a failed identification attempt) or ``locked``."""
    policy = policy or registry.IdentPolicy()
    if registry.is_locked(db, citizen_id, now):
        return "locked"
    row = db.scalars(select(ControlAnswer).where(ControlAnswer.citizen_id == citizen_id,
                                                 ControlAnswer.question == question)).first()
    ok = row is not None and row.answer_hash == _hash(question, answer)
    status = "ok"
    if not ok:
        res = registry.record_failed_attempt(db, kind="control_wrong", now=now, call_id=call_id,
                                             citizen_id=citizen_id, policy=policy)
        status = "locked" if res.status == "locked" else "wrong"
    audit.record(db, at=now, actor=f"ivr:{call_id or '-'}", action="control_question_checked",
                 subject=f"citizen:{citizen_id}", detail={"question": question, "result": status})
    return status


def request_email(db: Session, *, citizen_id: int, now: datetime, call_id: str | None = None,
                  purpose: str = "identification", actor: str = "ivr") -> EmailRequest:
    """Record an e-mail confirmation request (one per call and purpose)."""
    existing = db.scalars(select(EmailRequest).where(
        EmailRequest.call_id == call_id, EmailRequest.purpose == purpose)).first() \
        if call_id else None
    if existing is not None:
        return existing
    req = EmailRequest(citizen_id=citizen_id, call_id=call_id, purpose=purpose,
                       status="requested", requested_at=utc(now))
    db.add(req)
    db.flush()
    audit.record(db, at=now, actor=actor, action="email_confirmation_requested",
                 subject=f"citizen:{citizen_id}", detail={"call": call_id, "purpose": purpose})
    return req
