"""The daily job inside ``hotline serve``: retention and complaint escalation, off the loop.

Once a day at ``daily_at`` of ``dialplans/retention.yaml`` (local time of the centre, read
again before each wait, so an edit applies from the next run) the service clock's moment is
handed to :func:`ivr.records.retention.daily` in a worker thread — deleting thousands of rows
in batches must never stall the loop that carries the calls. The job waits on the *service*
clock (``ivr.service.clock``): an accelerated demo clock runs it at its simulated 03:00, and a
test moves the clock to see it run. The last run (when, what was deleted per kind, or the
error) is kept in :attr:`RetentionJob.last` for the board snapshot and ``/metrics``.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("ivr.service.retention_job")
POLL_S = 30.0  # longest real wait between looks at the clock (a moved clock is seen by then)


class RetentionJob:
    """``await job.run(stop)`` until ``stop`` is set; ``job.last`` describes the last run."""

    def __init__(self, engine: Any, clock: Any, *, directory: str | Path = "dialplans",
                 root: str | Path | None = None, poll_s: float | None = None) -> None:
        self.engine, self.clock = engine, clock
        self.directory, self.root = directory, root
        self.poll_s = POLL_S if poll_s is None else poll_s
        self.last: dict[str, Any] | None = None
        self.next_at: datetime | None = None
        self.runs = 0

    def _next(self) -> datetime:
        from ivr.records.retention import load_daily_at, next_daily_run

        hour, minute = load_daily_at(self.directory)
        return next_daily_run(self.clock.now(), self.clock.tz, hour, minute)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.next_at = self._next()
            except Exception as exc:  # noqa: BLE001 - a bad edit of the YAML: say so, retry
                log.error("retention.schedule_unreadable", error=str(exc)[:300])
                self.next_at = None
            while self.next_at is not None and not stop.is_set():
                left = self.clock.until(self.next_at.timestamp())
                if left <= 0:
                    await self.run_once(self.next_at)
                    break
                try:
                    await asyncio.wait_for(stop.wait(), min(left, self.poll_s))
                except TimeoutError:
                    pass
            if self.next_at is None:
                try:
                    await asyncio.wait_for(stop.wait(), self.poll_s)
                except TimeoutError:
                    pass

    async def run_once(self, at: datetime) -> dict[str, Any]:
        """One run for the scheduled moment ``at`` (service time), in a worker thread."""
        from ivr.records.retention import daily

        try:
            report = await asyncio.to_thread(daily, self.engine, at, directory=self.directory,
                                             root=self.root)
        except Exception as exc:  # the service carries on; tomorrow retries
            log.exception("retention.failed", at=at.isoformat())
            self.last = {"at": at.isoformat(), "ok": False, "error": str(exc)[:300],
                         "deleted": {}, "files": 0}
        else:
            deleted: dict[str, int] = {}
            for key, n in report.done.items():  # "audio:recordings" -> "audio"
                kind = key.split(":", 1)[0]
                deleted[kind] = deleted.get(kind, 0) + n
            self.last = {"at": at.isoformat(), "ok": True, "deleted": deleted,
                         "files": report.files, "batches": report.batches}
            log.info("retention.done", at=at.isoformat(), files=report.files, **deleted)
        self.runs += 1
        return self.last

    def snapshot(self) -> dict[str, Any]:
        """For the board and ``/metrics``: the last run and the next one."""
        return {"last": self.last,
                "next_at": self.next_at.isoformat() if self.next_at is not None else None}
