"""``hotline demo``: the default scenario's calls through the real IVR machine and live ACD.

Arrivals come from the scenario exactly as the simulator draws them
(:func:`queue_engine.variates.arrivals`: Poisson by hour and skill), caller patience from its
``patience`` distributions (:class:`queue_engine.variates.SkillDraws`), handle times from the
ACD's agents. Each caller is a driver like the console: it dials a hotline number (federal or
a regional line), hears the prompts (``PROMPT_S`` simulated seconds each), answers each question
by the machine's state — the menu keys that lead to its skill (found by walking
``dialplans/menus.yaml``), a seeded citizen's SNILS and birth date when asked to identify
(some get it wrong), the one-time code from the embedded outbox — and once queued waits until
an agent answers or its patience runs out. A share of callers only check an application's
status (self-service) or hang up in the menu. Time runs ``speed`` times faster than real.

Every wake-up measures its *event→action latency*: how late the loop woke for the event plus
the time to compute the IVR's (and ACD's) answer — the bench's p99.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import structlog

from ivr.call.protocol import CallerHangup, Collect, Digits, Enqueue, NoInput, Play

log = structlog.get_logger("ivr.service.demo")
PROMPT_S = 3.0  # simulated seconds a prompt takes (as the console assumes)
THINK_S = 2.0  # a caller's pause before keying
# Machine states whose answer makes the session query the database (identification, codes,
# application status, callbacks): the demo caller feeds those from a worker thread.
DB_STATES = frozenset({"ID_NUMBER", "ID_BIRTH", "ID_INN", "CODE_ENTRY", "APP_NUMBER",
                       "LONG_WAIT", "AFTER_HOURS", "TICKET_NUMBER", "CALLBACK_CONFIRM",
                       "CALLBACK_NUMBER", "CALLBACK_PENDING"})


# fictitious citizens the demo callers identify as: enough that the per-account budget of
# one-time codes (SPEC §6: 5 an hour) is not what a demo hour shows
DEMO_CITIZENS = 200


@dataclass
class DemoStats:
    placed: int = 0
    finished: int = 0
    queued: int = 0
    answered: int = 0
    abandoned: int = 0
    latencies: list[float] = field(default_factory=list)
    db_latencies: list[float] = field(default_factory=list)  # events that query the database
    work: list[float] = field(default_factory=list)  # computing the answer alone (no lateness)
    active: int = 0
    peak_active: int = 0

    def p(self, q: float, db: bool = False) -> float:
        data = self.db_latencies if db else self.latencies
        return float(np.percentile(data, q)) * 1000 if data else 0.0


@dataclass(frozen=True)
class Caller:
    at: float  # simulated epoch seconds
    did: str
    caller: str
    skill: str
    keys: tuple[str, ...]  # menu keys to the skill ("" = self-service status check)
    patience: float
    citizen: Any = None
    wrong_id: bool = False
    hang_up_in_menu: bool = False
    self_service: bool = False  # checks an application's status and hangs up
    accepts_callback: bool = False  # when offered one (expected wait over the limit)


def skill_paths(menus: Any, menu_id: str = "main", operator: str = "general",
                emergency: str = "security") -> dict[str, tuple[str, ...]]:
    """Shortest key sequence from a menu to each skill's queue (the data decides, not code)."""
    paths: dict[str, tuple[str, ...]] = {operator: ("0",)}
    todo = [(menu_id, ())]
    seen = set()
    while todo:
        mid, prefix = todo.pop(0)
        if mid in seen:
            continue
        seen.add(mid)
        for key, item in menus.menu(mid).items.items():
            action = getattr(item, "action", None)
            if action == "queue" and item.skill not in paths:
                paths[item.skill] = (*prefix, key)
            elif action == "emergency" and emergency not in paths:
                paths[emergency] = (*prefix, key)
            elif action == "menu":
                todo.append((item.menu, (*prefix, key)))
            elif action == "status" and "" not in paths:
                paths[""] = (*prefix, key)
    return paths


