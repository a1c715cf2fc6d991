"""Citizen registry: who may be identified, their applications, attempts, locks and OTP rows.

Personal numbers (SNILS, passport, INN) are stored only as keyed hashes (HMAC-SHA256 with a key
derived from the server secret, see :mod:`ivr.citizens.otp`): lookup by an exact number works, while a
copy of the database alone reveals none of them (an 11-digit SNILS is too small a space for a
plain hash). Name, date of birth and the registered mobile are encrypted at rest
(:mod:`ivr.store.crypto`) and read back in clear by this code: the mobile is where the SMS goes,
the rest is what an agent sees once the caller is identified.

Functions take an open SQLAlchemy ``Session`` and a ``now`` (aware datetime); they flush but never
commit — the caller owns the transaction (commit after each IVR step so counters and locks
survive a restart). Nothing here logs a personal number.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.citizens.secret import server_secret
from ivr.store.base import Base
from ivr.store.crypto import Encrypted
from ivr.store.models import AuditEntry
from ivr.store.timestamps import UtcDateTime, utc
from ivr.store.timestamps import aware as _aware

#: Application statuses — the one table (issue 11): the registry's stored name (Russian, as the
#: departments' systems write it) → the code the IVR speaks (``ApplicationResult.status``, prompt
#: ``app_status_<code>`` of ``menus.yaml``); the English label is the code with spaces.
STATUS_CODES: dict[str, str] = {"принято": "accepted", "в работе": "in_progress",
                                "завершено": "completed", "отклонено": "rejected"}
STATUSES = tuple(STATUS_CODES)


class Citizen(Base):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    full_name: Mapped[str] = mapped_column(Encrypted("citizens.full_name"))
    birth_date: Mapped[date] = mapped_column(Encrypted("citizens.birth_date", "date"))
    snils_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    passport_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    inn_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    mobile: Mapped[str | None] = mapped_column(Encrypted("citizens.mobile"))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (CheckConstraint(
        "status IN ('принято', 'в работе', 'завершено', 'отклонено')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    service: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    submitted_on: Mapped[date] = mapped_column(Date)
    expected_on: Mapped[date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(Text)


class IdentAttempt(Base):
    """One failed identification step. Rows with a ``citizen_id`` count towards that account's
    lock; the others (unknown number, bad checksum) are kept for the per-session limit and audit.
    """

    __tablename__ = "ident_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class OtpCode(Base):
    """One sent code: only its HMAC is kept (see :mod:`ivr.citizens.otp`)."""

    __tablename__ = "otp_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    code_hmac: Mapped[str] = mapped_column(String(64))
    send_no: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="live")  # live/used/spent/void


@dataclass(frozen=True)
class IdentPolicy:
    """Failed identifications of one account within ``window`` that pause it for ``lock_for``.
    SPEC §6: at most five attempts, then a pause (retries every 10–15 min); a 24 h lock would
    hand anyone who knows a SNILS a free lockout of its owner (issue 13 item 6)."""

    max_failures: int = 5
    window: timedelta = timedelta(hours=1)
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class IdentResult:
    """``status``: ``ok`` / ``failed`` / ``locked``. ``reason`` is internal (never spoken: the
    caller hears the same words for an unknown number and a wrong date of birth)."""

    status: str
    citizen_id: int | None = None
    reason: str = ""
    failures: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class ApplicationView:
    number: str
    service: str
    status: str
    expected_on: date | None
    rejection_reason: str | None

    @property
    def status_en(self) -> str:
        return STATUS_CODES[self.status].replace("_", " ")


def number_hash(kind: str, digits: str, *, secret: bytes | None = None) -> str:
    """Keyed hash of a personal number; ``kind`` (snils/passport/inn) keeps the spaces apart."""
    if secret is None:
        secret = server_secret()
    key = hmac.new(secret, b"hotline/lookup/v1", hashlib.sha256).digest()
    return hmac.new(key, f"{kind}:{digits}".encode(), hashlib.sha256).hexdigest()


def find_citizen(db: Session, *, snils: str | None = None, passport: str | None = None,
                 inn: str | None = None, secret: bytes | None = None) -> Citizen | None:
    """The citizen holding exactly this (already validated) number, or None."""
    for kind, value, column in (("snils", snils, Citizen.snils_hash),
                                ("passport", passport, Citizen.passport_hash),
                                ("inn", inn, Citizen.inn_hash)):
        if value:
            digest = number_hash(kind, value, secret=secret)
            return db.scalars(select(Citizen).where(column == digest)).first()
    raise ValueError("find_citizen needs one of snils, passport, inn")


def is_locked(db: Session, citizen_id: int, now: datetime) -> datetime | None:
    """The lock's end if the account is locked at ``now``, else None."""
    now = utc(now)
    citizen = db.get(Citizen, citizen_id)
    until = _aware(citizen.locked_until) if citizen else None
    return until if until and until > now else None


