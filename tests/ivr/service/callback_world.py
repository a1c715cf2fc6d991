"""A small live ACD, a clock the test moves, a database and fake phones for callback tests."""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ivr.call.callbacks import request_callback
from ivr.call.protocol import Enqueue
from ivr.service.acd import AcdService
from ivr.service.callbacks import CallbackDialler, DialResult
from ivr.service.clock import Clock
from queue_engine.acd import LiveAcd
from queue_engine.live import MSK, LiveCentre
from queue_engine.model import Model
from queue_engine.records import QueueCall

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK).timestamp()


class StepClock(Clock):
    """The service clock, moved by the test (``speed`` high: real sleeps are short)."""

    def __init__(self, t: float) -> None:
        super().__init__(MSK, speed=10_000.0)
        self.t = t

    def ts(self) -> float:
        return self.t


def one_team_model(agents: list[int], aht: float = 300.0) -> Model:
    """Skills general and tax, one team with ``agents[h]`` agents in week hour h."""
    G, H = 2, 168
    staff = np.array([agents if len(agents) == H else [agents[0]] * H], dtype=np.int64)
    return Model(
        skills=["general", "tax"], teams=["t0"], lam=np.zeros((G, H)), staff=staff,
        prof=np.ones((1, G)), priority=np.array([1, 1]), aht_mean=np.full(G, aht),
        aht_cv=np.full(G, 0.1), pat_mean=np.full(G, 1e6), pat_cv=np.full(G, 1.0),
        open_=np.ones((G, H), bool), overflow_to=np.array([-1, -1]),
        overflow_after=np.zeros(G), policy="longest_idle", policy_delay=60.0)


@dataclass
class Phones:
    """A fake :class:`ivr.service.callbacks.Outbound`: ``answer`` decides; an answered leg's
    ``Enqueue`` joins the ACD at once (the greeting is not waited for)."""

    acd: AcdService
    answer: bool = True
    dials: list[tuple[float, str]] = field(default_factory=list)
    legs: list[Any] = field(default_factory=list)

    async def originate(self, number: str, session: Any, *, timeout_s: float) -> DialResult:
        self.dials.append((self.acd.clock.ts(), number))
        await asyncio.sleep(0)
        if not self.answer:
            return DialResult(False, 480, "no_answer")
        commands = session.start(self.acd.clock.now())
        enq = next(c for c in commands if isinstance(c, Enqueue))
        self.legs.append(self.acd.enqueue(session, enq))
        return DialResult(True, 200, "answered")


def world(factory: Any, t: float, agents: list[int], aht: float = 300.0
          ) -> tuple[StepClock, AcdService, CallbackDialler, Phones]:
    clock = StepClock(t)
    svc = AcdService(LiveAcd(LiveCentre(model=one_team_model(agents, aht)), seed=1,
                             wrap_s=0.0), clock)
    svc.start()
    phones = Phones(svc)
    dialler = CallbackDialler(svc, factory, phones, normalise=lambda n: n)
    return clock, svc, dialler, phones


def live(svc: AcdService, call_id: str, skill: str = "general") -> Any:
    """A live caller queued now (through the service, as a driver does)."""
    session = type("S", (), {"call_id": call_id})()
    return svc.enqueue(session, Enqueue(skill, 1, {"line": "federal", "region": "all"}))


async def settle_all(dialler: CallbackDialler) -> None:
    """Let every dial in flight finish (claims and settles run in worker threads)."""
    for _ in range(50):
        await asyncio.sleep(0)
        if dialler._tasks:
            await asyncio.gather(*list(dialler._tasks))
    await asyncio.sleep(0)


async def advance(clock: StepClock, svc: AcdService, dialler: CallbackDialler,
                  to: float) -> None:
    """Move the clock to ``to`` running the ACD's timers and the dialler on the way."""
    while True:
        nxt = min(svc.acd.next_due(), to)
        clock.t = max(clock.t, nxt)
        svc._apply(svc.acd.tick(clock.t))
        await dialler.sync()
        await settle_all(dialler)
        if clock.t >= to and svc.acd.next_due() > to:
            return


def request(factory: Any, call_id: str, *, number: str, arrival: float, now: float,
            due: float | None = None, skill: str = "general") -> int:
    utc = dt.UTC
    with factory.begin() as db:
        ticket = request_callback(
            db, call_id=call_id, number=number, skill=skill, priority=1,
            now=dt.datetime.fromtimestamp(now, utc),
            arrival=dt.datetime.fromtimestamp(arrival, utc),
            due=dt.datetime.fromtimestamp(due, utc) if due is not None else None)
    return ticket.id


__all__ = ["MONDAY_10", "Phones", "QueueCall", "StepClock", "advance", "live", "request",
           "settle_all", "world"]
