"""Callback dialler: due requests of ``ivr.call.callbacks`` → ``Originate`` → answered leg queued.

Rules:

* Every ``interval_s`` the pending callbacks whose ``next_attempt_at`` is due are taken (in
  serving order); each is claimed by a conditional ``UPDATE … WHERE status='pending'``, so two
  bridges sharing the database never dial the same request twice.
* Only a normalised Russian E.164 number behind the allow-list of ``dialplans/callback_dial.yaml``
  is dialled (``ivr.drivers.ami.dialguard``); any other request ends ``failed`` undialled.
* Each is dialled with ``Originate`` (``Async: true``) on ``Local/<number>@hotline-callback``
  continuing at ``hotline-callback,answered`` (see ``ivr.dialplan.asterisk``), with our own
  ``ChannelId``: the answered leg's ``AsyncAGIStart`` carries it as ``Uniqueid``, which is how
  the bridge knows the call is a callback and not a caller dialling in.
* ``OriginateResponse`` ``Reason: 4`` → ``done`` (the citizen answered: greeted, queued with the
  priority and place they had). Anything else → the next attempt per SPEC §6
  (``ivr.call.callbacks.next_attempt``), or ``failed`` after the fifth.
"""
from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from ivr.call.protocol import CallerHangup, Enqueue, Play
from ivr.citizens.checksums import mask_tail
from ivr.drivers.ami.bridge import Bridge, CallInfo, OriginateResult
from ivr.drivers.ami.dialguard import DEFAULT_PREFIXES, dial_number
from ivr.drivers.ami.originate import NOT_SENT

log = structlog.get_logger("ivr.drivers.ami.dialler")


@dataclass
class CallbackSession:
    """The answered leg of a callback: a short greeting, then the agent queue of the skill with
    the caller's original priority and arrival time (their place is kept)."""

    info: CallInfo
    cb: dict[str, Any]
    greeting: tuple[str, ...] = ("connecting",)
    write: Callable[[dict[str, Any]], None] | None = None
    outcome: dict[str, Any] | None = None
    fed: list[Any] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def start(self, now: datetime) -> list[Any]:
        cb = self.cb
        record = {"call_id": self.info.call_id, "line": cb.get("line"),
                  "region": cb.get("region"), "language": cb.get("language") or "ru",
                  "skill": cb["skill"], "priority": cb.get("priority", 0), "identified": False,
                  "arrival_time": cb.get("arrival_time") or now.timestamp(),
                  "callback_id": cb.get("id")}
        self._finish(now, "queued")
        return [Play(self.greeting, record["language"], barge_in=False),
                Enqueue(cb["skill"], int(cb.get("priority", 0)), record)]

    def feed(self, event: Any, now: datetime) -> list[Any]:
        self.fed.append(event)
        if isinstance(event, CallerHangup) and self.outcome is None:
            self._finish(now, "abandoned_ivr")
        return []

    def fail(self, now: datetime, detail: str) -> list[Any]:
        if self.outcome is None:
            self._finish(now, "error", detail)
        return []

    def _finish(self, now: datetime, result: str, detail: str | None = None) -> None:
        cb = self.cb
        self.outcome = {
            "call_id": self.info.call_id, "caller_number": cb.get("number"), "did": None,
            "line": cb.get("line"), "region": cb.get("region"),
            "language": cb.get("language") or "ru", "menu_path": ["callback"],
            "skill": cb["skill"], "priority": cb.get("priority", 0),
            "callback_requested": True, "outcome": result,
            "detail": detail or f"callback {cb.get('id')} of {cb.get('call_id')}",
            "started_at": now, "answered_at": now, "ended_at": now,
        }
        if self.write is not None:
            try:
                self.write(self.outcome)
            except Exception:
                log.exception("callback.record_failed", call_id=self.info.call_id)


