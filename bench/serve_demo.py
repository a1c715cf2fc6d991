"""``hotline demo`` at full speed: calls/s through the IVR + live ACD on one core, p99 event→action.

The same process ``hotline demo`` runs — real IVR sessions (routing, menus, identification with
one-time codes, application status, the outcome row through the writer thread), the live ACD
with virtual agents on the default scenario's roster, the live board (snapshot built 5×/s as a
dashboard subscriber would) — with no SIP and no web server, pinned to one CPU core. Traffic is
the scenario's Monday lunchtime, volume multiplied by ``--scale`` so that about ``--target``
calls are in progress at once (in the IVR, queued or talking), replayed at ``--speed``.

*event→action latency*: for every caller event (call start, keys, hang-up from patience) how
late the loop woke for it plus the time the IVR and ACD took to answer it ("work": that time
alone, which other processes on a shared machine do not inflate). ``--peer`` alternates each
run with one as before ``ivr.store.writer``'s changes — no in-process SQLite write lock,
500-row writer batches, the default 5 ms GIL switch interval — so both see the same load. Run:
``.venv/bin/python bench/serve_demo.py [--speed 60] [--scale 8] [--minutes 20] [--peer]
[--runs 3]``.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import tempfile
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

START = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))


async def one_run(db_url: str, speed: float, scale: float, minutes: float,
                  switch: float | None = None) -> dict:
    from ivr.citizens.registry import seed
    from ivr.service.demo import DemoStats, generate, plan_calls
    from ivr.service.serve import Options, Service

    svc = Service(Options(db_url=db_url, sip=False, web=False, speed=speed, start=START,
                          forecast=False, live_file=os.path.join(os.path.dirname(
                              db_url.removeprefix("sqlite:///")), "live.json")))
    await svc.start()
    if switch is not None:  # the peer: the interpreter's default GIL switch interval
        import sys

        sys.setswitchinterval(switch)
    with svc.factory.begin() as db:
        seed(db, today=START.date())
    callers = plan_calls(svc, svc.clock.ts(), minutes * 60.0, seed=1, scale=scale)
    stats = DemoStats()
    snaps = 0

    async def dashboard() -> None:  # a subscriber: snapshots as the web app would take them
        nonlocal snaps
        async for _ in svc.board.subscribe():
            snaps += 1

    watcher = asyncio.create_task(dashboard())
    cpu0, t0 = time.process_time(), time.perf_counter()
    gen = asyncio.create_task(generate(svc, callers, svc.stop_event, stats))
    await asyncio.sleep(svc.clock.real(minutes * 60.0))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    svc.acd.closing = True
    svc.acd.close("bench over")
    svc.stop_event.set()
    await gen
    watcher.cancel()
    summary = await svc.stop()
    db_values = set(stats.db_latencies)  # once, not per event
    return {"speed": speed, "scale": scale, "calls": stats.placed, "wall": wall, "cpu": cpu,
            "peak": stats.peak_active, "p50": stats.p(50), "p99": stats.p(99),
            "p999": stats.p(99.9), "events": len(stats.latencies), "db_p99": stats.p(99, True),
            "work_p99": float(np.percentile(stats.work or [0], 99)) * 1000,
            "loop_p99": float(np.percentile(
                [x for x in stats.latencies if x not in db_values] or [0], 99)
            ) * 1000, "answered": stats.answered,
            "abandoned": stats.abandoned, "rows": summary["rows_written"],
            "lost": summary["lost"], "snapshots": snaps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", type=float, nargs="*", default=[20.0, 60.0])
    ap.add_argument("--scale", type=float, default=8.0)
    ap.add_argument("--minutes", type=float, default=20.0, help="simulated minutes per run")
    ap.add_argument("--db-on-loop", action="store_true",
                    help="run the callers' database requests on the event loop")
    ap.add_argument("--peer", action="store_true",
                    help="alternate with runs without the write lock, 500-row batches")
    ap.add_argument("--runs", type=int, default=1, help="runs per speed (and per mode)")
    args = ap.parse_args()
    from ivr.service.demo import DemoCaller
    from ivr.store import writer

    DemoCaller.db_in_thread = not args.db_on_loop
    from ivr.logs import configure_logging
    from ivr.store.base import make_engine
    from ivr.store.migrate import upgrade

    configure_logging("json", logging.WARNING)  # an info line per call would dominate
    os.environ.setdefault("HOTLINE_SECRET", "bench-secret-0123456789abcdef")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(f"hotline demo at full speed, one core; Monday 12:00, volume x{args.scale:g}, "
          f"{args.minutes:g} simulated minutes per run; database requests "
          f"{'on the loop' if args.db_on_loop else 'in worker threads'}")
    print(f"{'mode':>6} {'load':>5} {'speed':>6} {'calls':>6} {'calls/s':>8} {'CPU ms/call':>11} {'peak conc.':>10} "
          f"{'events':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} {'work p99':>8} "
          f"{'no-DB p99':>9} "
          f"{'DB p99':>7} {'answered':>8} "
          f"{'abandoned':>9} {'rows':>6} {'lost':>4} {'snaps':>5}")
    modes = [("now", True, writer.BATCH, None), ("before", False, 500, 0.005)] if args.peer \
        else [("now", writer.SERIALIZE, writer.BATCH, None)]
    p99s: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for speed, _, (mode, serialize, batch, switch) in ((sp, i, m) for sp in args.speed
                                               for i in range(args.runs) for m in modes):
        writer.SERIALIZE, writer.BATCH = serialize, batch
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(make_engine(url))
            r = asyncio.run(one_run(url, speed, args.scale, args.minutes, switch))
        p99s.setdefault((mode, speed), []).append((r["db_p99"], r["loop_p99"]))
        print(f"{mode:>6} {load:>5.1f} {r['speed']:>6g} {r['calls']:>6} {r['calls'] / r['wall']:>8.1f} "
              f"{1000 * r['cpu'] / max(r['calls'], 1):>11.2f} {r['peak']:>10} "
              f"{r['events']:>7} {r['p50']:>7.2f} {r['p99']:>7.2f} {r['p999']:>8.2f} "
              f"{r['work_p99']:>8.2f} {r['loop_p99']:>9.2f} {r['db_p99']:>7.2f} "
              f"{r['answered']:>8} {r['abandoned']:>9} {r['rows']:>6} {r['lost']:>4} "
              f"{r['snapshots']:>5}", flush=True)
    for (mode, speed), values in p99s.items():
        db = sorted(v[0] for v in values)
        no_db = sorted(v[1] for v in values)
        print(f"{mode:>6} speed {speed:g}: median DB p99 {db[len(db) // 2]:.1f} ms, median no-DB "
              f"p99 {no_db[len(no_db) // 2]:.1f} ms over {len(values)} runs")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS {rss:.0f} MB; goal: 1,000 concurrent calls with p99 < 20 ms")


if __name__ == "__main__":
    main()
