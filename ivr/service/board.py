"""The live figures source (``LiveSource``) the dashboard and ``hotline stats`` read.

``snapshot()`` is JSON-able (the shape below is the interface the web app codes against);
``subscribe()`` yields a fresh snapshot on every change, coalesced to at most five a second
(and at least one a second, since waits grow while nothing happens). Queue figures come from
:mod:`queue_engine.live_figures` over the live ACD's own counts (ARCHITECTURE rule 8); this
module adds only what the IVR knows: calls in the IVR per line and region and the share it
served itself. "Today" is since local midnight for skills and lines with hours, the sliding
window of ``dialplans/dashboard.yaml`` for 24/7 ones.

    {"at": iso8601, "sl_definition": str,
     "groups": [{"skill", "name", "waiting", "virtual", "dialling", "longest_wait_s",
                 "agents": {"available", "on_call", "wrap_up"}, "ewt_s", "answered",
                 "abandoned", "short_abandoned", "service_level", "asa_s", "aht_s",
                 "abandon_rate", "occupancy"}],
     "lines": [{"line", "region", "in_ivr", "queued", "self_service_share"}],
     "callbacks": {"pending", "dialling", "completed"}}

``waiting`` counts live callers; ``virtual`` the callbacks holding a place in that line
(:mod:`queue_engine.virtual_hold`, counted in the EWT), ``dialling`` those of them ringing now.
``callbacks``: requests in the database by status (``pending`` waits for its place or its next
attempt, ``dialling`` is being called, ``completed`` was answered).
"""
from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Protocol

from ivr.service.acd import AcdService

SELF_SERVED = ("self_served",)


class LiveSource(Protocol):
    def snapshot(self) -> dict: ...
    def subscribe(self) -> AsyncIterator[dict]: ...


