"""Live ACD state per skill group, fed by events, answering "how long will I wait?".

Sans-IO: the AMI bridge (Asterisk QueueCallerJoin / QueueCallerAbandon /
AgentConnect / QueueMemberAdded…) or the IVR turn their events into the method
calls below and pass the time in; nothing here reads a clock or a socket.  The
roster of the scenario supplies the agents *scheduled* for coming hours; live
agent counts override it for the current hour.

Hours are local time in the centre's ``timezone`` (``dialplans/centre.yaml``, an IANA zone read
with :mod:`zoneinfo`): a roster hour, a holiday and a forecast hour are looked up there, never
in a fixed offset.  A model stated without a scenario uses :data:`DEFAULT_TZ`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from queue_engine.model import Model
from queue_engine.predict import asterisk_update, ql_schedule
from queue_engine.records import QueueCall
from queue_engine.scenario import Scenario, load_scenario
from queue_engine.sim import skill_staff

__all__ = ["DEFAULT_TZ", "MSK", "LiveCentre", "LiveQueue", "expected_wait_at",
           "week_hour_origin"]
# the live ACD (agents, routing, timers) and its figures: queue_engine.acd

DEFAULT_TZ = "Europe/Moscow"  # the centre's zone when no scenario names one
MSK = ZoneInfo(DEFAULT_TZ)  # kept for callers that name Moscow on purpose (tests, demos)


def week_hour_origin(now: float, tz: dt.tzinfo = MSK) -> float:
    """Epoch seconds of the Monday 00:00 (local time in ``tz``) that starts ``now``'s week.

    ``(now - origin) // 3600`` is then the week hour (Monday 00–01 = 0) — exact in zones
    without daylight saving (all of Russia since 2014); across a DST change it is off by the
    shift for the rest of that week."""
    local = dt.datetime.fromtimestamp(now, tz)
    monday = dt.datetime.combine(local.date() - dt.timedelta(days=local.weekday()),
                                 dt.time(0), tz)
    return monday.timestamp()


@dataclass
class LiveQueue:
    """One skill group: who waits (FCFS within priority), agents, smoothed figures."""

    skill: str
    aht: float
    patience: float
    roster: list[float]  # agents scheduled per hour of the week (Monday 00–01 first)
    tz: dt.tzinfo = MSK  # the centre's zone: the roster's hours are local there
    waiting: dict[str, tuple[int, float]] = field(default_factory=dict)  # id -> (prio, join)
    agents: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    holdtime: float = 0.0  # Asterisk-style smoothed answered wait
    answered: int = 0
    abandoned: int = 0

    def join(self, call_id: str, now: float, priority: int = 1) -> int:
        """A caller enters; returns their position (callers ahead of them)."""
        self.waiting[call_id] = (priority, now)
        return self.position(call_id)

    def leave(self, call_id: str, now: float) -> None:
        """Caller hung up while waiting (abandonment) or was taken out of the queue."""
        if self.waiting.pop(call_id, None) is not None:
            self.abandoned += 1

    def answer(self, call_id: str, now: float, agent: str | None = None,
               talk_time: float | None = None) -> None:
        item = self.waiting.pop(call_id, None)
        if item is not None:
            self.holdtime = asterisk_update(self.holdtime, now - item[1])
            self.answered += 1
        if agent:  # busy, but counted on duty only once logged in (QueueMemberAdded)
            self.busy.add(agent)
        if talk_time is not None and talk_time > 0:  # learn the handle time slowly
            self.aht = 0.98 * self.aht + 0.02 * talk_time

    def agent_free(self, agent: str, now: float) -> None:
        self.busy.discard(agent)

    def agent_login(self, agent: str, now: float) -> None:
        self.agents.add(agent)

    def agent_logout(self, agent: str, now: float) -> None:
        self.agents.discard(agent)
        self.busy.discard(agent)

    def position(self, call_id: str) -> int:
        """Callers answered before ``call_id``: higher priority, or same and earlier."""
        prio, join = self.waiting[call_id]
        return sum(1 for c, (p, j) in self.waiting.items()
                   if c != call_id and (p > prio or (p == prio and j < join)))

    def expected_wait(self, position: int, now: float, live_agents: bool = True) -> float:
        """EWT for a caller with ``position`` callers ahead (roster-aware QL_m)."""
        origin = week_hour_origin(now, self.tz)
        agents_now = float(len(self.agents)) if live_agents and self.agents else None
        return ql_schedule(position, now, self.roster, self.aht, self.patience,
                           agents_now=agents_now, hour_of=origin)


class LiveCentre:
    """All skill groups of a scenario; the object the IVR and the AMI bridge share."""

    def __init__(self, scenario: Scenario | None = None, *, model: Model | None = None,
                 tz: str | None = None) -> None:
        sc = scenario if scenario is not None or model is not None else load_scenario()
        if sc is not None:  # a senior group the scenario's escalation adds is a group here too
            from queue_engine.escalation import with_senior

            sc = with_senior(sc)
        model = model if model is not None else Model.from_scenario(
            sc, transfers_as_arrivals=False)  # the live ACD transfers real calls
        self.scenario, self.model = sc, model  # scenario None: a model stated directly
        #: the centre's zone (``centre.yaml`` ``timezone``): roster hours and holidays are local
        self.tz = ZoneInfo(tz or (sc.centre.timezone if sc is not None else DEFAULT_TZ))
        eff = skill_staff(model)
        self.queues = {
            sid: LiveQueue(sid, float(model.aht_mean[g]), float(model.pat_mean[g]),
                           eff[g].tolist(), tz=self.tz)
            for g, sid in enumerate(model.skills)
        }
        self._where: dict[str, str] = {}

    def join(self, call: QueueCall) -> int:
        self._where[call.call_id] = call.skill
        return self.queues[call.skill].join(call.call_id, call.arrival_time, call.priority)

    def leave(self, call_id: str, now: float) -> None:
        skill = self._where.pop(call_id, None)
        if skill:
            self.queues[skill].leave(call_id, now)

    def answer(self, call_id: str, now: float, agent: str | None = None) -> None:
        skill = self._where.pop(call_id, None)
        if skill:
            self.queues[skill].answer(call_id, now, agent)

    def expected_wait(self, skill: str, position: int, now: float) -> float:
        return self.queues[skill].expected_wait(position, now)

    def expected_wait_new(self, skill: str, now: float, priority: int = 1) -> float:
        """EWT to announce *before* queueing: everyone of equal or higher priority is ahead."""
        q = self.queues[skill]
        waiting = list(q.waiting.values())  # one C-level copy: safe if a worker thread asks
        ahead = sum(1 for p, _ in waiting if p >= priority)
        return q.expected_wait(ahead, now)


@lru_cache(maxsize=1)
def _default_asa() -> tuple[Model, np.ndarray, ZoneInfo]:
    from queue_engine.forecast import run_forecast

    sc = load_scenario()
    model = Model.from_scenario(sc)
    fc = run_forecast(model, reps=6, seed=0, workers=1)
    return model, fc.summary.mean["asa"], ZoneInfo(sc.centre.timezone)


def expected_wait_at(skill: str, when: dt.datetime) -> float | None:
    """Forecast mean wait (s) for ``skill`` at ``when`` from the default scenario; None if closed.

    No live state needed: a lookup in the week forecast (computed once per process).
    Hours too quiet to have answered calls in the forecast fall back to Erlang A.
    A naive ``when`` is taken as the centre's local time.
    """
    from queue_engine.erlang import erlang_a

    model, asa, tz = _default_asa()
    g = model.skills.index(skill)
    local = when.astimezone(tz) if when.tzinfo else when
    h = local.weekday() * 24 + local.hour
    if not model.open_[g, h]:
        return None
    value = float(asa[h, g])
    if math.isnan(value):
        agents = round(float(skill_staff(model)[g, h]))
        if agents < 1:
            return None
        lam = max(float(model.lam[g, h]), 1e-9)
        value = erlang_a(agents, lam, 1 / model.aht_mean[g], 1 / model.pat_mean[g]).asa
    return value
