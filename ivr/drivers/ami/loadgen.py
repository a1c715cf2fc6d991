"""Load and fault runs: N emulated calls through the real bridge (load test + bench/ami_load.py).

The emulator can run in this process (tests: simple, deterministic) or in a child process
(benchmark: the bridge's loop then measures only its own work, as it would next to a real
Asterisk). Every run checks the one invariant that matters on a 24/7 hotline: each call ends
with exactly one record, whatever happens to the AMI link.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ivr.call.protocol import (
    CallerHangup,
    Collect,
    Digits,
    DriverError,
    Enqueue,
    Hangup,
    NoInput,
    Play,
    SetVar,
)
from ivr.drivers.ami.agimap import AgiConfig
from ivr.drivers.ami.bridge import Bridge, CallInfo, CallRecord
from ivr.drivers.ami.connection import AMIConnection
from ivr.drivers.ami.emulator import AMIEmulator, CallerScript


@dataclass
class MenuSession:
    """A small IVR honouring ``ivr.call.protocol``: greeting, 1-key menu; 1 → 4-digit number →
    status; 2 → queue ``test``; silence twice → goodbye. Stands in for ``ivr.call.session`` so the
    load figures measure the bridge, not the menus."""

    info: CallInfo
    fed: list[Any] = field(default_factory=list)
    outcome: str | None = None
    misses: int = 0
    state: str = "menu"
    boom_on: str | None = None  # raise on this Digits value (isolation tests)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def start(self, now) -> list:
        return [SetVar("HOTLINE_CALL", self.info.call_id), Play(("greeting",), "ru"),
                Collect(("menu",), "ru", 1, 5.0)]

    def fail(self, now, detail: str) -> list:
        if self.outcome is None:
            self.outcome = "error"
        return []

    def feed(self, ev, now) -> list:
        self.fed.append(ev)
        if self.outcome is not None:
            return []
        if isinstance(ev, CallerHangup):
            self.outcome = "abandoned_ivr"
            return []
        if isinstance(ev, DriverError):
            self.outcome = "error"
            return [Hangup("error")]
        if isinstance(ev, Digits) and self.boom_on is not None and ev.digits == self.boom_on:
            raise RuntimeError("machine bug")
        if isinstance(ev, NoInput):
            self.misses += 1
            if self.misses >= 2:
                self.outcome = "no_input"
                return [Play(("goodbye",), "ru", False), Hangup("no_input")]
            return [Collect(("repeat",), "ru", 1 if self.state == "menu" else 4, 5.0)]
        if self.state == "menu":
            if ev.digits == "1":
                self.state = "number"
                return [Collect(("enter_number",), "ru", 4, 5.0)]
            if ev.digits == "2":
                self.outcome = "queued"
                return [Play(("connecting",), "ru"), Enqueue("test", 1)]
            self.outcome = "other"
            return [Play(("goodbye",), "ru"), Hangup("normal")]
        self.outcome = f"status:{ev.digits}"
        return [Play(("status_ok", "goodbye"), "ru", False), Hangup("normal")]


def caller_scripts(n: int, seed: int = 1) -> list[CallerScript]:
    """A reproducible mix: 60% status by number, 20% queue, 10% silence, 10% hang up early."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.6:
            out.append(CallerScript(presses=["1", f"{rnd.randrange(10000):04d}"]))
        elif r < 0.8:
            out.append(CallerScript(presses=["2"]))
        elif r < 0.9:
            out.append(CallerScript(presses=[None, None]))
        else:
            out.append(CallerScript(presses=[None], hangup_after_commands=rnd.randint(1, 3)))
    return out


@dataclass
class LoadResult:
    calls: int
    records: int
    duplicates: int
    missing: int
    elapsed_s: float
    events_in: int
    events_per_s: float
    actions_out: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    rss_mb: float
    connects: int
    end_reasons: dict[str, int]
    cpu_s: float = 0.0
    drops_hit: int = 0

    def line(self) -> str:
        return (f"calls={self.calls} records={self.records} dup={self.duplicates} "
                f"missing={self.missing} elapsed={self.elapsed_s:.1f}s "
                f"events={self.events_in} ({self.events_per_s:,.0f}/s) "
                f"p50={self.p50_ms:.2f}ms p99={self.p99_ms:.2f}ms max={self.max_ms:.1f}ms "
                f"rss={self.rss_mb:.0f}MB cpu={self.cpu_s:.2f}s "
                f"({100 * self.cpu_s / max(self.elapsed_s, 1e-9):.0f}% of one core) "
                f"connects={self.connects}")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def _emu_kwargs(time_scale: float) -> dict[str, Any]:
    return {"time_scale": time_scale, "prompt_s": 2.0}


async def _place(emu: AMIEmulator, scripts: list[CallerScript], ramp_s: float) -> None:
    gap = ramp_s / max(1, len(scripts))
    for i, sc in enumerate(scripts):
        emu.place_call(callerid=f"79{i:09d}", script=sc)
        if gap and i % 20 == 19:
            await asyncio.sleep(gap * 20)


