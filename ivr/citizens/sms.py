"""Sending SMS: the :class:`SmsGateway` interface and the embedded outbox gateway.

A production deployment plugs in a gateway that talks to an SMS provider (the rendered text,
code included, is the SMS itself). The embedded default, :class:`OutboxGateway`, delivers
nothing: it writes the message to the ``sms_outbox`` table, where ``hotline sms outbox`` shows it
to testers, and logs one masked line.

**Where the clear code lives — the one deliberate exception.** OTPs are kept only as keyed
hashes (:mod:`ivr.citizens.otp`). A tester calling through a softphone still needs to read the code
somewhere, so the outbox row keeps the text with the code *masked* (``******``) and, only when
the embedded gateway runs in dev mode (``HOTLINE_SMS_DEV_CODES``, on by default because this
gateway exists only for development), the code in a column named ``dev_code`` with
``dev_code_expires_at`` = the code's own expiry. The column is wiped as soon as the code is
used, replaced or voided by a hang-up, and on every outbox write and read once expired; it is
never shown after expiry. With ``HOTLINE_SMS_DEV_CODES=0`` no clear code is stored anywhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.citizens.checksums import mask_tail
from ivr.store.base import Base
from ivr.store.timestamps import UtcDateTime, aware, utc

log = structlog.get_logger("ivr.citizens.sms")
MASK = "******"


class SmsOutbox(Base):
    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    to_masked: Mapped[str] = mapped_column(String(32))
    text_masked: Mapped[str] = mapped_column(Text)
    dev_code: Mapped[str | None] = mapped_column(String(12))
    dev_code_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class SmsMessage:
    """``text`` is a template holding ``{code}`` where ``secret_part`` goes (may be absent)."""

    to: str
    text: str
    secret_part: str | None = None
    call_id: str | None = None
    expires_at: datetime | None = None

    def render(self) -> str:
        """The SMS as the recipient reads it — only ever handed to a real provider."""
        return self.text.replace("{code}", self.secret_part or "")

    def masked(self) -> str:
        return self.text.replace("{code}", MASK)


class SmsGateway(Protocol):
    def send(self, db: Session, message: SmsMessage, now: datetime) -> str:
        """Send (or queue) the message; return an id. ``db`` is the caller's transaction."""
        ...


def _dev_codes_enabled() -> bool:
    return os.environ.get("HOTLINE_SMS_DEV_CODES", "1").strip().lower() not in ("0", "no",
                                                                                  "false", "off")



def dev_codes_requested() -> bool:
    """Only an explicit ``HOTLINE_SMS_DEV_CODES=1`` (or ``--dev``): what services use."""
    return os.environ.get("HOTLINE_SMS_DEV_CODES", "").strip().lower() in ("1", "yes", "true",
                                                                           "on")


def gateway_from_env() -> SmsGateway:
    """The gateway a service runs with: ``HOTLINE_SMS_GATEWAY=package.module:Class`` plugs in a
    provider (constructed without arguments, configured from its own environment); otherwise
    the outbox, which keeps a clear code only when dev codes were asked for explicitly — a
    service never stores live codes by default (issue 13 item 13)."""
    spec = os.environ.get("HOTLINE_SMS_GATEWAY", "").strip()
    if not spec:
        return OutboxGateway(reveal_codes=dev_codes_requested())
    import importlib

    module, _, name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name or "Gateway")
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"HOTLINE_SMS_GATEWAY={spec!r}: {type(exc).__name__}") from None
    gateway = cls()
    if not callable(getattr(gateway, "send", None)):
        raise ValueError(f"HOTLINE_SMS_GATEWAY={spec!r} has no send(db, message, now)")  # noqa: TRY004 - a config error
    return gateway


class OutboxGateway:
    """Embedded development gateway: an outbox table instead of a provider (see module doc)."""

    def __init__(self, reveal_codes: bool | None = None) -> None:
        self.reveal_codes = _dev_codes_enabled() if reveal_codes is None else reveal_codes

    def send(self, db: Session, message: SmsMessage, now: datetime) -> str:
        now = utc(now)
        purge_expired(db, now)
        keep = self.reveal_codes and message.secret_part is not None
        row = SmsOutbox(created_at=now, call_id=message.call_id, to_masked=mask_tail(message.to),
                        text_masked=message.masked(),
                        dev_code=message.secret_part if keep else None,
                        dev_code_expires_at=(utc(message.expires_at)
                                             if keep and message.expires_at else None))
        db.add(row)
        db.flush()
        log.info("sms_queued", call_id=message.call_id, to=row.to_masked, text=row.text_masked,
                 outbox_id=row.id)
        return f"outbox:{row.id}"


def purge_expired(db: Session, now: datetime) -> int:
    """Wipe dev codes past their expiry (those with no expiry are wiped at once)."""
    now = utc(now)
    result = db.execute(update(SmsOutbox).where(
        SmsOutbox.dev_code.is_not(None),
        (SmsOutbox.dev_code_expires_at.is_(None)) | (SmsOutbox.dev_code_expires_at <= now))
        .values(dev_code=None, dev_code_expires_at=None))
    return result.rowcount or 0


def forget_codes(db: Session, call_id: str) -> int:
    """Wipe the call's dev codes: the code was used, replaced or voided."""
    result = db.execute(update(SmsOutbox).where(SmsOutbox.call_id == call_id,
                                                SmsOutbox.dev_code.is_not(None))
                        .values(dev_code=None, dev_code_expires_at=None))
    return result.rowcount or 0


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    created_at: datetime
    call_id: str | None
    to: str
    text: str
    dev_code: str | None


def list_outbox(db: Session, now: datetime, *, limit: int = 20,
                call_id: str | None = None) -> list[OutboxEntry]:
    """Newest first; a dev code appears only while still valid."""
    purge_expired(db, now)
    query = select(SmsOutbox).order_by(SmsOutbox.id.desc()).limit(limit)
    if call_id:
        query = query.where(SmsOutbox.call_id == call_id)
    return [OutboxEntry(r.id, aware(r.created_at), r.call_id, r.to_masked, r.text_masked, r.dev_code)
            for r in db.scalars(query)]