def plan_calls(svc: Any, start: float, duration_s: float, *, seed: int = 0,
               self_service: float = 0.15, menu_hangup: float = 0.04,
               wrong_id: float = 0.1, scale: float = 1.0) -> list[Caller]:
    """The callers of ``[start, start + duration_s)`` (simulated epoch seconds)."""
    from ivr.citizens.registry import fictitious_citizens
    from queue_engine.live import week_hour_origin
    from queue_engine.variates import SkillDraws, arrivals

    model = svc.centre.model
    rng = np.random.default_rng(seed)
    if scale != 1.0:
        from dataclasses import replace

        model = replace(model, lam=model.lam * scale)
    t, g = arrivals(model, rng)
    origin = week_hour_origin(start, svc.centre.tz)  # the scenario's hours are the centre's local
    lo, hi = start - origin, start - origin + duration_s
    pick = (t >= lo) & (t < hi)
    t, g = t[pick] + origin, g[pick]
    draws = SkillDraws(svc.centre.model, rng.spawn(len(model.skills)))
    paths = skill_paths(svc.hotline.menus)
    people = fictitious_citizens(DEMO_CITIZENS)
    dids = [(n.e164, n.line) for n in svc.hotline.dialplan.numbers.values()
            if n.line in ("federal", "regional")]
    weights = np.array([3.0 if line == "federal" else 1.0 for _, line in dids])
    out = []
    for ts, gi in zip(t.tolist(), g.tolist()):
        skill = model.skills[gi]
        u = rng.random(5)
        served = bool(u[0] < self_service)
        if served:
            keys, skill_ = paths.get("", ("2",)), "status"
        else:
            keys, skill_ = paths.get(skill, ("0",)), skill
        did = dids[int(rng.choice(len(dids), p=weights / weights.sum()))][0]
        out.append(Caller(ts, did, f"+7916{int(rng.integers(1_000_000, 9_999_999))}", skill_,
                          tuple(keys), draws.patience(gi), people[int(rng.integers(0, 20))],
                          wrong_id=bool(u[1] < wrong_id),
                          hang_up_in_menu=bool(u[2] < menu_hangup), self_service=served,
                          accepts_callback=bool(u[3] < model.cb_accept)))
    return out


class DemoCaller:
    """One scripted caller driving a :class:`ivr.call.session.CallSession`."""

    db_in_thread = True  # False: database requests on the loop, as the SIP driver runs them

    def __init__(self, svc: Any, spec: Caller, stats: DemoStats) -> None:
        self.svc, self.spec, self.stats = svc, spec, stats
        self.keys: Iterator[str] = iter(spec.keys)
        self.session: Any = None

    async def _sleep(self, sim_s: float) -> float:
        """Sleep ``sim_s`` simulated seconds; returns how late the loop woke (s)."""
        loop = asyncio.get_running_loop()
        delay = self.svc.clock.real(sim_s)
        target = loop.time() + delay
        await asyncio.sleep(delay)
        return max(0.0, loop.time() - target)

    def _measure(self, late: float, t0: float, db: bool = False) -> None:
        work = time.perf_counter() - t0
        value = late + work
        self.stats.latencies.append(value)
        self.stats.work.append(work)
        if db:
            self.stats.db_latencies.append(value)

    async def run(self) -> None:
        st = self.stats
        st.placed += 1
        st.active += 1
        st.peak_active = max(st.peak_active, st.active)
        try:
            await self._run()
        except asyncio.CancelledError:
            if self.session is not None and not self.session.done:
                self.session.fail(self.svc.clock.now(), "service stopped")
            raise
        finally:
            st.active -= 1
            st.finished += 1

    async def _run(self) -> None:
        clock = self.svc.clock
        t0 = time.perf_counter()
        self.session = s = self.svc.hotline.new_call(did=self.spec.did, caller=self.spec.caller)
        commands = s.start(clock.now())
        self._measure(0.0, t0)
        while True:
            talk = sum(len(c.prompts) for c in commands if isinstance(c, Play | Collect))
            enqueue = next((c for c in commands if isinstance(c, Enqueue)), None)
            collect = next((c for c in commands if isinstance(c, Collect)), None)
            if enqueue is not None:  # the last prompts play while the caller already queues
                await self._queue(enqueue)
                return
            if s.done or collect is None:
                return
            late = await self._sleep(talk * PROMPT_S + THINK_S)
            state = s.machine.state.name if s.machine else ""
            event = await self._answer(collect)
            t0 = time.perf_counter()
            db = state in DB_STATES
            if db and self.db_in_thread:  # registry, codes, applications: off the event loop
                commands = await asyncio.to_thread(s.feed, event, clock.now())
            else:
                commands = s.feed(event, clock.now())
            self._measure(late, t0, db)

    async def _answer(self, collect: Collect) -> Any:
        state = self.session.machine.state.name if self.session.machine else ""
        spec = self.spec
        who = spec.citizen
        if state == "MENU":
            key = next(self.keys, None)
            if key is None or spec.hang_up_in_menu:
                return CallerHangup("demo caller left the menu")
            return Digits(key)
        if state == "LANGUAGE":
            return Digits("1")
        if state == "ID_DOCUMENT":
            return Digits("1")
        if state == "ID_NUMBER":
            return Digits("11111111145" if spec.wrong_id else who.snils)
        if state == "ID_BIRTH":
            return Digits(who.birth_date.strftime("%d%m%Y"))
        if state == "ID_INN":
            return Digits(who.inn)
        if state == "CODE_ENTRY":
            code = await asyncio.to_thread(self._dev_code)
            return Digits(code) if code else CallerHangup("no code")
        if state == "APP_NUMBER":
            return Digits(who.applications[0][0]) if who.applications else NoInput()
        if state == "APP_NEXT":  # self-service ends here (silence); the rest ask for an agent
            return NoInput() if spec.self_service and spec.patience > 300 else Digits("0")
        if state == "LONG_WAIT":
            return Digits("1" if spec.accepts_callback else "2")
        if state in ("CALLBACK_CONFIRM", "CALLBACK_PENDING"):  # the number is right / keep it
            return Digits("1")
        return CallerHangup("demo caller done")

    def _dev_code(self) -> str | None:
        from ivr.citizens.sms import list_outbox

        factory = self.svc.factory
        with factory() as db:
            rows = list_outbox(db, self.svc.clock.now(), call_id=self.session.call_id, limit=1)
            db.commit()
        return rows[0].dev_code if rows else None

    async def _queue(self, enqueue: Enqueue) -> None:
        st = self.stats
        st.queued += 1
        ticket = self.svc.acd.enqueue(self.session, enqueue)
        try:
            await asyncio.wait_for(asyncio.shield(ticket.answered),
                                   self.svc.clock.real(self.spec.patience))
        except TimeoutError:
            late = 0.0
            t0 = time.perf_counter()
            self.svc.acd.hangup(self.session.call_id, "patience")
            self._measure(late, t0)
            st.abandoned += 1
            return
        except (asyncio.CancelledError, ConnectionAbortedError):
            if not ticket.done:
                self.svc.acd.hangup(self.session.call_id, "demo stopped")
            raise
        st.answered += 1
        try:
            await ticket.released
        except (asyncio.CancelledError, ConnectionAbortedError):
            pass