class _Tally:
    """Per (line, region): IVR results since midnight, and over a sliding window."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.day: dict[tuple[str, str], list[int]] = {}
        self.day_date: Any = None
        self.win: dict[tuple[str, str], list[int]] = {}
        self.events: deque[tuple[float, tuple[str, str], int]] = deque()

    def add(self, key: tuple[str, str], ts: float, local_date: Any, served: int) -> None:
        if local_date != self.day_date:
            self.day, self.day_date = {}, local_date
        for table in (self.day, self.win):
            row = table.setdefault(key, [0, 0])
            row[0] += served
            row[1] += 1
        self.events.append((ts, key, served))

    def prune(self, ts: float, local_date: Any) -> None:
        if local_date != self.day_date:
            self.day, self.day_date = {}, local_date
        while self.events and self.events[0][0] < ts - self.window_s:
            _, key, served = self.events.popleft()
            row = self.win[key]
            row[0] -= served
            row[1] -= 1


class LiveBoard:
    """See the module docstring. ``notify()`` after any change (the ACD service does)."""

    def __init__(self, acd: AcdService, dialplan: Any, *, min_interval: float = 0.2,
                 ewt_ttl: float = 1.0) -> None:
        self.service, self.dialplan = acd, dialplan
        self.acd = acd.acd
        self.figures = self.acd.figures
        self.clock = acd.clock
        self.min_interval, self.ewt_ttl = min_interval, ewt_ttl
        self.sessions: dict[str, Any] = {}
        self.tally = _Tally(self.figures.rules.window_s)
        self.callbacks = {"pending": 0, "dialling": 0, "completed": 0}
        self.retention: Any = None  # () -> the daily job's last/next run (serve sets it)
        skills = self.acd.centre.scenario.centre.skills
        self.names = {s: skills[s].name for s in self.acd.skills}
        self.always = {s: skills[s].always_open for s in self.acd.skills}
        self.line_always = {lid: all(day == ((0, 1440),) for day in ln.schedule.week)
                            for lid, ln in dialplan.lines.items()}
        self.version = 0
        self._event = asyncio.Event()
        self._cache: tuple[float, int, dict] | None = None
        self._ewt: dict[str, tuple[float, float | None]] = {}

    # ---- feeding ------------------------------------------------------------------------------
    def notify(self) -> None:
        self.version += 1
        ev, self._event = self._event, asyncio.Event()
        ev.set()

    def call_started(self, session: Any) -> None:
        self.sessions[session.call_id] = session

    def ivr_done(self, row: dict[str, Any]) -> None:
        """An IVR outcome row (queued calls move to the ACD's tickets)."""
        self.sessions.pop(row.get("call_id"), None)
        ended = row.get("ended_at")
        if isinstance(ended, datetime):
            key = (str(row.get("line") or "-"), str(row.get("region") or "-"))
            local = ended.astimezone(self.dialplan.tz)
            self.tally.add(key, ended.timestamp(), local.date(),
                           int(row.get("outcome") in SELF_SERVED))
        self.notify()

    # ---- reading ------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        mono = time.monotonic()
        if self._cache and self._cache[1] == self.version and mono - self._cache[0] < 0.2:
            return self._cache[2]
        snap = self._build()
        self._cache = (mono, self.version, snap)
        return snap

    async def subscribe(self) -> AsyncIterator[dict]:
        seen = -1
        while True:
            if self.version == seen:
                ev = self._event
                try:
                    await asyncio.wait_for(ev.wait(), 1.0)
                except TimeoutError:
                    pass
            seen = self.version
            yield self.snapshot()
            await asyncio.sleep(self.min_interval)

    def _build(self) -> dict:
        ts = self.clock.ts()
        now = datetime.fromtimestamp(ts, self.dialplan.tz)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        window = ts - self.figures.rules.window_s
        self.figures.flush(ts, self.acd)
        day_calls, day_agents = self.figures.totals(ts, midnight)
        win_calls, win_agents = self.figures.totals(ts, window)
        groups = []
        for g, skill in enumerate(self.acd.skills):
            calls, agents = ((win_calls, win_agents) if self.always[skill]
                             else (day_calls, day_agents))
            fig = self.figures.group(calls[g], agents[g])
            fig.pop("offered", None)
            a, c, w = self.acd.agent_counts(g)
            groups.append({"skill": skill, "name": self.names[skill],
                           "waiting": self.acd.waiting_count(g),
                           "virtual": self.acd.virtual_count(g),
                           "dialling": self.acd.dialling_count(g),
                           "longest_wait_s": round(self.acd.longest_wait(g, ts), 1),
                           "agents": {"available": a, "on_call": c, "wrap_up": w},
                           "ewt_s": self._ewt_of(skill, ts), **fig})
        self.tally.prune(ts, now.date())
        in_ivr: Counter[tuple[str, str]] = Counter()
        for s in self.sessions.values():
            route = s.route
            if route is not None and not s.done:
                in_ivr[(route.line, str(route.region))] += 1
        queued: Counter[tuple[str, str]] = Counter(
            (t.line or "-", t.region or "-") for t in self.service.tickets.values()
            if t.agent is None)
        keys = set(in_ivr) | set(queued) | set(self.tally.day) | set(self.tally.win)
        lines = []
        for key in sorted(keys):
            row = (self.tally.win if self.line_always.get(key[0]) else self.tally.day).get(
                key, [0, 0])
            lines.append({"line": key[0], "region": key[1], "in_ivr": in_ivr[key],
                          "queued": queued[key],
                          "self_service_share": round(row[0] / row[1], 4) if row[1] else None})
        return {"at": now.isoformat(), "sl_definition": self.figures.rules.definition,
                "groups": groups, "lines": lines, "callbacks": dict(self.callbacks),
                **({"retention": self.retention()} if self.retention is not None else {})}

    def _ewt_of(self, skill: str, ts: float) -> float | None:
        mono = time.monotonic()
        cached = self._ewt.get(skill)
        if cached is not None and mono - cached[0] < self.ewt_ttl:
            return cached[1]
        try:
            raw = float(self.acd.centre.expected_wait_new(skill, ts, priority=0))
            value: float | None = round(raw, 1) if math.isfinite(raw) else None
        except (ValueError, ZeroDivisionError, OverflowError):
            value = None
        self._ewt[skill] = (mono, value)
        return value

    async def poll_callbacks(self, factory: Any, stop: asyncio.Event,
                             every: float = 5.0) -> None:
        """Pending / completed callbacks from the database, read in a worker thread."""
        from sqlalchemy import func, select

        from ivr.call.callbacks import Callback

        def read() -> dict[str, int]:
            with factory() as db:
                rows = dict(db.execute(select(Callback.status, func.count(Callback.id))
                                       .group_by(Callback.status)).all())
            return {"pending": int(rows.get("pending", 0)),
                    "dialling": int(rows.get("dialling", 0)),
                    "completed": int(rows.get("done", 0))}

        while not stop.is_set():
            try:
                counts = await asyncio.to_thread(read)
                if counts != self.callbacks:
                    self.callbacks = counts
                    self.notify()
            except Exception:  # noqa: BLE001, S110 - the board shows the last known counts
                pass
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass


def load_figure_rules(directory: str, model: Any) -> Any:
    """``dialplans/dashboard.yaml`` → :class:`queue_engine.live_figures.FigureRules`
    (defaults when the file is absent: the centre's SL threshold, abandons counted)."""
    from pathlib import Path

    import yaml

    from queue_engine.live_figures import FigureRules

    path = Path(directory) / "dashboard.yaml"
    data: dict[str, Any] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping")
    sl = data.get("service_level") or {}
    known = {"service_level", "short_abandon_s", "window_minutes"}
    unknown = set(data) - known or set(sl) - {"threshold_s", "formula"}
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        return FigureRules(
            threshold_s=float(sl.get("threshold_s", model.sl_threshold)),
            formula=str(sl.get("formula", "answered_of_offered")),
            short_abandon_s=float(data.get("short_abandon_s", 5)),
            window_s=float(data.get("window_minutes", 60)) * 60.0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
