"""Callback dialler: due requests of ``ivr.call.callbacks`` → ``Originate`` → answered leg queued.

Rules:

* Every ``interval_s`` the pending callbacks whose ``next_attempt_at`` is due are taken (in
  serving order); each is claimed by a conditional ``UPDATE … WHERE status='pending'``, so two
  bridges sharing the database never dial the same request twice (claim, settle and the
  answered leg are shared with the embedded dialler: ``ivr.call.callback_legs``).
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
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from ivr.call.callback_legs import CallbackSession, claim_due, give_back, recover_stale, settle
from ivr.drivers.ami.bridge import Bridge, CallInfo, OriginateResult
from ivr.drivers.ami.dialguard import DEFAULT_PREFIXES, dial_number
from ivr.drivers.ami.originate import NOT_SENT

log = structlog.get_logger("ivr.drivers.ami.dialler")
__all__ = ["CallbackSession", "Dialler"]  # the answered leg lives in ivr.call.callback_legs


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
        self._recovered_at = float("-inf")  # monotonic time of the last stale-dial sweep

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
        """Take due callbacks (``ivr.call.callback_legs.claim_due``: a conditional UPDATE, so of
        several bridges on one database exactly one wins each row). Once a minute, rows that a
        bridge which died mid-dial left ``dialling`` are made pending again first."""
        if time.monotonic() - self._recovered_at > 60.0:
            self._recovered_at = time.monotonic()
            n = recover_stale(self.factory, now)
            if n:
                log.warning("callbacks.recovered_stale_dials", count=n)
        return claim_due(self.factory, now,
                         lambda raw: dial_number(raw, self.allow_prefixes), self.batch)

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
        give_back(self.factory, cb)

    def _settle(self, cb: dict[str, Any], res: OriginateResult) -> None:
        settle(self.factory, cb, res.answered, self.clock(), reason=str(res.reason),
               actor="ami-dialler")
