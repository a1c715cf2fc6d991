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
