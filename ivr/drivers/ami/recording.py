"""Call recording in Asterisk mode: ``MixMonitor`` over AMI, with the caller's consent.

The bridge asks three things of this module, per call:

1. :meth:`AmiRecorder.begin` once the session has started (the consent notice is playing):
   if the session says ``recording_allowed``, send the ``MixMonitor`` action
   (:func:`ivr.records.recordings.mixmonitor_action`) — Asterisk records both directions of the
   caller's channel, the IVR and the agent legs, as a plain WAV in its spool directory.
   app_mixmonitor answers ``Response: Success`` (no Message) and raises ``MixMonitorStart``;
   an error (``No such channel``, ``Could not start monitoring channel``) leaves the call
   unrecorded and is logged.
2. :meth:`AmiRecorder.refused` when the machine says ``SetVar(HOTLINE_RECORDING, 0)`` (the
   caller pressed the refuse key): ``StopMixMonitor`` (Asterisk closes the file before it
   answers), the spool file is deleted and the discard audited — nothing of that call is kept.
3. :meth:`AmiRecorder.finished` after the hang-up: in a worker thread, wait until Asterisk has
   closed the file (its size stops changing — the monitor thread ends just after the channel),
   then :func:`ivr.records.recordings.adopt_file` encrypts it into the store (row ``stored``,
   audited) and removes the plain copy.

The spool directory must be readable by this process (same host, or a shared mount):
``HOTLINE_MIXMONITOR_DIR`` (default ``/var/spool/asterisk/monitor/hotline``). A call still in
Asterisk's queue when the bridge stops keeps its file in the spool (logged
``recording.left_in_spool``): adopting a file Asterisk still writes would lose its end.
:meth:`AmiRecorder.sweep` (at bridge start, then hourly) adopts such files, and those of a
bridge that crashed, once their call has its final record and the file has not changed for
``quiet_s``; a file of a caller who refused is discarded; one whose call is unknown stays.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("ivr.drivers.ami.recording")

DEFAULT_SPOOL = "/var/spool/asterisk/monitor/hotline"


def spool_dir() -> str:
    return os.environ.get("HOTLINE_MIXMONITOR_DIR", DEFAULT_SPOOL)


class AmiRecorder:
    """MixMonitor per consenting call; see the module docstring."""

    def __init__(self, conn: Any, factory: Any, *, spool: str | None = None,
                 root: str | Path | None = None, settle_s: float = 10.0) -> None:
        self.conn, self.factory = conn, factory
        self.spool = spool or spool_dir()
        self.root = root
        self.settle_s = settle_s
        self.files: dict[str, tuple[Path, datetime]] = {}  # call id -> spool file, start
        self.adopted = 0
        self.discarded = 0

    async def begin(self, call: Any, now: datetime) -> bool:
        """Start MixMonitor if the session allows recording; True when Asterisk accepted."""
        from ivr.records.recordings import mixmonitor_action

        if not getattr(call.session, "recording_allowed", False):
            return False
        action = mixmonitor_action(call.info.call_id, call.info.channel, now, spool=self.spool)
        fields = {k: v for k, v in action.items() if k != "Action"}
        try:
            resp = await self.conn.send_action(action["Action"], fields, check=False)
        except Exception as exc:  # noqa: BLE001 - a lost link: the call goes on unrecorded
            call.log.warning("recording.not_started", error=type(exc).__name__)
            return False
        if resp.response != "Success":
            call.log.warning("recording.refused_by_asterisk", message=resp.get("Message"))
            return False
        self.files[call.info.call_id] = (Path(action["File"]), now)
        call.log.info("recording.started")
        return True

    async def refused(self, call: Any, now: datetime) -> None:
        """The caller refused after the monitor began: stop it, delete the file, audit."""
        from ivr.records.recordings import stop_mixmonitor_action

        entry = self.files.pop(call.info.call_id, None)
        if entry is None:
            return
        action = stop_mixmonitor_action(call.info.channel)
        try:
            resp = await self.conn.send_action(action["Action"], {"Channel": action["Channel"]},
                                               check=False)
            ok = resp.response == "Success"
        except Exception:  # noqa: BLE001 - the file is deleted below all the same
            ok = False
        if not ok:
            call.log.warning("recording.stop_failed")
        await asyncio.to_thread(self._discard, call.info.call_id, entry[0], now,
                                0.0 if ok else self.settle_s)
        call.log.info("recording.discarded")

    def finished(self, call: Any, now: datetime) -> Any:
        """After the hang-up: the coroutine that adopts the file (None if nothing recorded)."""
        entry = self.files.pop(call.info.call_id, None)
        if entry is None:
            return None
        if call.end_reason == "bridge_stopped_in_queue":
            # the bridge stops, the caller talks on in Asterisk's queue: the file is still
            # being written — adopting it now would keep half and lose the rest
            call.log.warning("recording.left_in_spool", file=str(entry[0]))
            return None
        return asyncio.to_thread(self._adopt, call.info.call_id, entry[0], entry[1], now)

    # -- worker thread ------------------------------------------------------------------------
    def _settled(self, path: Path, wait_s: float) -> bool:
        """True once ``path`` exists and its size held still for 0.2 s (within ``wait_s``)."""
        end = time.monotonic() + wait_s
        last = -1
        while True:
            size = path.stat().st_size if path.exists() else -1
            if size > 0 and size == last:
                return True
            if time.monotonic() > end:
                return size > 0
            last = size
            time.sleep(0.2 if size > 0 else 0.05)

    def _discard(self, call_id: str, path: Path, now: datetime, wait_s: float) -> None:
        from ivr.store import audit

        if wait_s:
            self._settled(path, wait_s)
        path.unlink(missing_ok=True)
        with self.factory.begin() as db:
            audit.record(db, at=now, actor=f"ivr:{call_id}", action="recording_discarded",
                         subject=f"call:{call_id}", detail={"reason": "consent refused",
                                                           "driver": "asterisk"})
        self.discarded += 1

    def _adopt(self, call_id: str, path: Path, started: datetime, now: datetime) -> None:
        from ivr.records.recordings import adopt_file

        if not self._settled(path, self.settle_s):
            log.error("recording.file_missing", call_id=call_id, file=str(path))
            return
        try:
            with self.factory.begin() as db:
                adopt_file(db, call_id=call_id, wav_path=path, started_at=started, now=now,
                           root=self.root)
        except Exception:
            log.exception("recording.adopt_failed", call_id=call_id, file=str(path))
            return
        self.adopted += 1
        log.info("recording.stored", call_id=call_id)

    # -- files left behind ---------------------------------------------------------------------
    async def run_sweeps(self, stop: asyncio.Event, every_s: float = 3600.0) -> None:
        """:meth:`sweep` now and then every ``every_s`` until ``stop``, off the loop."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.sweep, datetime.now(UTC))
            except Exception:
                log.exception("recording.sweep_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    def sweep(self, now: datetime, quiet_s: float = 600.0) -> dict[str, int]:
        """Spool files no call of this process owns: adopt those whose call has ended (its row
        has a final outcome) and that Asterisk stopped writing ``quiet_s`` ago; discard those
        of callers who refused. Returns counts by what was done."""
        from sqlalchemy import select

        from ivr.store.models import Call

        done = {"adopted": 0, "discarded": 0, "left": 0}
        spool = Path(self.spool)
        if not spool.is_dir():
            return done
        owned = {path.name for path, _ in self.files.values()}
        for path in sorted(spool.glob("*.wav")):
            if path.name in owned or time.time() - path.stat().st_mtime < quiet_s:
                continue
            # the file's name is the call id with every character but [A-Za-z0-9._-] as "_"
            # (ivr.records.recordings.relative_path): as a LIKE pattern "_" matches it back
            with self.factory() as db:
                rows = list(db.scalars(select(Call).where(
                    Call.call_id.like(path.stem.replace("%", ""), escape="\\")).limit(2)))
            if len(rows) != 1 or rows[0].outcome == "queued" or rows[0].started_at is None:
                done["left"] += 1
                log.warning("recording.spool_file_kept", file=path.name,
                            why="no single ended call for it")
                continue
            row = rows[0]
            if row.consent == "refused":
                self._discard(row.call_id, path, now, 0)
                done["discarded"] += 1
            else:
                self._adopt(row.call_id, path, row.started_at, now)
                done["adopted"] += 1
        if any(done.values()):
            log.info("recording.spool_swept", **done)
        return done