def lock_account(db: Session, citizen_id: int, now: datetime,
                 policy: IdentPolicy = IdentPolicy(), *, actor: str = "ivr",
                 reason: str = "") -> datetime:
    """Lock for ``policy.lock_for`` from ``now`` (never shortens a longer lock already set);
    a security event, so it goes to the audit log."""
    now = utc(now)
    citizen = db.get(Citizen, citizen_id)
    if citizen is None:
        raise LookupError(f"no citizen {citizen_id}")
    until = now + policy.lock_for
    current = _aware(citizen.locked_until)
    if current is None or current < until:
        citizen.locked_until = until
        db.add(AuditEntry(at=now, actor=actor, action="account_locked",
                          subject=f"citizen:{citizen_id}",
                          detail={"until": until.isoformat(), "reason": reason}))
    db.flush()
    return _aware(citizen.locked_until)  # type: ignore[return-value]


def failures_in_window(db: Session, citizen_id: int, now: datetime,
                       policy: IdentPolicy = IdentPolicy()) -> int:
    now = utc(now)
    since = now - policy.window
    return db.scalar(select(func.count(IdentAttempt.id)).where(
        IdentAttempt.citizen_id == citizen_id, IdentAttempt.at > since,
        IdentAttempt.at <= now)) or 0


def record_failed_attempt(db: Session, *, kind: str, now: datetime, call_id: str | None = None,
                          citizen_id: int | None = None,
                          policy: IdentPolicy = IdentPolicy()) -> IdentResult:
    """Count one failure; the ``max_failures``-th within the window locks the account."""
    now = utc(now)
    db.add(IdentAttempt(citizen_id=citizen_id, call_id=call_id, kind=kind, at=now))
    db.flush()
    if citizen_id is None:
        return IdentResult("failed", None, kind)
    failures = failures_in_window(db, citizen_id, now, policy)
    if failures >= policy.max_failures:
        until = lock_account(db, citizen_id, now, policy, actor=f"ivr:{call_id or '-'}",
                             reason=f"{failures} failed identifications")
        return IdentResult("locked", citizen_id, kind, failures, until)
    return IdentResult("failed", citizen_id, kind, failures)


def identify(db: Session, *, birth_date: date, now: datetime, snils: str | None = None,
             passport: str | None = None, inn: str | None = None, call_id: str | None = None,
             policy: IdentPolicy = IdentPolicy(), secret: bytes | None = None) -> IdentResult:
    """Match a validated SNILS or passport (plus DOB, and INN when asked) against the registry.

    A locked account stays locked whatever is keyed (and says so only to a caller who keyed the
    right date of birth); a wrong DOB/INN counts against the
    account; an unknown number is recorded without an account. ``ok`` is the only status that
    may lead to disclosure — and only after the one-time code (:mod:`ivr.citizens.otp`).
    """
    citizen = find_citizen(db, snils=snils, passport=passport, secret=secret)
    if citizen is None:
        return record_failed_attempt(db, kind="not_found", now=now, call_id=call_id,
                                     policy=policy)
    # The lock is told only to someone who also knows the date of birth (and INN when asked):
    # otherwise "locked" would tell a caller that the SNILS exists (issue 13 item 6).
    wrong = "dob_mismatch" if citizen.birth_date != birth_date else (
        "inn_mismatch" if inn is not None
        and citizen.inn_hash != number_hash("inn", inn, secret=secret) else None)
    if wrong is not None:
        res = record_failed_attempt(db, kind=wrong, now=now, call_id=call_id,
                                    citizen_id=citizen.id, policy=policy)
        return IdentResult("failed", citizen.id, wrong, res.failures, res.locked_until)
    until = is_locked(db, citizen.id, now)
    if until:
        return IdentResult("locked", citizen.id, "locked", locked_until=until)
    return IdentResult("ok", citizen.id)


def application_status(db: Session, *, citizen_id: int, number: str,
                       now: datetime | None = None, actor: str = "ivr") -> ApplicationView | None:
    """The application ``number`` if it belongs to the identified ``citizen_id``, else None —
    a foreign and a non-existent number get the same answer, so nothing leaks. A disclosure is
    an access to personal data: with ``now`` given it is written to the audit log (SPEC §7)."""
    row = db.scalars(select(Application).where(Application.number == number,
                                               Application.citizen_id == citizen_id)).first()
    if row is None:
        return None
    if now is not None:
        db.add(AuditEntry(at=utc(now), actor=actor, action="application_status_read",
                          subject=f"application:{row.id}", detail={"citizen": citizen_id}))
        db.flush()
    return ApplicationView(row.number, row.service, row.status, row.expected_on,
                           row.rejection_reason)


def citizen_mobile(db: Session, citizen_id: int) -> str | None:
    """Registered mobile, for the SMS gateway only (never for a prompt or a log)."""
    citizen = db.get(Citizen, citizen_id)
    return citizen.mobile if citizen else None




