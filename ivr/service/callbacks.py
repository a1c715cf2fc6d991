"""The embedded callback dialler: pending requests hold their place in the live ACD's line and
are dialled when that place reaches the head (virtual hold, issue 9).

    dialler = CallbackDialler(service.acd, factory, outbound, clock=clock, write=row_writer)
    task = asyncio.create_task(dialler.run(stop))

* **Places.** Every ``poll_s`` (and when :meth:`wake` is called: a new request was recorded)
  the pending rows whose next attempt is due are read (a worker thread) and each takes its
  virtual place (:meth:`ivr.service.acd.AcdService.hold`: skill, priority, the caller's first
  arrival). On start this reloads what a previous run left pending, so a restart keeps them.
  After-hours requests are due at the line's first working hour and enter then, ahead of new
  callers by their arrival. A row that is no longer pending (dialled by another server,
  cancelled) gives its place up. Once a minute a row left ``dialling`` by a server that died
  mid-dial is made pending again (:func:`ivr.call.callback_legs.recover_stale`).
* **Dial.** When the ACD says a place is at the head (``DialCallback``) the row is claimed by the
  shared conditional UPDATE (:func:`ivr.call.callback_legs.claim_ids`), so two servers on one
  database never dial one request twice; a refused number ends ``failed``. The leg goes out
  through the :class:`Outbound` (the SIP endpoint's ``originate``, or the demo's virtual
  citizens) running a :class:`~ivr.call.callback_legs.CallbackSession`: "we are calling you
  back", then ``Enqueue`` at the original place.
* **Settle.** Answered → ``done``; unanswered → the place goes and the next attempt (SPEC §6
  gaps, at most 5) takes it again with the same arrival when due; not sent → given back.
"""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from ivr.call.callback_legs import (
    GREETING,
    CallbackSession,
    LegInfo,
    claim_ids,
    give_back,
    recover_stale,
    settle,
)
from ivr.service.acd import AcdService

log = structlog.get_logger("ivr.service.callbacks")


class DialOutcome(Protocol):
    answered: bool
    code: int
    reason: str


class Outbound(Protocol):
    """Places one outbound leg and runs ``session`` on it once answered (returns at the answer
    or the failure). ``ivr.drivers.sip.SipEndpoint.originate`` has this shape; a result with
    ``sent=False`` means nothing left us (the attempt is given back)."""

    async def originate(self, number: str, session: Any, *,
                        timeout_s: float) -> DialOutcome: ...


@dataclass(frozen=True)
class DialResult:
    answered: bool
    code: int
    reason: str
    sent: bool = True


def pending_places(factory: Any, now: datetime) -> list[tuple[int, str, int, float]]:
    """(id, skill, priority, arrival ts) of pending callbacks due by ``now``."""
    from sqlalchemy import select

    from ivr.call.callbacks import Callback
    from ivr.store.timestamps import utc

    with factory() as db:
        rows = db.execute(select(Callback.id, Callback.skill, Callback.priority,
                                 Callback.arrival_at)
                          .where(Callback.status == "pending",
                                 Callback.next_attempt_at <= utc(now))).all()
    return [(int(i), str(s), int(p or 0), a.timestamp()) for i, s, p, a in rows]


