"""Foundation tables: call detail records (with the IVR outcome) and the append-only audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.audit import seal
from ivr.store.base import Base
from ivr.store.crypto import BlindIndex, Encrypted
from ivr.store.timestamps import UtcDateTime


class Call(Base):
    """One row per call: the CDR plus what the IVR decided. ``call_id`` is globally unique
    (a UUID or Asterisk's Uniqueid prefixed by the server), so several bridges can share one DB."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    caller_number: Mapped[str | None] = mapped_column(Encrypted("calls.caller_number"))
    caller_hash: Mapped[str | None] = mapped_column(BlindIndex("phone"), index=True)
    did: Mapped[str | None] = mapped_column(String(32))
    line: Mapped[str | None] = mapped_column(String(32), index=True)
    region: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    menu_path: Mapped[list | None] = mapped_column(JSON)
    identification: Mapped[str] = mapped_column(String(16), default="none")  # none/ok/failed/locked
    skill: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    consent: Mapped[str | None] = mapped_column(String(8))  # recording: given / refused
    outcome: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # when the IVR handed the caller to the queue (NULL before migration 0007 or never queued)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Append-only: who did what to which record. Updates and deletes are refused."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict | None] = mapped_column(JSON)
    # the hash chain (ivr.store.audit): set on insert, checked by `hotline audit verify`
    seq: Mapped[int | None] = mapped_column(Integer, unique=True, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper, _conn, target):
    raise AuditLogIsAppendOnly(f"audit_log row {target.id} cannot be changed or deleted")


@event.listens_for(AuditEntry, "before_insert")
def _chain(_mapper, conn, target):
    sealed = seal(conn, {"at": target.at, "actor": target.actor, "action": target.action,
                         "subject": target.subject, "detail": target.detail})
    target.seq, target.prev_hash, target.row_hash = (sealed["seq"], sealed["prev_hash"],
                                                     sealed["row_hash"])