# ---- fictitious data for demos and tests ---------------------------------------------------
_MALE = ("Иван", "Пётр", "Алексей", "Сергей", "Дмитрий", "Андрей", "Михаил", "Николай")
_FEMALE = ("Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана")
_PATRONYMICS = (("Иванович", "Ивановна"), ("Петрович", "Петровна"), ("Сергеевич", "Сергеевна"),
                ("Алексеевич", "Алексеевна"), ("Дмитриевич", "Дмитриевна"),
                ("Андреевич", "Андреевна"), ("Михайлович", "Михайловна"),
                ("Николаевич", "Николаевна"))
_SURNAMES = ("Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов")
_SERVICES = ("Замена паспорта гражданина РФ", "Регистрация по месту жительства",
             "Назначение пенсии", "Получение налогового вычета", "Выдача загранпаспорта",
             "Регистрация транспортного средства", "Пособие по уходу за ребёнком")
_REJECTIONS = ("Не приложена фотография установленного образца",
               "Сведения в заявлении не совпадают с данными паспорта",
               "Не оплачена государственная пошлина")


@dataclass(frozen=True)
class FictitiousCitizen:
    """A seeded citizen in clear — fictitious, printed for testers, never stored in clear."""

    full_name: str
    birth_date: date
    snils: str
    passport: str
    inn: str
    mobile: str
    applications: tuple[tuple[str, str], ...]  # (number, status)


def fictitious_citizens(n: int, *, seed: int = 2026) -> list[FictitiousCitizen]:
    """``n`` citizens whose numbers pass the real checksums, the same for the same seed.

    The first is the demo citizen quoted in the README (SNILS 112-233-445 95, born 01.02.1980,
    mobile +7 916 123-45-67). Application numbers are 10 digits (keyed by DTMF).
    """
    import numpy as np

    from ivr.citizens.checksums import inn12_from, snils_check_digits

    rng = np.random.default_rng(seed)
    out: list[FictitiousCitizen] = []
    used: set[str] = {"11223344595"}
    app_numbers: set[str] = set()
    for i in range(n):
        female = bool(rng.integers(2))
        first = str(rng.choice(_FEMALE if female else _MALE))
        surname = str(rng.choice(_SURNAMES)) + ("а" if female else "")
        name = f"{surname} {first} {_PATRONYMICS[int(rng.integers(8))][female]}"
        born = date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 65 * 365)))
        while True:
            body = f"{int(rng.integers(1_001_999, 1_000_000_000)):09d}"
            snils = body + snils_check_digits(body)
            if snils not in used:
                used.add(snils)
                break
        passport = f"{int(rng.integers(1, 100)):02d}{int(rng.integers(0, 100)):02d}" \
                   f"{int(rng.integers(100_000, 1_000_000))}"
        inn = inn12_from(f"{int(rng.integers(1, 100)):02d}{int(rng.integers(0, 10**8)):08d}")
        mobile = f"+7999{int(rng.integers(0, 10**7)):07d}"
        if i == 0:
            name, born, snils, mobile = ("Иванов Иван Иванович", date(1980, 2, 1), "11223344595",
                                         "+79161234567")
        apps = []
        for j in range(1 + i % 3 if i else len(STATUSES)):
            while True:
                number = f"{int(rng.integers(10**9, 10**10))}"
                if number not in app_numbers:
                    app_numbers.add(number)
                    break
            apps.append((number, STATUSES[(i + j) % len(STATUSES)]))
        out.append(FictitiousCitizen(name, born, snils, passport, inn, mobile, tuple(apps)))
    return out


def seed(db: Session, n: int = 20, *, seed: int = 2026, today: date | None = None,
         secret: bytes | None = None) -> list[FictitiousCitizen]:
    """Insert :func:`fictitious_citizens` with applications in every status; idempotent (an
    existing SNILS or application number is skipped). ``today`` anchors expected dates."""
    today = today or date.today()
    people = fictitious_citizens(n, seed=seed)
    for k, person in enumerate(people):
        snils_h = number_hash("snils", person.snils, secret=secret)
        citizen = db.scalars(select(Citizen).where(Citizen.snils_hash == snils_h)).first()
        if citizen is None:
            citizen = Citizen(full_name=person.full_name, birth_date=person.birth_date,
                              snils_hash=snils_h, mobile=person.mobile,
                              passport_hash=number_hash("passport", person.passport, secret=secret),
                              inn_hash=number_hash("inn", person.inn, secret=secret))
            db.add(citizen)
            db.flush()
        for j, (number, status) in enumerate(person.applications):
            if db.scalars(select(Application.id).where(Application.number == number)).first():
                continue
            step = (k * 7 + j * 5) % 40 + 3
            expected = {"принято": today + timedelta(days=step + 10),
                        "в работе": today + timedelta(days=step),
                        "завершено": today - timedelta(days=step), "отклонено": None}[status]
            db.add(Application(
                number=number, citizen_id=citizen.id, status=status,
                service=_SERVICES[(k + j) % len(_SERVICES)],
                submitted_on=today - timedelta(days=step + 20), expected_on=expected,
                rejection_reason=_REJECTIONS[(k + j) % len(_REJECTIONS)]
                if status == "отклонено" else None))
    db.flush()
    return people