class CallbackDialler:
    """See the module docstring. ``normalise``: stored number → dialable E.164 or None."""

    def __init__(self, acd: AcdService, factory: Any, outbound: Outbound | None, *,
                 normalise: Callable[[str | None], str | None],
                 write: Callable[[dict[str, Any]], None] | None = None,
                 ring_timeout_s: float = 60.0, poll_s: float = 2.0,
                 greeting: tuple[str, ...] = GREETING) -> None:
        self.acd, self.factory, self.outbound = acd, factory, outbound
        self.clock = acd.clock
        self.normalise, self.write = normalise, write
        self.ring_timeout_s, self.poll_s, self.greeting = ring_timeout_s, poll_s, greeting
        self.held: set[int] = set()
        self.dialling: set[int] = set()
        self.outcomes = {"answered": 0, "unanswered": 0, "failed": 0}
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._recovered_at = -1e9  # monotonic: stale 'dialling' rows are looked for each minute
        acd.on_dial = self._on_dial

    def attach(self, sip: Any) -> None:
        """Dial through the SIP endpoint when it has an outbound route; else say why not."""
        route = getattr(getattr(sip, "outbound", None), "gateway", None)
        if sip is not None and route is not None:
            self.use(sip)
            log.info("callbacks.outbound_sip", route=f"{route.host}:{route.port}")
        elif self.outbound is None:
            log.info("callbacks.wait_for_outbound_route",
                     hint="hotline serve --sip-outbound sip:HOST:PORT (a trunk or gateway)")

    def use(self, outbound: Outbound) -> None:
        """An outbound route appeared (the demo's virtual citizens): start holding places."""
        self.outbound = outbound
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before the sync: a wake during it is not lost
            if self.outbound is not None:
                try:
                    await self.sync()
                except Exception:
                    log.exception("callbacks.sync_failed")
            with contextlib.suppress(TimeoutError):
                waker = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waker, stopper}, timeout=self.poll_s,
                                   return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
                stopper.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def sync(self) -> None:
        """Due pending rows take their places; rows gone elsewhere give theirs up."""
        if time.monotonic() - self._recovered_at > 60.0:
            self._recovered_at = time.monotonic()
            n = await asyncio.to_thread(recover_stale, self.factory, self.clock.now())
            if n:
                log.warning("callbacks.recovered_stale_dials", count=n)
        rows = await asyncio.to_thread(pending_places, self.factory, self.clock.now())
        due = {r[0] for r in rows}
        for cb_id in list(self.held - due - self.dialling):
            self.held.discard(cb_id)
            self.acd.unhold(cb_id)
        for cb_id, skill, prio, arrival in sorted(rows, key=lambda r: (-r[2], r[3])):
            if cb_id not in self.held and cb_id not in self.dialling:
                self.held.add(cb_id)
                self.acd.hold(cb_id, skill, prio, arrival)

    def _on_dial(self, d: Any) -> None:
        if d.callback_id in self.dialling:
            return
        self.dialling.add(d.callback_id)
        task = asyncio.get_running_loop().create_task(self._dial(d.callback_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dial(self, cb_id: int) -> str:
        try:
            return await self._dial_once(cb_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database went away: the place goes, the next sync retakes it
            log.exception("callbacks.dial_failed", callback_id=cb_id)
            self._drop(cb_id)
            return "error"
        finally:
            self.dialling.discard(cb_id)

    async def _dial_once(self, cb_id: int) -> str:
        claimed = await asyncio.to_thread(claim_ids, self.factory, [cb_id], self.clock.now(),
                                          self.normalise)
        if not claimed or self.outbound is None:  # another server has it, or it went
            if claimed:
                await asyncio.to_thread(give_back, self.factory, claimed[0])
            self._drop(cb_id)
            return "not_claimed"
        cb = claimed[0]
        leg = f"cb{cb_id}a{cb['attempts']}-{secrets.token_hex(4)}"
        session = CallbackSession(LegInfo(leg), cb, greeting=self.greeting, write=self._record)
        try:
            res = await self.outbound.originate(cb["number"], session,
                                                timeout_s=self.ring_timeout_s)
        except Exception:
            log.exception("callbacks.originate_failed", callback_id=cb_id)
            res = DialResult(False, 0, "failed")
        if not getattr(res, "sent", True):  # nothing left us: the attempt is not spent
            await asyncio.to_thread(give_back, self.factory, cb)
            self._drop(cb_id)
            return "given_back"
        status = await asyncio.to_thread(settle, self.factory, cb, bool(res.answered),
                                         self.clock.now(), str(res.reason))
        log.info("callbacks.dialled", callback_id=cb_id, attempt=cb["attempts"],
                 reason=res.reason, answered=res.answered, status=status)
        if res.answered:
            self.outcomes["answered"] += 1
            self.held.discard(cb_id)  # the leg's Enqueue converts the place (AcdService)
            if self.acd.acd.held(cb_id):  # hung up before reaching the queue: let it go
                self._later_drop(cb_id)
        else:
            self.outcomes["unanswered" if status == "pending" else "failed"] += 1
            self._drop(cb_id)
        return status

    def _drop(self, cb_id: int) -> None:
        self.held.discard(cb_id)
        self.acd.unhold(cb_id)
        self.wake()

    def _later_drop(self, cb_id: int, sim_s: float = 120.0) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(self.clock.real(sim_s), self.acd.unhold, cb_id)

    def _record(self, row: dict[str, Any]) -> None:
        """The answered leg's own call record ('queued'; the ACD writes its final outcome)."""
        if self.write is not None:
            self.write(row)
        if row.get("outcome") == "queued":
            self.acd.ivr_queued(row["call_id"])


def for_service(svc: Any) -> CallbackDialler:
    """The dialler of a running ``ivr.service.serve.Service`` (no outbound route yet)."""
    from ivr.drivers.ami.dialguard import dial_number, load_prefixes

    prefixes = load_prefixes(svc.opts.dialplans)
    return CallbackDialler(svc.acd, svc.factory, None,
                           normalise=lambda raw: dial_number(raw, prefixes),
                           write=svc.writer.insert)
