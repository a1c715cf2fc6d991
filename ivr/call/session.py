"""One call, end to end: the sans-IO machine plus the services it asks for.

Drivers (AMI bridge, SIP endpoint, console) see only :mod:`ivr.call.protocol`:

    hotline = Hotline.load("dialplans")            # once per process
    call = hotline.new_call(did="88005553535", caller="+79161234567", call_id=uniqueid)
    commands = call.start(now)                      # Play... then Collect / Enqueue / Hangup
    commands = call.feed(Digits("1"), now)          # NoInput(), CallerHangup(), DriverError()
    call.fail(now, "why")                           # the driver gave up: outcome "error"
    call.done, call.outcome                         # the recorded row once finished

The session executes the machine's requests (:mod:`ivr.call.requests`: registry, one-time codes,
applications, wait estimate, callbacks, the outcome row) itself and feeds each answer straight
back, so a driver never waits on the database. Nothing raises to a driver: an exception inside
a call is logged with its ``call_id`` and ends *that* call with result ``error`` (ARCHITECTURE
rule 7); other calls are untouched.
"""
from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import structlog

from ivr.call import requests as io
from ivr.call.machine import IvrMachine, Speaker
from ivr.call.protocol import Collect, Enqueue, Hangup, Play, SetVar
from ivr.call.waits import WaitEstimator, default_waits
from ivr.dialplan.menus import Menus, load_menus
from ivr.logs import mask_value
from ivr.voice import speech

log = structlog.get_logger("ivr.call.session")
MEDIA = (Play, Collect, SetVar, Enqueue, Hangup)


class Services(Protocol):
    """Side effects a call needs; :class:`ivr.call.services.DbServices` is the real one."""

    def execute(self, call: CallSession, request: Any, now: datetime) -> Any:
        """Carry out one :mod:`ivr.call.requests` request; return its answer (None if none)."""
        ...


class SpeechSpeaker:
    """:class:`ivr.call.machine.Speaker` over :mod:`ivr.voice.speech` (Russian grammar, English)."""

    def __init__(self, tz: Any = None) -> None:
        self.tz = tz

    def minutes(self, n: int, lang: str) -> tuple[str, ...]:
        return tuple(speech.say_duration(n, lang))

    def number(self, n: int, lang: str) -> tuple[str, ...]:
        return tuple(speech.say_number(n, lang=lang))

    def day(self, d: date, lang: str) -> tuple[str, ...]:
        return tuple(speech.say_date(d, lang))

    def moment(self, at: datetime, lang: str) -> tuple[str, ...]:
        local = at.astimezone(self.tz) if self.tz else at
        # a next opening or a callback: always within weeks, so the year goes unsaid
        return (*speech.say_date(local.date(), lang, year=False),
                *speech.say_time(local.hour, local.minute, lang))


@dataclass
class Hotline:
    """Everything shared by the calls of one process: dialplan, menus, services."""

    dialplan: Any
    menus: Menus
    services: Services
    speaker: Speaker = field(default_factory=SpeechSpeaker)

    @classmethod
    def load(cls, directory: str | Path = "dialplans", *, db_url: str | None = None,
             waits: WaitEstimator | None = None, services: Services | None = None) -> Hotline:
        from ivr.dialplan.model import load_dialplan

        dialplan = load_dialplan(directory)
        if services is None:
            from ivr.call.services import DbServices

            services = DbServices.from_url(db_url, waits or default_waits(str(dialplan.tz)))
            services.dialplans_dir = str(directory)
        return cls(dialplan, load_menus(directory), services, SpeechSpeaker(dialplan.tz))

    def new_call(self, *, did: str, caller: str | None = None,
                 call_id: str | None = None) -> CallSession:
        return CallSession(self, did=did, caller=caller, call_id=call_id)


