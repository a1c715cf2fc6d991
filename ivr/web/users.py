"""Dashboard accounts: argon2id password hashes, roles, wallboard API tokens.

Roles (issue 12): ``supervisor`` sees the queue figures, ``auditor`` the records and the audit
log, ``admin`` everything a supervisor sees plus the accounts. There is no default password:
:func:`ensure_first_admin` (called by ``hotline serve`` on start) creates ``admin`` with a random
password the first time, and the caller prints it once. API tokens are random 32-byte strings
shown once; only their SHA-256 is stored (a token is high-entropy, so a plain hash suffices and
the lookup stays an indexed equality).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.store.base import Base
from ivr.store.timestamps import UtcDateTime

ROLES = ("supervisor", "auditor", "admin", "agent")  # agent: transfers calls (escalation)
NAME_MAX = 64


class User(Base):
    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    __tablename__ = "web_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class UserError(ValueError):
    """A refused account operation (unknown role, duplicate or unknown name)."""


_HASHER = None


def hasher():
    """One argon2id hasher with the library's current defaults (RFC 9106 low-memory profile)."""
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    return _HASHER


def new_password() -> str:
    """A random password to print once (about 96 bits; URL-safe, no look-alike confusion)."""
    return secrets.token_urlsafe(12)


def add_user(db: Session, name: str, role: str, now: datetime,
             password: str | None = None) -> str:
    """Create the account; returns the password (the one given, or a generated one)."""
    name = name.strip()
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if not name or len(name) > NAME_MAX or any(c.isspace() for c in name):
        raise UserError("a user name is 1-64 characters without spaces")
    if db.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} exists already")
    password = password or new_password()
    if len(password) < 10:
        raise UserError("a password has at least 10 characters")
    db.add(User(name=name, role=role, password_hash=hasher().hash(password), created_at=now,
                disabled=False))
    db.flush()
    return password


def check_password(db: Session, name: str, password: str) -> User | None:
    """The user if the password fits (and the account is enabled), else None.

    An unknown name still costs one hash, so response time does not tell names apart."""
    from argon2.exceptions import InvalidHashError, VerificationError

    user = db.scalar(select(User).where(User.name == name))
    h = hasher()
    if user is None or user.disabled:
        h.hash(password or "-")
        return None
    try:
        h.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if h.check_needs_rehash(user.password_hash):
        user.password_hash = h.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, name: str, now: datetime) -> str:
    """A new API token for ``name`` (shown once; the database keeps its hash)."""
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    token = "hl_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now))
    db.flush()
    return token


def user_for_token(db: Session, token: str, now: datetime) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return None
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    last = row.last_used_at
    if last is None or (now - last).total_seconds() > 60:  # a wallboard polls: no write each time
        row.last_used_at = now
    return user


def ensure_first_admin(db_url: str) -> str | None:
    """If no account exists yet, create ``admin`` with a random password and return it (the
    caller prints it once); otherwise None. The creation is in the audit log."""
    from datetime import UTC

    from ivr.store import audit
    from ivr.store.base import make_engine, session_factory

    engine = make_engine(db_url)
    try:
        with session_factory(engine).begin() as db:
            if db.scalar(select(User.id).limit(1)) is not None:
                return None
            now = datetime.now(UTC)
            password = add_user(db, "admin", "admin", now)
            audit.record(db, at=now, actor="system", action="web_user_created",
                         subject="web_user:admin", detail={"role": "admin", "first_run": True})
            return password
    finally:
        engine.dispose()