async def _drops(emu: AMIEmulator, at: list[float], hits: list[int]) -> None:
    t0 = time.monotonic()
    for when in at:
        await asyncio.sleep(max(0.0, when - (time.monotonic() - t0)))
        if await emu.drop_connections():
            hits.append(1)


def _setup_emulator(emu: AMIEmulator, agents: int) -> None:
    emu.add_queue("hotline-test", [f"agent{i}" for i in range(agents)], ring_s=2.0, talk_s=5.0)


async def _bridge_side(port: int, n: int, timeout: float,
                       events: str = "system,call,agi,dtmf,agent") -> tuple[Bridge,
                                                                           list[CallRecord],
                                                                           AMIConnection]:
    conn = AMIConnection("127.0.0.1", port, "ivr", "ivrsecret", events=events,
                         backoff_initial=0.05, backoff_max=0.5, action_timeout=30)
    records: list[CallRecord] = []
    bridge = Bridge(conn, MenuSession, on_call_end=records.append, server_id="load",
                    agi=AgiConfig(queue_timeout_s=30))
    await conn.start()
    return bridge, records, conn


async def _wait(records: list, n: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while len(records) < n and time.monotonic() < end:
        await asyncio.sleep(0.05)


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _result(n: int, records: list[CallRecord], bridge: Bridge, conn: AMIConnection,
            elapsed: float, rss0: float, cpu0: float = 0.0, drops_hit: int = 0) -> LoadResult:
    ids = Counter(r.uniqueid for r in records)
    dup = sum(c - 1 for c in ids.values() if c > 1)
    missing = n - len(ids)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lat = bridge.latencies
    return LoadResult(
        calls=n, records=len(records), duplicates=dup, missing=missing, elapsed_s=elapsed,
        events_in=conn.messages_in, events_per_s=conn.messages_in / max(elapsed, 1e-9),
        actions_out=sum(r.commands for r in records), p50_ms=_pct(lat, 0.5),
        p99_ms=_pct(lat, 0.99), max_ms=max(lat, default=0) * 1000, rss_mb=rss,
        connects=conn.connects, end_reasons=dict(Counter(r.end_reason for r in records)),
        cpu_s=_cpu() - cpu0, drops_hit=drops_hit)


async def run_inprocess(n: int = 1000, drops: list[float] | None = None, *, ramp_s: float = 1.0,
                        time_scale: float = 0.1, timeout: float = 60.0, agents: int = 100,
                        seed: int = 1) -> LoadResult:
    """Emulator and bridge on one event loop (the load/fault test)."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    async with AMIEmulator(**_emu_kwargs(time_scale)) as emu:
        _setup_emulator(emu, agents)
        bridge, records, conn = await _bridge_side(emu.port, n, timeout)
        t0, cpu0, hits = time.perf_counter(), _cpu(), []
        tasks = [asyncio.create_task(_place(emu, caller_scripts(n, seed), ramp_s))]
        if drops:
            tasks.append(asyncio.create_task(_drops(emu, drops, hits)))
        await _wait(records, n, timeout)
        elapsed = time.perf_counter() - t0
        for t in tasks:
            t.cancel()
        await conn.wait_ready(10)  # a drop just before the end: let the reconnect finish
        res = _result(n, records, bridge, conn, elapsed, rss0, cpu0, len(hits))
        await bridge.close()
        await conn.close()
    return res


def _emulator_child(pipe, n: int, ramp_s: float, time_scale: float, agents: int,
                    drops: list[float], seed: int) -> None:
    async def main() -> None:
        async with AMIEmulator(**_emu_kwargs(time_scale)) as emu:
            _setup_emulator(emu, agents)
            pipe.send(emu.port)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, pipe.recv)  # "go"
            tasks = [asyncio.create_task(_place(emu, caller_scripts(n, seed), ramp_s))]
            hits: list[int] = []
            if drops:
                tasks.append(asyncio.create_task(_drops(emu, drops, hits)))
            await loop.run_in_executor(None, pipe.recv)  # "stop"
            pipe.send({"events_sent": emu.events_sent, "finished": len(emu.finished),
                       "drops_hit": len(hits)})
    asyncio.run(main())


async def run_split(n: int = 1000, drops: list[float] | None = None, *, ramp_s: float = 1.0,
                    time_scale: float = 0.1, timeout: float = 120.0, agents: int = 100,
                    seed: int = 1) -> tuple[LoadResult, dict[str, Any]]:
    """Emulator in a child process, bridge here (the benchmark)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_emulator_child,
                       args=(child, n, ramp_s, time_scale, agents, drops or [], seed))
    proc.start()
    loop = asyncio.get_running_loop()
    try:
        port = await loop.run_in_executor(None, parent.recv)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        bridge, records, conn = await _bridge_side(port, n, timeout)
        t0, cpu0 = time.perf_counter(), _cpu()
        parent.send("go")
        await _wait(records, n, timeout)
        elapsed = time.perf_counter() - t0
        await conn.wait_ready(10)
        res = _result(n, records, bridge, conn, elapsed, rss0, cpu0)
        parent.send("stop")
        emu_stats = await loop.run_in_executor(None, parent.recv)
        res.drops_hit = emu_stats["drops_hit"]
        await bridge.close()
        await conn.close()
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    return res, emu_stats
