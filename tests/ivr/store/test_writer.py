"""The writer thread under a backlog: small transactions, order kept, nothing lost; the
services' requests and the writer's batches take one in-process lock on SQLite."""
from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from ivr.call import requests as io
from ivr.call.writes import QueuedWrites
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.store.models import Call
from ivr.store.writer import RecordWriter

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def factory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_SECRET", "writer-test-secret-0123456789abcdef")
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


class CountingWriter(RecordWriter):
    def __init__(self, *a: Any, **kw: Any) -> None:
        self.sizes: list[int] = []
        super().__init__(*a, **kw)

    def _write(self, items: list[Any]) -> None:
        self.sizes.append(len(items))
        super()._write(items)


def test_a_backlog_is_written_in_small_ordered_transactions(factory):
    writer = CountingWriter(factory, batch=8)
    now = datetime.now(UTC)
    with writer.lock:  # the database is busy while 100 calls end: a backlog gathers
        for i in range(100):
            writer.insert({"call_id": f"c{i}", "outcome": "queued", "started_at": now,
                           "answered_at": now, "ended_at": now})
            writer.final(f"c{i}", outcome="answered", agent_id=f"agent-{i}")
    assert writer.close(30)
    assert max(writer.sizes) <= 8 and sum(writer.sizes) == 200
    with factory() as db:
        rows = {r.call_id: r for r in db.scalars(select(Call))}
    assert len(rows) == 100 and writer.lost == 0
    assert all(rows[f"c{i}"].outcome == "answered" and rows[f"c{i}"].agent_id == f"agent-{i}"
               for i in range(100))  # each final found its row: order kept


class Probe:
    """Services that note whether another thread could take the writer's lock meanwhile."""

    def __init__(self) -> None:
        self.free: dict[str, bool] = {}
        self.lock: Any = None

    def execute(self, call: Any, request: Any, now: datetime) -> Any:
        got: list[bool] = []

        def try_lock() -> None:
            ok = self.lock.acquire(blocking=False)
            got.append(ok)
            if ok:
                self.lock.release()

        t = threading.Thread(target=try_lock)
        t.start()
        t.join()
        self.free[type(request).__name__] = got[0]
        return None


def test_requests_run_under_the_write_lock_and_wait_estimates_do_not(factory):
    writer = RecordWriter(factory)
    probe = Probe()
    probe.lock = writer.lock
    services = QueuedWrites(probe, writer)
    now = datetime.now(UTC)
    services.execute(None, io.DropCode(1), now)
    services.execute(None, io.EstimateWait("general", 0), now)
    assert writer.close(10)
    assert probe.free == {"DropCode": False, "EstimateWait": True}
