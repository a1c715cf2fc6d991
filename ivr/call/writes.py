"""The IVR's services with each call's outcome row handed to the writer thread.

:class:`QueuedWrites` wraps :class:`ivr.call.services.DbServices` (or any ``Services``):
``RecordOutcome`` goes to an :class:`ivr.store.writer.RecordWriter` (off the event loop,
batched) and returns at once; identification, codes and the other requests still answer
directly (drivers call this from worker threads), each under the writer's :attr:`lock` so that
on SQLite they queue in the process instead of in SQLite's oversleeping busy handler.
``on_outcome(row)`` sees every row first (``hotline serve``'s live board counts IVR results
with it).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ivr.call import requests as io
from ivr.store.writer import RecordWriter

_here = threading.local()


def db_requests_here() -> int:
    """Database requests this thread has run through a :class:`QueuedWrites` so far: a driver
    compares it before and after a step to learn which steps need a worker thread."""
    return getattr(_here, "n", 0)


class QueuedWrites:
    """See the module docstring."""

    counts_requests = True  # db_requests_here() sees this one's requests

    def __init__(self, inner: Any, writer: RecordWriter,
                 on_outcome: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.inner, self.writer, self.on_outcome = inner, writer, on_outcome

    def execute(self, call: Any, request: Any, now: datetime) -> Any:
        if isinstance(request, io.RecordOutcome):
            self.writer.insert(request.row)
            if self.on_outcome is not None:
                self.on_outcome(request.row)
            return None
        if isinstance(request, io.EstimateWait):  # live state, no database
            return self.inner.execute(call, request, now)
        _here.n = getattr(_here, "n", 0) + 1
        with self.writer.lock:
            return self.inner.execute(call, request, now)

    def __getattr__(self, name: str) -> Any:  # factory, waits… of the wrapped services
        return getattr(self.inner, name)
