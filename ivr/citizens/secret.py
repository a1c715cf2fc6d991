"""The server secret: the one key every keyed hash (OTP codes, SNILS/passport/INN lookups) derives from.

It comes from ``HOTLINE_SECRET`` (at least 16 characters) or a file (``HOTLINE_SECRET_FILE``,
default ``var/hotline.secret``) created with mode 0600 on first use. Every process that shares a
database must use the same secret.
"""
from __future__ import annotations

import os
import secrets
import stat
import time
from pathlib import Path


class SecretError(RuntimeError):
    """The server secret is missing, too short or readable by others."""


_SECRETS: dict[str, bytes] = {}


def server_secret() -> bytes:
    """The server secret: ``HOTLINE_SECRET`` (≥ 16 chars) or the 0600 file, made on first use."""
    env = os.environ.get("HOTLINE_SECRET")
    if env:
        if len(env) < 16:
            raise SecretError("HOTLINE_SECRET must be at least 16 characters")
        return env.encode()
    path = Path(os.environ.get("HOTLINE_SECRET_FILE", "var/hotline.secret")).resolve()
    cached = _SECRETS.get(str(path))
    if cached:
        return cached
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    value = path.read_text().strip().encode()
    for _ in range(40):  # another process may have created the file and not yet written it
        if len(value) >= 16:
            break
        time.sleep(0.05)
        value = path.read_text().strip().encode()
    if len(value) < 16:
        raise SecretError(f"{path} holds fewer than 16 characters")
    _SECRETS[str(path)] = value
    return value


def secret_file() -> Path:
    """Where the secret file is: ``HOTLINE_SECRET_FILE`` or ``var/hotline.secret``, absolute."""
    return Path(os.environ.get("HOTLINE_SECRET_FILE", "var/hotline.secret")).resolve()


def require_secret() -> bytes:
    """For long-running services: the secret must already exist — never made on the fly, since
    a new one (another working directory, a lost file) silently makes every stored SNILS,
    passport and INN lookup miss (issue 13 item 12)."""
    if not os.environ.get("HOTLINE_SECRET") and not secret_file().exists():
        raise SecretError(f"no server secret: set HOTLINE_SECRET or create {secret_file()} "
                          "(HOTLINE_SECRET_FILE) — refusing to make a new one at start")
    return server_secret()


def fingerprint(secret: bytes) -> str:
    """A one-way tag of the secret: equal tags, equal secrets; the tag reveals nothing else."""
    import hashlib
    import hmac

    return hmac.new(secret, b"hotline/secret-fingerprint/v1", hashlib.sha256).hexdigest()[:16]


def check_against_database(factory: object, secret: bytes) -> None:
    """Refuse a secret the database was not keyed with. The first start records the secret's
    fingerprint in the audit log; later starts compare (a mismatch made every citizen "not
    found", and re-seeding then duplicated them all)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from ivr.store import audit
    from ivr.store.models import AuditEntry

    mine = fingerprint(secret)
    with factory.begin() as db:  # type: ignore[attr-defined]
        last = db.scalars(select(AuditEntry).where(AuditEntry.action == "secret_fingerprint")
                          .order_by(AuditEntry.id.desc()).limit(1)).first()
        if last is None:
            audit.record(db, at=datetime.now(UTC), actor="serve", action="secret_fingerprint",
                         detail={"fingerprint": mine})
            return
        theirs = (last.detail or {}).get("fingerprint")
        if theirs != mine:
            raise SecretError("the server secret does not match the one this database was keyed "
                              f"with (fingerprint {mine}, database {theirs}): wrong "
                              "HOTLINE_SECRET / HOTLINE_SECRET_FILE or working directory?")
