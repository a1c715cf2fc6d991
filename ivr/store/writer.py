"""Call records written off the event loop: one writer thread, batched transactions.

Issue 13 item 11: closing 20,000 calls stalled the loop ~57 s at 2.9 ms a write. Here the loop
only puts a tuple on a queue; the thread drains what has gathered (up to ``batch``) into one
transaction. Order is kept, so a queued call's row is inserted before its final outcome
updates it. A batch that fails is retried row by row, so one bad row loses nothing but itself
(and is logged). Every driver that runs on an event loop (SIP endpoint via ``hotline serve``,
AMI bridge) writes through one; :class:`ivr.call.writes.QueuedWrites` routes a session's
``RecordOutcome`` here.

On SQLite one connection writes at a time, and a connection that finds the file locked sleeps
in SQLite's busy handler by growing steps (1, 2, 5, 10 … 100 ms), long after the lock is free:
with the calls' request threads and this one competing, that oversleeping was most of the
p99 of events that touch the database (``bench/serve_demo.py``). So every write transaction of
the process's hot path takes :attr:`RecordWriter.lock` first (``QueuedWrites`` takes it for the
session's requests): waiters queue in the process and wake the moment it is released. Batches
are at most ``batch`` rows, so a backlog never holds the lock for long.
"""
from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

log = structlog.get_logger("ivr.store.writer")
_STOP = object()
BATCH = 32  # rows a transaction at most: ~5–15 ms of the write lock on SQLite
SERIALIZE = True  # False: no in-process write lock (the bench's peer)
SWITCH_INTERVAL = 0.001  # s


def prompt_gil_handoff() -> None:
    """An event loop that shares its process with worker threads (this writer, the calls'
    database pool of ``ivr.drivers.sip.call``) waits for the GIL whenever a worker runs Python,
    up to the interpreter's switch interval: 5 ms by default, a quarter of a media frame, and
    a busy loop makes each worker wait as long. Lowered to 1 ms for the process."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)


class RecordWriter:
    """``insert(row)`` (idempotent per call id) and ``final(call_id, **fields)`` in order."""

    def __init__(self, factory: sessionmaker, *, batch: int | None = None) -> None:
        self.factory, self.batch = factory, batch or BATCH
        bind = factory.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        # reentrant: a request run under it may hand work to code that takes it again
        self.lock: Any = threading.RLock() if sqlite and SERIALIZE else contextlib.nullcontext()
        prompt_gil_handoff()
        self.q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.written = self.updated = self.lost = 0
        self._thread = threading.Thread(target=self._run, name="hotline-writer", daemon=True)
        self._thread.start()

    def insert(self, row: dict[str, Any]) -> None:
        self.q.put(("insert", row))

    def final(self, call_id: str, **fields: Any) -> None:
        self.q.put(("final", call_id, fields))

    def call(self, fn: Callable[[Any], Any]) -> None:
        """Run ``fn(db)`` in the writer's order (e.g. a read that must see earlier writes)."""
        self.q.put(("call", fn))

    def close(self, timeout: float = 30.0) -> bool:
        """Write everything queued, then stop; False if that took longer than ``timeout``."""
        self.q.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def pending(self) -> int:
        return self.q.qsize()

    # ---- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            items = [self.q.get()]
            while len(items) < self.batch:
                try:
                    items.append(self.q.get_nowait())
                except queue.Empty:
                    break
            stop = any(i is _STOP for i in items)
            work = [i for i in items if i is not _STOP]
            if work:
                self._write(work)
            if stop:
                return

    def _write(self, items: list[Any]) -> None:
        try:
            with self.lock, self.factory.begin() as db:
                for item in items:
                    self._apply(db, item)
            return
        except Exception:  # noqa: BLE001 - retry one by one: keep every row that can be kept
            log.warning("writer.batch_failed", rows=len(items))
        for item in items:
            try:
                with self.lock, self.factory.begin() as db:
                    self._apply(db, item)
            except Exception as exc:  # noqa: BLE001
                self.lost += 1
                log.error("call_outcome_lost", call_id=item[1] if item[0] != "call" else None,
                          error=type(exc).__name__)

    def _apply(self, db: Any, item: tuple) -> None:
        from ivr.store.calls import record_call
        from ivr.store.models import Call

        if item[0] == "insert":
            record_call(db, dict(item[1]))
            self.written += 1
        elif item[0] == "final":
            db.execute(update(Call).where(Call.call_id == item[1]).values(**item[2]))
            self.updated += 1
        else:
            item[1](db)