class CallSession:
    """One call: ``start(now)`` once, then ``feed(event, now)``; returns media commands only."""

    def __init__(self, hotline: Hotline, *, did: str, caller: str | None = None,
                 call_id: str | None = None) -> None:
        self.hotline = hotline
        self.did, self.caller = did, caller
        self.call_id = call_id or uuid.uuid4().hex
        self.route: Any = None
        self.machine: IvrMachine | None = None
        self.outcome: dict[str, Any] | None = None
        self._log = log.bind(call_id=self.call_id)
        self._ended = False

    def log(self, level: str, event: str, **fields: Any) -> None:
        """Log with the call id bound; a broken log sink must not break the call."""
        try:
            getattr(self._log, level)(event, **fields)
        except Exception:  # noqa: BLE001, S110 - logging is best effort here
            pass

    @property
    def done(self) -> bool:
        return self._ended or (self.machine is not None and self.machine.done)

    @property
    def recording_allowed(self) -> bool:
        """May the driver record this call's audio now? Not before the IVR has started (the
        consent notice), never once the caller refused (``ivr.records.recordings``)."""
        return self.machine is not None and self.machine.consent != "refused"

    @property
    def lang(self) -> str:
        return self.machine.lang if self.machine else "ru"

    # ---- driver API ---------------------------------------------------------------------------
    def start(self, now: datetime) -> list[Any]:
        if self.machine is not None or self._ended:
            return []
        try:
            from ivr.dialplan.model import RouteError

            try:
                self.route = self.hotline.dialplan.route(self.did, now)
            except (RouteError, ValueError) as exc:
                return self._unknown_number(now, str(exc))
            dp = self.hotline.dialplan
            em = dp.emergency
            self.machine = IvrMachine(
                self.hotline.menus, self.route, self.hotline.speaker, call_id=self.call_id,
                caller=self.caller, did=self.route.e164, emergency=(em.skill, em.priority),
                priorities={k: v.priority for k, v in dp.skills.items()})
            self.log("info", "call_started", line=self.route.line, menu=self.route.menu,
                          open=self.route.open)
            return self._run(self.machine.start(now), now)
        except Exception as exc:  # noqa: BLE001 - one call's bug must never reach the driver
            return self._crash(now, exc)

    def feed(self, event: Any, now: datetime) -> list[Any]:
        if self.done or self.machine is None:
            return []
        try:
            return self._run(self.machine.feed(event, now), now)
        except Exception as exc:  # noqa: BLE001
            return self._crash(now, exc)

    def fail(self, now: datetime, detail: str) -> list[Any]:
        """The driver gave up on the call (bridge error, lost channel): record ``error``."""
        if self.done:
            return []
        try:
            if self.machine is None:
                self._record(self._bare_row(now, "error", detail))
                return [Hangup("error")]
            return self._run(self.machine.fail(now, detail), now)
        except Exception as exc:  # noqa: BLE001
            return self._crash(now, exc)

    # ---- internals ----------------------------------------------------------------------------
    def _run(self, commands: list[Any], now: datetime) -> list[Any]:
        """Execute requests in order, feeding answers back; collect what the driver does."""
        assert self.machine is not None
        media: list[Any] = []
        pending = deque(commands)
        while pending:
            cmd = pending.popleft()
            if isinstance(cmd, MEDIA):
                media.append(cmd)
                continue
            if isinstance(cmd, io.RecordOutcome):
                self._record(cmd.row)
                continue
            answer = self.hotline.services.execute(self, cmd, now)
            if not isinstance(cmd, io.FIRE_AND_FORGET):
                pending.extend(self.machine.feed(answer, now))
        return media

    def _record(self, row: dict[str, Any]) -> None:
        self._ended = True
        self.hotline.services.execute(self, io.RecordOutcome(row), row["ended_at"])
        self.outcome = row
        self.log("info", "call_ended", outcome=row["outcome"], skill=row["skill"],
                      identification=row["identification"], path=row["menu_path"])

    def _unknown_number(self, now: datetime, detail: str) -> list[Any]:
        self.log("warning", "unknown_number", did=self.did, detail=detail)
        self._record(self._bare_row(now, "error", f"unknown number: {detail}"))
        return [Play(self.hotline.menus.prompts.unknown_number, "ru"), Hangup("unknown_number")]

    def _bare_row(self, now: datetime, result: str, detail: str) -> dict[str, Any]:
        route = self.route
        return {"call_id": self.call_id, "caller_number": self.caller, "did": self.did,
                "line": getattr(route, "line", None), "region": getattr(route, "region", None),
                "language": self.lang, "menu_path": [], "identification": "none", "skill": None,
                "priority": 0, "callback_requested": False, "outcome": result,
                "detail": detail[:500], "started_at": now, "answered_at": now, "ended_at": now}

    def _crash(self, now: datetime, exc: BaseException) -> list[Any]:
        self.log("exception", "call_failed", error=type(exc).__name__)
        detail = mask_value(f"{type(exc).__name__}: {exc}"[:500])  # the row is no safer place
        if self.outcome is not None:  # already recorded: just make sure the call ends
            self._ended = True
            return [Hangup("error")]
        media: list[Any] = []
        try:
            if self.machine is not None and not self.machine.done:
                cmds = self.machine.fail(now, detail)
                media = [c for c in cmds if isinstance(c, MEDIA)]
                row = next(c.row for c in cmds if isinstance(c, io.RecordOutcome))
            else:
                row = self._bare_row(now, "error", detail)
                media = [Play(self.hotline.menus.prompts.error, self.lang), Hangup("error")]
            self._record(row)
        except Exception:  # noqa: BLE001 - even the error record failed: log, end the call
            self.log("exception", "call_outcome_lost")
            self._ended = True
            media = media or [Hangup("error")]
        return media
