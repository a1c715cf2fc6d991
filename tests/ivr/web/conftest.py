"""Web app fixtures: a migrated SQLite database, users per role, an in-test live source, the
app under Starlette's TestClient, and the app (or ``hotline demo``) served by uvicorn."""
from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade

PASSWORD = {"sup": "supervisor-pass-1", "aud": "auditor-pass-22", "adm": "admin-pass-333"}
ROLE = {"sup": "supervisor", "aud": "auditor", "adm": "admin"}


def group(skill: str, name: str, **kw: Any) -> dict[str, Any]:
    g = {"skill": skill, "name": name, "waiting": 0, "longest_wait_s": 0.0,
         "agents": {"available": 3, "on_call": 1, "wrap_up": 0}, "ewt_s": 30.0, "answered": 0,
         "abandoned": 0, "short_abandoned": 0, "service_level": None, "asa_s": None,
         "aht_s": None, "abandon_rate": None, "occupancy": 0.25}
    g.update(kw)
    return g


class FakeLive:
    """A LiveSource for tests that need no running ACD: ``change()`` edits the snapshot
    (from any thread) and wakes subscribers, as the board's ``notify()`` does."""

    def __init__(self) -> None:
        self.snap = {"at": "2026-11-23T10:00:00+03:00",
                     "sl_definition": "answered within 20 s / (answered + abandoned - short "
                                      "abandons)",
                     "groups": [group("documents", "Документы и формы"),
                                group("security", "Инцидент безопасности учётной записи")],
                     "lines": [{"line": "federal", "region": "77", "in_ivr": 0, "queued": 0,
                                "self_service_share": None}],
                     "callbacks": {"pending": 0, "completed": 0}}
        self.version = 0
        self.lock = threading.Lock()

    def snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(self.snap)

    def change(self, fn: Any) -> None:
        with self.lock:
            fn(self.snap)
            self.version += 1

    async def subscribe(self):
        seen = -1
        while True:
            if self.version != seen:
                seen = self.version
                yield self.snapshot()
            await asyncio.sleep(0.05)


@pytest.fixture
def web_db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_SECRET", "web-test-secret-0123456789abcdef")
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    monkeypatch.setenv("HOTLINE_LIVE_FILE", str(tmp_path / "live.json"))
    engine = make_engine(url)
    upgrade(engine)
    from ivr.web.users import add_user

    with session_factory(engine).begin() as db:
        for key, role in ROLE.items():
            add_user(db, key, role, datetime.now(UTC), PASSWORD[key])
    engine.dispose()
    return url


@pytest.fixture
def live() -> FakeLive:
    return FakeLive()


def audit_actions(url: str) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from ivr.store.models import AuditEntry

    engine = make_engine(url)
    with session_factory(engine)() as db:
        rows = [(r.actor, r.action) for r in db.scalars(select(AuditEntry)
                                                        .order_by(AuditEntry.seq))]
    engine.dispose()
    return rows


@pytest.fixture
def client(web_db, live) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from ivr.web.app import create_app

    app = create_app(web_db, live)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


def login(c: Any, who: str, password: str | None = None) -> Any:
    page = c.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return c.post("/login", data={"username": who, "password": password or PASSWORD[who],
                                  "csrf": csrf})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """uvicorn in a thread on a free port (stopped by ``close``)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off",
                                                    timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
