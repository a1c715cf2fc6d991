"""Who is asking: signed session cookie or bearer API token; CSRF; failed-login throttling.

Sessions are Starlette's ``SessionMiddleware`` cookies, signed with itsdangerous under a key
derived from the server secret (``ivr.citizens.secret``), so every process sharing the secret
accepts them and nobody without it can forge one. The cookie holds the user name, role and the
session's CSRF token; it expires after ``SESSION_MAX_AGE``. Forms carry the CSRF token in a
hidden field and every POST compares it with the session's (constant time).

Failed logins are throttled per user name and per client address: after ``MAX_FAILURES``
failures within ``WINDOW_S`` further attempts are refused (429) until the window has passed,
even with the right password, so guessing costs time. The counts live in the process (one
``hotline serve`` answers the dashboard); every attempt, refused or not, is in the audit log.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection

SESSION_COOKIE = "hotline_session"
SESSION_MAX_AGE = 8 * 3600  # one shift
MAX_FAILURES = 5
WINDOW_S = 15 * 60.0
STATS_ROLES = frozenset({"supervisor", "admin"})
RECORDS_ROLES = frozenset({"auditor"})
ADMIN_ROLES = frozenset({"admin"})


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    via: str  # "session" or "token"


def session_key(secret: bytes) -> str:
    """The cookie-signing key: a labelled derivation, never the server secret itself."""
    return hmac.new(secret, b"hotline web session v1", hashlib.sha256).hexdigest()


def from_session(conn: HTTPConnection) -> Principal | None:
    s = conn.session
    name, role = s.get("user"), s.get("role")
    if isinstance(name, str) and isinstance(role, str):
        return Principal(name, role, "session")
    return None


def bearer(conn: HTTPConnection) -> str | None:
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token (made on first use, also for the anonymous login form)."""
    tok = conn.session.get("csrf")
    if not isinstance(tok, str):
        tok = secrets.token_urlsafe(24)
        conn.session["csrf"] = tok
    return tok


def csrf_ok(conn: HTTPConnection, submitted: object) -> bool:
    tok = conn.session.get("csrf")
    return (isinstance(tok, str) and isinstance(submitted, str)
            and secrets.compare_digest(tok.encode(), submitted.encode()))


def client_addr(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "-"


class LoginThrottle:
    """Sliding-window failure counts per key (user name, client address)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window_s, self.clock = max_failures, window_s, clock
        self._fails: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        cut = self.clock() - self.window_s
        while q and q[0] < cut:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed (0 = now)."""
        wait = 0.0
        for key in keys:
            q = self._recent(key)
            if len(q) >= self.max_failures:
                wait = max(wait, q[-self.max_failures] + self.window_s - self.clock())
        return max(wait, 0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key).append(now)
        if len(self._fails) > 10_000:  # a spray of names must not grow memory without bound
            for k in [k for k, q in self._fails.items() if not q][:5_000]:
                del self._fails[k]

    def succeeded(self, name_key: str) -> None:
        self._fails.pop(name_key, None)
