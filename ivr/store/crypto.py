"""Personal data at rest: AES-256-GCM column encryption, keyed-hash lookups, a rotating keyring.

SPEC §7 lists what is personal: name, phone, request content, passport, SNILS, INN (and the
date of birth that goes with a name). Such a column is declared ``Encrypted("table.column")``:
SQLAlchemy encrypts on every bind (ORM and Core alike) and decrypts on every load, so the code
reading ``citizen.mobile`` is unchanged while a copy of the database file holds only
``<key id>$<base64(nonce | ciphertext | tag)>``. The column name is the GCM associated data: a
ciphertext moved to another column (or table) fails to decrypt instead of leaking there.

Equality lookups go through a :class:`BlindIndex` column — an HMAC-SHA256 of the normalised
value under a key that never rotates (``SELECT … WHERE caller_hash = :number`` hashes the
parameter by itself). The keyring comes from ``HOTLINE_KEYRING`` (its JSON text) or from a
0600 file (``HOTLINE_KEYRING_FILE``, default ``var/hotline.keys``) made on first use, like the
server secret of :mod:`ivr.citizens.secret`: ``{"current": "k1", "data": {"k1": b64},
"mac": b64}``. Rotation (:mod:`ivr.records.keys`) adds a data key and makes it current; old keys
stay until no row uses them, so every process keeps reading while rows are re-encrypted. A key
id this process does not know yet makes it re-read the keyring once (another process rotated).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

SEP = "$"


class KeyringError(RuntimeError):
    """The keyring is missing, unreadable by design (mode), malformed, or lacks a key."""


@dataclass
class Keyring:
    current: str
    data: dict[str, bytes]
    mac: bytes
    source: str = "env"
    _aead: dict[str, Any] = field(default_factory=dict, repr=False)

    def aead(self, key_id: str) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if key_id not in self._aead:
            self._aead[key_id] = AESGCM(self.data[key_id])
        return self._aead[key_id]

    def to_json(self) -> str:
        return json.dumps({"current": self.current, "mac": _b64(self.mac),
                           "data": {k: _b64(v) for k, v in self.data.items()}}, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str) -> Keyring:
        try:
            raw = json.loads(text)
            ring = cls(raw["current"], {k: _unb64(v) for k, v in raw["data"].items()},
                       _unb64(raw["mac"]), source)
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"{source}: not a hotline keyring ({exc})") from None
        if ring.current not in ring.data or any(len(k) != 32 for k in ring.data.values()) \
                or len(ring.mac) < 32 or any(SEP in k for k in ring.data):
            raise KeyringError(f"{source}: the current key must exist; keys are 32 bytes")
        return ring


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode(), validate=True)


def new_keyring() -> Keyring:
    return Keyring("k1", {"k1": secrets.token_bytes(32)}, secrets.token_bytes(32), "new")


def keyring_path() -> Path:
    return Path(os.environ.get("HOTLINE_KEYRING_FILE", "var/hotline.keys")).resolve()


_LOCK = threading.Lock()
_CACHE: dict[str, Keyring] = {}


def _read_file(path: Path) -> Keyring:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyringError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(new_keyring().to_json())
    for _ in range(40):  # another process may have created it and not yet written it
        text = path.read_text()
        if text.strip():
            return Keyring.from_json(text, str(path))
        time.sleep(0.05)
    raise KeyringError(f"{path} is empty")


def keyring(*, reload: bool = False) -> Keyring:
    """The process's keyring: ``HOTLINE_KEYRING`` or the 0600 file (made on first use)."""
    env = os.environ.get("HOTLINE_KEYRING")
    source = "env:HOTLINE_KEYRING" if env else str(keyring_path())
    with _LOCK:
        if not reload and source in _CACHE:
            return _CACHE[source]
        if env:
            ring = Keyring.from_json(env, source)
        else:
            path = keyring_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            ring = _read_file(path)
        _CACHE[source] = ring
        return ring