class Dialler:
    """Dial due callbacks through ``bridge``; ``factory`` is the SQLAlchemy sessionmaker."""

    def __init__(self, bridge: Bridge, factory: Any, *, context: str = "hotline-callback",
                 caller_id: str = '"Gosuslugi" <88005553535>', ring_timeout_s: float = 60.0,
                 interval_s: float = 5.0, batch: int = 20,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 allow_prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> None:
        self.bridge, self.factory = bridge, factory
        self.context, self.caller_id = context, caller_id
        self.ring_timeout_s, self.interval_s, self.batch = ring_timeout_s, interval_s, batch
        self.clock = clock
        self.allow_prefixes = allow_prefixes  # ivr.drivers.ami.dialguard (issue 13 item 7)
        self.expected: dict[str, dict[str, Any]] = {}  # ChannelId -> callback (plain dict)

    def callback_for(self, info: CallInfo) -> dict[str, Any] | None:
        """The callback a new AGI call answers, if it is one of ours (by ``ChannelId``)."""
        return self.expected.pop(info.uniqueid, None)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("dialler.tick_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    def _claim(self, now: datetime) -> list[dict[str, Any]]:
        """Take due callbacks: each row moves pending → dialling by a conditional UPDATE, so of
        several bridges on one database exactly one wins it (portable: SQLite, PostgreSQL)."""
        from sqlalchemy import update

        from ivr.call.callbacks import Callback, due_callbacks

        out = []
        with self.factory.begin() as db:
            for cb in due_callbacks(db, now)[: self.batch]:
                number = dial_number(cb.number, self.allow_prefixes)
                status = "dialling" if number else "failed"
                if number is None:
                    log.warning("callback.number_refused", callback_id=cb.id,
                                number=mask_tail((cb.number or "")[:40], keep=2))
                won = db.execute(
                    update(Callback)
                    .where(Callback.id == cb.id, Callback.status == "pending",
                           Callback.attempts == cb.attempts)
                    .values(status=status, attempts=(cb.attempts or 0) + (status == "dialling"))
                    .execution_options(synchronize_session=False)).rowcount == 1
                if not won or status == "failed":
                    continue
                out.append({"id": cb.id, "call_id": cb.call_id, "number": number,
                            "skill": cb.skill, "priority": cb.priority,
                            "language": cb.language, "line": cb.line, "region": cb.region,
                            "attempts": (cb.attempts or 0) + 1,
                            "arrival_time": cb.arrival_at.timestamp()})
        return out

    async def tick(self) -> list[OriginateResult]:
        """One round: claim the due callbacks, dial them all, record each outcome."""
        if not self.bridge.conn.ready:  # AMI down: dial nothing, spend no attempt (item 10)
            return []
        due = self._claim(self.clock())
        return list(await asyncio.gather(*(self._dial(cb) for cb in due)))

    async def _dial(self, cb: dict[str, Any]) -> OriginateResult:
        chan_id = f"cb{cb['id']}a{cb['attempts']}-{secrets.token_hex(4)}"
        self.expected[chan_id] = cb
        try:
            res = await self.bridge.originate(
                f"Local/{cb['number']}@{self.context}", context=self.context, exten="answered",
                caller_id=self.caller_id, timeout_s=self.ring_timeout_s, channel_id=chan_id,
                variables={"HOTLINE_LANGUAGE": cb["language"] or "ru",
                           "HOTLINE_CALLBACK": str(cb["id"])})
        except Exception:
            log.exception("callback.originate_failed", callback_id=cb["id"])
            res = OriginateResult(False, -1)
        if not res.answered:
            self.expected.pop(chan_id, None)
        if res.message == NOT_SENT:  # Asterisk never got it: give the attempt back (item 10)
            self._give_back(cb)
            log.warning("callback.not_dialled_ami_down", callback_id=cb["id"])
            return res
        self._settle(cb, res)
        log.info("callback.dialled", callback_id=cb["id"], attempt=cb["attempts"],
                 reason=res.reason, answered=res.answered)
        return res

    def _give_back(self, cb: dict[str, Any]) -> None:
        from sqlalchemy import update

        from ivr.call.callbacks import Callback

        with self.factory.begin() as db:
            db.execute(update(Callback).where(Callback.id == cb["id"],
                                              Callback.status == "dialling")
                       .values(status="pending", attempts=cb["attempts"] - 1)
                       .execution_options(synchronize_session=False))

    def _settle(self, cb: dict[str, Any], res: OriginateResult) -> None:
        from ivr.call.callbacks import Callback, next_attempt

        now = self.clock()
        with self.factory.begin() as db:
            row = db.get(Callback, cb["id"])
            if row is None:
                return
            if res.answered:
                row.status = "done"
                return
            nxt = next_attempt(row.attempts or 0, now)
            if nxt is None:
                row.status = "failed"
            else:
                row.status, row.next_attempt_at = "pending", nxt
