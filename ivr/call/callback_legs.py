"""Placing callbacks, whatever dials them: claim a request, run its answered leg, settle it.

Both diallers — the AMI bridge's (``ivr.drivers.ami.dialler``, ``Originate``) and the embedded
service's (``ivr.service.callbacks``, the SIP endpoint) — share this module, so the rules that
keep a request from being dialled twice live in one place:

* **Claim** (:func:`claim_due`, :func:`claim_ids`): a row moves ``pending → dialling`` by a
  conditional ``UPDATE … WHERE status='pending' AND attempts=<read>``; of several diallers on
  one database (SQLite or PostgreSQL) exactly one gets ``rowcount == 1``. A number the
  ``normalise`` function refuses ends ``failed`` undialled.
* **Settle** (:func:`settle`): answered → ``done``; otherwise the next attempt per SPEC §6
  (:func:`ivr.call.callbacks.next_attempt`) or ``failed`` after the fifth. Each attempt's
  outcome is an audit row (``callback_attempt``: a citizen's number was used), in the same
  transaction.
* **Give back** (:func:`give_back`): the dial never left us (link down, no route): the row is
  ``pending`` again and the attempt is not spent.
* **Recover** (:func:`recover_stale`): a server that died mid-dial leaves its row ``dialling``;
  while dialling, ``next_attempt_at`` is when the attempt began, so a row dialling for longer
  than any ring can last goes back to ``pending`` (the attempt counts as unanswered).

:class:`CallbackSession` is the answered leg, a CallSession-like object (``call_id``, ``lang``,
``start``, ``feed``, ``fail``, ``done``, ``outcome``): a short greeting, then ``Enqueue`` with the
request's priority and the caller's original arrival time, so the leg sorts to its old place.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from ivr.call.protocol import CallerHangup, Enqueue, Play
from ivr.citizens.checksums import mask_tail

log = structlog.get_logger("ivr.call.callback_legs")
Normalise = Callable[[str | None], str | None]
GREETING = ("callback_calling", "connecting")  # "…calling you back as you asked", "connecting"


@dataclass(frozen=True)
class LegInfo:
    """What a leg needs to know of its channel: the call id its record carries."""

    call_id: str


@dataclass
class CallbackSession:
    """The answered leg of a callback: a short greeting, then the agent queue of the skill with
    the caller's original priority and arrival time (their place is kept). ``info`` is anything
    with a ``call_id`` (the AMI bridge's ``CallInfo``, a :class:`LegInfo`)."""

    info: Any
    cb: dict[str, Any]
    greeting: tuple[str, ...] = GREETING
    write: Callable[[dict[str, Any]], None] | None = None
    outcome: dict[str, Any] | None = None
    fed: list[Any] = field(default_factory=list)
    recording_allowed: bool = False  # no consent notice was played on this leg

    @property
    def call_id(self) -> str:
        return str(self.info.call_id)

    @property
    def lang(self) -> str:
        return str(self.cb.get("language") or "ru")

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def start(self, now: datetime) -> list[Any]:
        cb = self.cb
        record = {"call_id": self.call_id, "line": cb.get("line"),
                  "region": cb.get("region"), "language": self.lang,
                  "skill": cb["skill"], "priority": cb.get("priority", 0), "identified": False,
                  "arrival_time": cb.get("arrival_time") or now.timestamp(),
                  "callback_id": cb.get("id")}
        self._finish(now, "queued")
        return [Play(self.greeting, self.lang, barge_in=False),
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
            "call_id": self.call_id, "caller_number": cb.get("number"), "did": None,
            "line": cb.get("line"), "region": cb.get("region"),
            "language": self.lang, "menu_path": ["callback"],
            "skill": cb["skill"], "priority": cb.get("priority", 0),
            "callback_requested": True, "outcome": result,
            "detail": detail or f"callback {cb.get('id')} of {cb.get('call_id')}",
            "started_at": now, "answered_at": now, "ended_at": now,
        }
        if self.write is not None:
            try:
                self.write(self.outcome)
            except Exception:
                log.exception("callback.record_failed", call_id=self.call_id)


def _plain(cb: Any, number: str) -> dict[str, Any]:
    return {"id": cb.id, "call_id": cb.call_id, "number": number, "skill": cb.skill,
            "priority": cb.priority, "language": cb.language, "line": cb.line,
            "region": cb.region, "attempts": (cb.attempts or 0) + 1,
            "arrival_time": cb.arrival_at.timestamp()}


def _claim_rows(db: Any, rows: list[Any], normalise: Normalise,
                now: datetime) -> list[dict[str, Any]]:
    from sqlalchemy import update

    from ivr.call.callbacks import Callback
    from ivr.store.timestamps import utc

    out = []
    for cb in rows:
        number = normalise(cb.number)
        status = "dialling" if number else "failed"
        if number is None:
            log.warning("callback.number_refused", callback_id=cb.id,
                        number=mask_tail((cb.number or "")[:40], keep=2))
        won = db.execute(
            update(Callback)
            .where(Callback.id == cb.id, Callback.status == "pending",
                   Callback.attempts == cb.attempts)
            .values(status=status, attempts=(cb.attempts or 0) + (status == "dialling"),
                    next_attempt_at=utc(now))  # while dialling: when this attempt began
            .execution_options(synchronize_session=False)).rowcount == 1
        if won and number is not None:
            out.append(_plain(cb, number))
    return out


def claim_due(factory: Any, now: datetime, normalise: Normalise,
              batch: int = 20) -> list[dict[str, Any]]:
    """Claim the due callbacks (serving order, at most ``batch``): plain dicts of the rows won."""
    from ivr.call import callbacks

    with factory.begin() as db:
        return _claim_rows(db, callbacks.due_callbacks(db, now)[:batch], normalise, now)


def claim_ids(factory: Any, ids: list[int], now: datetime,
              normalise: Normalise) -> list[dict[str, Any]]:
    """Claim these requests if still pending and due (the live ACD chose them)."""
    from sqlalchemy import select

    from ivr.call.callbacks import Callback
    from ivr.store.timestamps import utc

    if not ids:
        return []
    with factory.begin() as db:
        rows = list(db.scalars(select(Callback).where(
            Callback.id.in_(ids), Callback.status == "pending",
            Callback.next_attempt_at <= utc(now))))
        return _claim_rows(db, rows, normalise, now)


def recover_stale(factory: Any, now: datetime,
                  after: timedelta = timedelta(minutes=10)) -> int:
    """Rows left ``dialling`` by a server that stopped mid-dial: ``pending`` again, due now
    (``failed`` if that was the last attempt); returns how many."""
    from sqlalchemy import case, update

    from ivr.call.callbacks import MAX_ATTEMPTS, Callback
    from ivr.store.timestamps import utc

    with factory.begin() as db:
        return int(db.execute(
            update(Callback)
            .where(Callback.status == "dialling", Callback.next_attempt_at < utc(now - after))
            .values(status=case((Callback.attempts >= MAX_ATTEMPTS, "failed"), else_="pending"),
                    next_attempt_at=utc(now))
            .execution_options(synchronize_session=False)).rowcount or 0)


def give_back(factory: Any, cb: dict[str, Any]) -> None:
    """The dial never left us: pending again, the attempt not spent."""
    from sqlalchemy import update

    from ivr.call.callbacks import Callback

    with factory.begin() as db:
        db.execute(update(Callback).where(Callback.id == cb["id"],
                                          Callback.status == "dialling")
                   .values(status="pending", attempts=cb["attempts"] - 1)
                   .execution_options(synchronize_session=False))


def settle(factory: Any, cb: dict[str, Any], answered: bool, now: datetime,
           reason: str = "", actor: str = "dialler") -> str:
    """Record one attempt's outcome; returns the row's new status."""
    from ivr.call.callbacks import Callback, next_attempt
    from ivr.store import audit

    with factory.begin() as db:
        audit.record(db, at=now, actor=actor, action="callback_attempt",
                     subject=f"callback:{cb['id']}",
                     detail={"attempt": cb.get("attempts"), "answered": bool(answered),
                             "reason": str(reason)[:40]})
        row = db.get(Callback, cb["id"])
        if row is None or row.status != "dialling":  # cancelled meanwhile: left as it is
            return row.status if row is not None else "gone"
        if answered:
            row.status = "done"
        else:
            nxt = next_attempt(row.attempts or 0, now)
            if nxt is None:
                row.status = "failed"
            else:
                row.status, row.next_attempt_at = "pending", nxt
        return row.status