def save_keyring(ring: Keyring) -> Path:
    """Write the file keyring atomically (0600); refused when the keyring comes from the env."""
    if os.environ.get("HOTLINE_KEYRING"):
        raise KeyringError("the keyring comes from HOTLINE_KEYRING: update that variable instead")
    path = keyring_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(ring.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with _LOCK:
        _CACHE.pop(str(path), None)
    return path


# ---- values -----------------------------------------------------------------------------------
def encrypt(plain: str, context: str, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    nonce = secrets.token_bytes(12)
    ct = ring.aead(ring.current).encrypt(nonce, plain.encode(), context.encode())
    return f"{ring.current}{SEP}{_b64(nonce + ct)}"


def decrypt(token: str, context: str) -> str:
    key_id, sep, body = token.partition(SEP)
    if not sep:
        raise KeyringError(f"{context}: value is not encrypted (run `hotline db upgrade`)")
    ring = keyring()
    if key_id not in ring.data:
        ring = keyring(reload=True)  # another process rotated: read the new keyring
        if key_id not in ring.data:
            raise KeyringError(f"{context}: key {key_id!r} is not in the keyring {ring.source}")
    raw = _unb64(body)
    return ring.aead(key_id).decrypt(raw[:12], raw[12:], context.encode()).decode()


def key_id_of(token: str | None) -> str | None:
    return token.partition(SEP)[0] if token else None


def normalise_phone(number: str) -> str:
    """Digits of a Russian number in one notation (7XXXXXXXXXX): +7/8/bare 10 digits alike."""
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) == 11 and digits[0] == "8":
        return "7" + digits[1:]
    if len(digits) == 10:
        return "7" + digits
    return digits


def blind_index(kind: str, value: str, ring: Keyring | None = None) -> str:
    """Keyed hash for equality lookups; ``kind`` keeps the spaces of different fields apart."""
    ring = ring or keyring()
    if kind == "phone":
        value = normalise_phone(value)
    key = hmac.new(ring.mac, b"hotline/index/v1", hashlib.sha256).digest()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def mac_key(purpose: str) -> bytes:
    """A non-rotating key for ``purpose`` (e.g. the audit hash chain), from the keyring."""
    return hmac.new(keyring().mac, f"hotline/{purpose}/v1".encode(), hashlib.sha256).digest()


# ---- column types -----------------------------------------------------------------------------
class Encrypted(TypeDecorator):
    """Text column holding AES-GCM ciphertext; ``kind`` ``str`` or ``date`` (ISO) in Python."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):
        """Ciphertexts are randomised: ``==``, ``LIKE`` or ordering on them would silently
        match nothing, so only ``IS [NOT] NULL`` is allowed (look up through a BlindIndex)."""

        def operate(self, op: Any, *other: Any, **kw: Any) -> Any:
            if op not in (operators.is_, operators.is_not) and not (
                    op in (operators.eq, operators.ne) and other and other[0] is None):
                raise TypeError(f"an encrypted column cannot be compared ({op.__name__}); "
                                "look it up through its keyed-hash column")
            return super().operate(op, *other, **kw)

    def __init__(self, context: str, kind: str = "str") -> None:
        super().__init__()
        if kind not in ("str", "date"):
            raise ValueError(f"Encrypted kind must be str or date, not {kind!r}")
        self.context, self.kind = context, kind

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if self.kind == "date":
            if not isinstance(value, date):
                raise TypeError(f"{self.context}: a date is required")
            value = value.isoformat()
        return encrypt(str(value), self.context)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        plain = decrypt(value, self.context)
        return date.fromisoformat(plain) if self.kind == "date" else plain


class BlindIndex(TypeDecorator):
    """64-hex keyed hash column: binding a clear value (insert or ``==``) hashes it."""

    impl = String(64)
    cache_ok = True

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        value = str(value)
        if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            return value  # already a hash (copied from another row)
        return blind_index(self.kind, value)