def endless(svc: Any, start: float, *, seed: int = 0, scale: float = 1.0,
            chunk_s: float = 6 * 3600.0) -> Iterator[Caller]:
    """The scenario's callers from ``start`` on, planned six simulated hours at a time."""
    i = 0
    while True:
        yield from plan_calls(svc, start + i * chunk_s, chunk_s, seed=seed + i, scale=scale)
        i += 1


async def generate(svc: Any, callers: Iterable[Caller], stop: asyncio.Event,
                   stats: DemoStats | None = None) -> DemoStats:
    """Start each caller at its simulated arrival time until ``stop`` or the list runs out;
    then wait for the callers still in progress (stopping cancels them: each still gets its
    outcome row from the session or the ACD service)."""
    stats = stats or DemoStats()
    tasks: set[asyncio.Task] = set()
    clock = svc.clock
    # the fictitious callers read their one-time codes from the embedded outbox: a demo shows
    # codes in clear (`hotline serve` alone keeps none unless HOTLINE_SMS_DEV_CODES=1)
    svc.hotline.services.gateway.reveal_codes = True
    dialler = getattr(svc, "callbacks", None)
    if dialler is not None and dialler.outbound is None:  # no SIP route: virtual citizens
        from ivr.service.virtual_citizens import VirtualCitizens  # answer our callbacks

        dialler.use(VirtualCitizens(svc.acd, seed=getattr(svc.opts, "seed", 0)))
        log.info("callbacks.virtual_citizens", note="the demo's fictitious citizens answer "
                 "the callbacks (no SIP outbound route)")
    for spec in callers:
        if stop.is_set():
            break
        delay = clock.until(spec.at)
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except TimeoutError:
                pass
        task = asyncio.create_task(DemoCaller(svc, spec, stats).run())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await _wait_all_or_stop(tasks, stop)
    for task in list(tasks):
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    return stats


async def _wait_all_or_stop(tasks: set[asyncio.Task], stop: asyncio.Event) -> None:
    while tasks and not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass
