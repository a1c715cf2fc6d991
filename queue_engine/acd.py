"""The live ACD: agents on the scenario's roster take queued callers by the centre's rules.

Sans-IO like the rest of the engine (ARCHITECTURE rules 1 and 8): time is passed in, nothing
here sleeps or reads a clock. A driver (``ivr.service``) calls

    acd = LiveAcd(LiveCentre(scenario), seed=0)
    acd.start(now)                       # agents log in by the roster of this hour
    acd.offer(queue_call, now)    -> [Connect…]   # a caller from the IVR
    acd.abandon(call_id, now)     -> waited s     # the caller hung up while waiting
    acd.tick(now)                 -> [Connect | Release…]   # timers due (talk/wrap end, overflow,
    acd.next_due()                -> when to call tick next  #   roster hour)

    acd.hold(cb_id, skill, prio, arrival, now) -> [DialCallback…]  # virtual hold (a callback)
    acd.unhold(cb_id, now)        -> [DialCallback…]  # its place goes (unanswered, converted)
    acd.transfer(queue_call, now) -> [Connect…] | None  # the agent hands the call to a group

and carries out the actions: ``Connect`` — agent ``agent`` answers ``call_id`` now (the handle
time was drawn from the scenario, as the simulator draws it); ``Release`` — that agent ends
the call; ``DialCallback`` — a callback's virtual place reached the head of its line
(:mod:`queue_engine.virtual_hold`): dial the citizen, whose answered leg is offered with
``place=`` its original arrival; ``Transfer`` — at the end of his talk the agent escalated the
call (the scenario's ``escalation.share``, :mod:`queue_engine.escalation`): it now queues at
that group, whose agent's ``Connect`` follows. The rules are the simulator's (:mod:`queue_engine.event_loop`), read from the same
:class:`~queue_engine.model.Model`: priority first (security incidents top), FCFS within it, the
longest-idle qualified agent, a team that is not the best at a skill takes it only after
``routing.overflow_after`` under the ``overflow`` policy, a skill's ``overflow: {to, after}``
offers its waiting callers to the other group's agents after ``after`` seconds, roster cuts take
idle agents first and let busy ones finish, and at closing the agents on duty answer the callers
already queued. The :class:`~queue_engine.live.LiveCentre` queues are kept in step, so the EWT
the IVR announces is computed from the same state.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from queue_engine.live import LiveCentre, week_hour_origin
from queue_engine.live_figures import LiveFigures
from queue_engine.records import QueueCall
from queue_engine.variates import SkillDraws
from queue_engine.virtual_hold import DialCallback, VirtualHold, place_id

__all__ = ["Connect", "DialCallback", "LiveAcd", "Release", "Transfer", "routing_delays"]

IDLE, TALK, WRAP = 0, 1, 2
_TALK_END, _WRAP_END, _ELIGIBLE, _HOUR, _VCHECK, _ESCALATE = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True, slots=True)
class Connect:
    """Agent ``agent`` answers ``call_id`` at ``at`` after ``wait`` s; talks for ``talk`` s."""

    call_id: str
    agent: str
    skill: str
    at: float
    wait: float
    talk: float


@dataclass(frozen=True, slots=True)
class Release:
    """The agent ends the call (the caller's record: answered, ended now)."""

    call_id: str
    agent: str
    at: float


@dataclass(frozen=True, slots=True)
class Transfer:
    """Agent ``agent`` transferred ``call_id`` from ``from_skill`` to ``to_skill`` at ``at``;
    the caller now queues there (a ``Connect`` follows when a senior agent answers)."""

    call_id: str
    agent: str
    from_skill: str
    to_skill: str
    at: float


class _Agent:
    __slots__ = ("call", "leaving", "name", "since", "state", "team")

    def __init__(self, name: str, team: int, now: float) -> None:
        self.name, self.team, self.since = name, team, now
        self.state, self.call, self.leaving = IDLE, "", False


def routing_delays(model: Any) -> list[list[float | None]]:
    """[team][skill] seconds a caller must have waited before that team may take him; None =
    never. The simulator's rules: primary teams at once; under the ``overflow`` policy teams
    not the most proficient at a skill after ``policy_delay``; a skill's ``overflow.to`` group
    after ``overflow.after``."""
    prof = model.prof.tolist()
    G, T = len(model.skills), len(model.teams)
    ovf = model.policy == "overflow"
    out: list[list[float | None]] = [[None] * G for _ in range(T)]
    for g in range(G):
        best = max(p[g] for p in prof)
        for t in range(T):
            if prof[t][g] > 0:
                out[t][g] = float(model.policy_delay) if ovf and prof[t][g] < best else 0.0
        o = int(model.overflow_to[g])
        if o >= 0:
            after = float(model.overflow_after[g])
            for t in range(T):
                if prof[t][o] > 0 and prof[t][g] <= 0:
                    d = out[t][g]
                    out[t][g] = after if d is None else min(d, after)
    return out


class LiveAcd:
    """See the module docstring. ``wrap_s``: after-call work, part of the drawn handle time."""

    def __init__(self, centre: LiveCentre, *, seed: int = 0, wrap_s: float = 10.0,
                 figures: LiveFigures | None = None) -> None:
        m = centre.model
        self.centre, self.model, self.wrap_s = centre, m, wrap_s
        self.skills: list[str] = list(m.skills)
        self.g_of = {s: i for i, s in enumerate(self.skills)}
        self.prof = m.prof.tolist()
        self.staff = m.staff.tolist()
        self.delay = routing_delays(m)
        T, G = len(m.teams), len(self.skills)
        self.team_skills = [[(g, d) for g in range(G) if (d := self.delay[t][g]) is not None]
                            for t in range(T)]
        self.draws = SkillDraws(m, np.random.default_rng(seed).spawn(G))
        sc = centre.scenario
        self.holidays = frozenset(sc.centre.holidays) if sc is not None else frozenset()
        always = m.open_.all(axis=1)  # [G] skills answered every hour of the week
        self.round_the_clock = [bool(any(always[g] for g, _ in self.team_skills[t]))
                                for t in range(T)]
        self.figures = figures or LiveFigures(m)
        self.waiting: list[list[tuple[int, float, int, str]]] = [[] for _ in range(G)]
        self.calls: dict[str, tuple[int, int, float]] = {}  # call_id -> (skill, prio, joined)
        self.agents: dict[str, _Agent] = {}
        self.talking: dict[str, _Agent] = {}  # call id -> the agent on that call
        self.idle: list[deque[_Agent]] = [deque() for _ in range(T)]
        self.present = [0] * T
        self.target = [0] * T
        self.timers: list[tuple[float, int, int, Any]] = []
        self._seq = 0
        self._free_numbers: list[int] = []
        self._next_number = 1
        self.answered = self.abandoned = 0
        self.virtual = VirtualHold(G)  # callbacks' places in the lines (virtual hold)
        self.teams_for = [[t for t in range(T) if self.delay[t][g] is not None]
                          for g in range(G)]
        esc = m.meta.get("escalation")  # agents escalate a share of calls (a scenario section)
        self.escalate = ((float(esc["share"]), self.g_of[esc["to"]], int(esc["priority"]))
                         if esc and esc["to"] in self.g_of else None)
        self._esc_rng = np.random.default_rng([seed, 9])  # its own stream: others' draws stay
        self.transferred = 0

    # ---- driver API ------------------------------------------------------------------------
    def start(self, now: float) -> list[Connect | DialCallback]:
        """Log agents in by the roster of ``now``'s hour; the next hour is a timer."""
        return self._roster(now)

    def offer(self, call: QueueCall, now: float,
              place: float | None = None) -> list[Connect | DialCallback]:
        """A caller queues for ``call.skill`` (joined at ``call.arrival_time``); ``place``: the
        arrival time that orders him in the line when it is older (a callback's answered leg
        keeps the place its caller first had)."""
        g = self.g_of[call.skill]
        self.centre.join(call)
        self.calls[call.call_id] = (g, call.priority, call.arrival_time)
        self.figures.offered(g, now)
        self._seq += 1
        heapq.heappush(self.waiting[g], (-call.priority, call.arrival_time if place is None
                                         else place, self._seq, call.call_id))
        out: list[Connect | DialCallback] = []
        later = set()
        best: _Agent | None = None
        for t, row in enumerate(self.delay):
            d = row[g]
            if d is None:
                continue
            if d <= now - call.arrival_time:
                q = self.idle[t]
                if q and (best is None or q[0].since < best.since):
                    best = q[0]
            else:
                later.add(call.arrival_time + d)
        if best is not None:
            self._take(best, now, out)
        for at in later:
            self._push(at, _ELIGIBLE, call.call_id)
        return out

    def abandon(self, call_id: str, now: float) -> float | None:
        """The caller hung up while queued; returns how long he waited (None: not queued)."""
        item = self.calls.pop(call_id, None)
        if item is None:
            return None
        g, _, joined = item
        self.centre.leave(call_id, now)
        self.abandoned += 1
        self.figures.abandoned(g, now, now - joined)
        if self.virtual.lines[g]:  # a callback's place may now be at the head: next tick
            self._push(now, _VCHECK, g)
        return now - joined

    def hold(self, callback_id: int, skill: str, priority: int, arrival: float,
             now: float) -> list[DialCallback]:
        """A callback request takes its virtual place in ``skill``'s line (priority, the
        caller's original ``arrival``): no patience, never given to an agent; dialled when at
        the head (:mod:`queue_engine.virtual_hold`). Idempotent per ``callback_id``."""
        g = self.g_of[skill]
        if not self.virtual.add(callback_id, g, priority, arrival):
            return []
        self.centre.queues[skill].waiting[place_id(callback_id)] = (priority, arrival)  # EWT
        out: list[DialCallback] = []
        self._vcheck(g, now, out)
        return out

    def unhold(self, callback_id: int, now: float) -> list[DialCallback]:
        """The place goes (the dial went unanswered, the request was cancelled, or the
        answered leg is now a live caller); another place may then be at the head."""
        g = self.virtual.drop(callback_id)
        if g is None:
            return []
        self.centre.queues[self.skills[g]].waiting.pop(place_id(callback_id), None)
        out: list[DialCallback] = []
        self._vcheck(g, now, out)
        return out

    def transfer(self, call: QueueCall, now: float) -> list[Connect | DialCallback] | None:
        """The agent talking to ``call.call_id`` hands it to ``call.skill`` (a senior or
        specialised group): he goes to wrap-up now, the caller queues there with
        ``call.priority`` from ``call.arrival_time``. None: nobody is talking to that call."""
        agent = self.talking.pop(call.call_id, None)
        if agent is None:
            return None
        agent.state, agent.since = WRAP, now  # his pending talk-end timer no longer matches
        self._push(now + max(0.0, self.wrap_s), _WRAP_END, agent)
        self.transferred += 1
        for line in self.waiting:  # his answered entry may still sit in a line (lazy pops)
            if any(e[3] == call.call_id for e in line):
                line[:] = [e for e in line if e[3] != call.call_id]
                heapq.heapify(line)
        return self.offer(call, now)

    def held(self, callback_id: int) -> bool:
        return callback_id in self.virtual.places

    def virtual_count(self, g: int) -> int:
        """Callbacks holding a place in line ``g`` (ringing ones included)."""
        return self.virtual.count(g)

    def dialling_count(self, g: int) -> int:
        return self.virtual.ringing_count(g)

    def hang_up(self, call_id: str, now: float) -> list[Release]:
        """The caller ended the call while talking to an agent: the agent goes to wrap-up now
        (not at the end of the drawn handle time). Returns the release, if he was talking."""
        agent = self.talking.get(call_id)
        if agent is None:
            return []
        out: list[Release] = []
        self._talk_end(agent, now, out)
        return out

    def queued(self, call_id: str) -> bool:
        return call_id in self.calls

    def next_due(self) -> float:
        return self.timers[0][0] if self.timers else float("inf")

    def tick(self, now: float) -> list[Connect | Release | DialCallback]:
        """Everything due by ``now``, in time order (each at its own time)."""
        out: list[Connect | Release | DialCallback] = []
        while self.timers and self.timers[0][0] <= now:
            at, _, kind, x = heapq.heappop(self.timers)
            if kind == _TALK_END:
                agent, call_id = x
                if agent.state == TALK and agent.call == call_id:  # else: the caller left
                    self._talk_end(agent, at, out)
            elif kind == _WRAP_END:
                self._free(x, at, out)
            elif kind == _ELIGIBLE:
                self._eligible(x, at, out)
            elif kind == _VCHECK:
                self._vcheck(x, at, out)
            elif kind == _ESCALATE:
                self._escalate(x, at, out)
            else:
                out.extend(self._roster(at))
        self.figures.flush(now, self)
        return out

    def agent_counts(self, g: int) -> tuple[int, int, int]:
        """(available, on call, wrap-up) among agents qualified for skill ``g``."""
        a = c = w = 0
        for ag in self.agents.values():
            if self.prof[ag.team][g] > 0:
                if ag.state == IDLE:
                    a += 1
                elif ag.state == TALK:
                    c += 1
                else:
                    w += 1
        return a, c, w

    def longest_wait(self, g: int, now: float) -> float:
        heads = [j for (_, j, _, cid) in self.waiting[g] if cid in self.calls]
        return now - min(heads) if heads else 0.0

    def waiting_count(self, g: int) -> int:
        """Live callers waiting (callbacks' virtual places: :meth:`virtual_count`)."""
        return len(self.centre.queues[self.skills[g]].waiting) - self.virtual.count(g)

    # ---- internals -------------------------------------------------------------------------
    def _push(self, at: float, kind: int, x: Any) -> None:
        self._seq += 1
        heapq.heappush(self.timers, (at, self._seq, kind, x))

    def _head(self, g: int) -> tuple[int, float, int, str] | None:
        w = self.waiting[g]
        while w and w[0][3] not in self.calls:
            heapq.heappop(w)
        return w[0] if w else None

    def _best_call(self, t: int, now: float) -> tuple[int, str] | None:
        """The caller team ``t`` takes now: highest priority, then longest waiting."""
        best = None
        for g, d in self.team_skills[t]:
            h = self._head(g)
            if h is None or (d > 0 and now - h[1] < d):  # d 0: even one who joined
                continue  # after ``now`` (a timer handled late): answered on joining
            if best is None or (h[0], h[1]) < (best[0][0], best[0][1]):
                best = (h, g)
        return None if best is None else (best[1], best[0][3])

    def _take(self, agent: _Agent, now: float, out: list) -> bool:
        """``agent`` (idle) answers the best caller for his team, if any."""
        pick = self._best_call(agent.team, now)
        if pick is None:
            return False
        g, call_id = pick
        _, _, joined = self.calls.pop(call_id)
        # a timer handled late (the loop woke after it was due) meets a caller who joined after
        # it: he is answered on joining, never before (no negative wait)
        now = max(now, joined)
        self.idle[agent.team].remove(agent)
        p = self.prof[agent.team][g] or self.prof[agent.team][int(self.model.overflow_to[g])]
        handle = self.draws.service(g) / p
        wrap = min(self.wrap_s, handle / 2)
        agent.state, agent.call, agent.since = TALK, call_id, now
        self.centre.answer(call_id, now, agent.name)
        self.answered += 1
        self.figures.answered(g, now, now - joined, handle)
        esc = self.escalate
        if esc is not None and g != esc[1] and self._esc_rng.random() < esc[0]:
            self._push(now + handle - wrap, _ESCALATE, (agent, call_id, g))
        else:
            self._push(now + handle - wrap, _TALK_END, (agent, call_id))
        self.talking[call_id] = agent
        out.append(Connect(call_id, agent.name, self.skills[g], now, now - joined,
                           handle - wrap))
        if self.virtual.lines[g]:
            self._vcheck(g, now, out)
        return True

    def _vcheck(self, g: int, now: float, out: list) -> None:
        """Dial the callbacks whose virtual place is now at the head of line ``g``."""
        if not self.virtual.lines[g]:
            return
        h = self._head(g)
        agents = sum(self.present[t] for t in self.teams_for[g])
        for cid in self.virtual.due(g, None if h is None else (h[0], h[1]), agents):
            out.append(DialCallback(place_id(cid), cid, self.skills[g], now))

    def _escalate(self, x: tuple[_Agent, str, int], now: float, out: list) -> None:
        """The end of the first agent's talk: he transfers the call to the escalation group."""
        agent, call_id, g = x
        if agent.state != TALK or agent.call != call_id or self.escalate is None:
            return  # the caller left first
        _, g_to, prio = self.escalate
        to = self.skills[g_to]
        out.append(Transfer(call_id, agent.name, self.skills[g], to, now))
        qc = QueueCall(call_id=call_id, line="", region="", language="", skill=to,
                       priority=prio, identified=False, arrival_time=now)
        out.extend(self.transfer(qc, now) or [])

    def _talk_end(self, agent: _Agent, now: float, out: list) -> None:
        self.talking.pop(agent.call, None)
        out.append(Release(agent.call, agent.name, now))
        agent.state, agent.since = WRAP, now
        wrap = self.wrap_s
        self._push(now + max(0.0, wrap), _WRAP_END, agent)

    def _free(self, agent: _Agent, now: float, out: list) -> None:
        """After wrap-up: next caller, or home if the roster cut this agent."""
        t = agent.team
        for g, _ in self.team_skills[t]:
            self.centre.queues[self.skills[g]].agent_free(agent.name, now)
        agent.state, agent.call, agent.since = IDLE, "", now
        self.idle[t].append(agent)
        if agent.leaving and self.present[t] > self.target[t]:
            if self.target[t] == 0 and self._take(agent, now, out):
                return  # closing time: the agents on duty answer callers already queued
            self._logout(agent, now)
            return
        self._take(agent, now, out)

    def _eligible(self, call_id: str, now: float, out: list) -> None:
        item = self.calls.get(call_id)
        if item is None:
            return
        g, _, joined = item
        best: _Agent | None = None
        for t, row in enumerate(self.delay):
            d = row[g]
            if d is not None and d <= now - joined and self.idle[t]:
                a = self.idle[t][0]
                if best is None or a.since < best.since:
                    best = a
        if best is not None:
            self._take(best, now, out)

    def _roster(self, now: float) -> list[Connect | DialCallback]:
        origin = week_hour_origin(now, self.centre.tz)  # roster hours are the centre's local
        h = int((now - origin) // 3600)
        H = self.model.horizon_hours
        holiday = self._holiday(now)
        out: list[Connect | DialCallback] = []
        for t in range(len(self.present)):
            want = 0 if holiday and not self.round_the_clock[t] else int(self.staff[t][h % H])
            self.target[t] = want
            while self.present[t] < want:
                self.present[t] += 1
                agent = self._login(t, now)
                self._take(agent, now, out)
            extra = self.present[t] - want
            for agent in sorted(self.idle[t], key=lambda a: a.since):  # idle ones go first
                if extra <= 0:
                    break
                self._logout(agent, now)
                extra -= 1
            mine = [a for a in self.agents.values() if a.team == t]
            extra -= sum(a.leaving for a in mine)
            for agent in mine:  # busy ones finish their call first, then go
                if extra > 0 and not agent.leaving:
                    agent.leaving = True
                    extra -= 1
                elif extra < 0 and agent.leaving:  # the roster grew back: they stay
                    agent.leaving = False
                    extra += 1
        self._push(origin + (h + 1) * 3600.0, _HOUR, None)
        for g, line in enumerate(self.virtual.lines):  # agents came: callbacks may be dialled
            if line:
                self._vcheck(g, now, out)
        self.figures.flush(now, self)
        return out

    def _holiday(self, now: float) -> bool:
        """A public holiday of the centre's calendar: only 24/7 teams work (as the IVR says)."""
        if not self.holidays:
            return False
        return dt.datetime.fromtimestamp(now, self.centre.tz).date() in self.holidays

    def _login(self, t: int, now: float) -> _Agent:
        if self._free_numbers:
            n = heapq.heappop(self._free_numbers)
        else:
            n, self._next_number = self._next_number, self._next_number + 1
        agent = _Agent(f"agent-{n}", t, now)
        self.agents[agent.name] = agent
        self.idle[t].append(agent)
        for g, d in self.team_skills[t]:
            if d == 0:
                self.centre.queues[self.skills[g]].agent_login(agent.name, now)
        return agent

    def _logout(self, agent: _Agent, now: float) -> None:
        self.idle[agent.team].remove(agent)
        self.present[agent.team] -= 1
        del self.agents[agent.name]
        for g, _ in self.team_skills[agent.team]:
            self.centre.queues[self.skills[g]].agent_logout(agent.name, now)
        heapq.heappush(self._free_numbers, int(agent.name.split("-")[1]))
