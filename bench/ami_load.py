"""Emulated calls through the AsyncAGI bridge: events/s, latency, memory.

Default: 1,000 concurrent calls of a small stand-in IVR (``loadgen.MenuSession``). The AMI
emulator (a fake Asterisk speaking the transcripts' wire format) runs in a child process; the
bridge runs here on one event loop, so the latency is the bridge's own: from the read that
delivered an AGI result (or AsyncAGIStart) to the write of the call's next AGI action. Second
run: the AMI link is killed five times mid-load; every call must still end with exactly one
record.

``--rss N`` (issue 13 item 11: "RSS 85 → 330 MB over 20,000 calls and never released"): N calls
through the bridge as ``hotline serve --asterisk`` runs it — the real IVR sessions on a seeded
SQLite file, rows through the writer thread — and the process's resident memory (VmRSS) at 0,
N/4, N/2 and N finished calls, then after the last call and a full collection. ``--trace``
counts live objects by type at N/4 and N (tracemalloc slowed the bridge into AGI timeouts)
and prints the types that grew most.
Run: ``.venv/bin/python bench/ami_load.py [calls] | --rss 20000 [--rate 100] [--trace]``.
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import logging
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import structlog

from ivr.drivers.ami.loadgen import _emulator_child, run_split

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


async def rss_run(n: int, rate: float, trace: bool) -> None:
    from ivr.call.session import Hotline
    from ivr.call.writes import QueuedWrites
    from ivr.citizens import registry
    from ivr.drivers.ami.serve import build, stop_bridge
    from ivr.store.base import make_engine, session_factory
    from ivr.store.migrate import upgrade
    from ivr.store.writer import RecordWriter

    tmp = tempfile.mkdtemp(prefix="ami-rss-")
    url = f"sqlite:///{tmp}/rss.db"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as db:
        registry.seed(db, 20, today=date.today())
        db.commit()
    engine.dispose()
    hotline = Hotline.load("dialplans", db_url=url)
    writer = RecordWriter(hotline.services.factory)
    hotline.services = QueuedWrites(hotline.services, writer)

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_emulator_child, args=(child, n, n / rate, 0.1, 200, [], 1))
    proc.start()
    loop = asyncio.get_running_loop()
    port = await loop.run_in_executor(None, parent.recv)
    conn, bridge = build(f"ami://ivr:ivrsecret@127.0.0.1:{port}", hotline, writer=writer,
                         server_id="rss")
    ended = [0]
    on_end = bridge.on_call_end

    def count(rec: object) -> None:
        ended[0] += 1
        on_end(rec)

    bridge.on_call_end = count
    await conn.start()
    gc.collect()
    marks = [0, n // 4, n // 2, n]
    rows: list[tuple[str, float]] = []
    snaps: dict[int, Counter] = {}
    t0 = time.perf_counter()
    parent.send("go")
    seen, progress_at = 0, t0
    while marks and time.perf_counter() - progress_at < 120:  # stop after 2 min without a call
        if ended[0] > seen:
            seen, progress_at = ended[0], time.perf_counter()
        if ended[0] >= marks[0]:
            mark = marks.pop(0)
            rows.append((f"{mark:,} calls ended", _rss_mb()))
            if trace and mark in (n // 4, n):
                gc.collect()
                snaps[mark] = Counter(type(o).__qualname__ for o in gc.get_objects())
            print(f"  {rows[-1][0]:>22}: RSS {rows[-1][1]:6.1f} MB  ({len(bridge.calls)} in "
                  f"progress, writer backlog {writer.pending()}, "
                  f"{time.perf_counter() - t0:.0f} s)", flush=True)
            continue
        await asyncio.sleep(0.2)
    await stop_bridge(conn, bridge, writer, None)  # the emulator still answers its hang-ups
    parent.send("stop")
    await loop.run_in_executor(None, parent.recv)
    proc.join(10)
    gc.collect()
    print(f"  {'stopped, collected':>22}: RSS {_rss_mb():6.1f} MB  (rows written "
          f"{writer.written}, lost {writer.lost}, ended {ended[0]} of {n})")
    from sqlalchemy import select

    from ivr.store.models import Call

    with hotline.services.factory() as db:
        outcomes = Counter(db.scalars(select(Call.outcome)))
    print("  outcomes:", dict(outcomes.most_common()))
    if len(snaps) == 2:
        print("live objects (collector-tracked) that grew most between N/4 and N:")
        grew = snaps[n]
        grew.subtract(snaps[n // 4])
        for name, count in grew.most_common(8):
            print(f"  {count:+9d} {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("calls", type=int, nargs="?", default=1000)
    ap.add_argument("--rss", type=int, metavar="N", help="memory over N real IVR calls")
    ap.add_argument("--rate", type=float, default=100.0, help="calls/s placed (--rss)")
    ap.add_argument("--trace", action="store_true", help="tracemalloc diff (--rss)")
    args = ap.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    # real IVR sessions consent to recording: the bridge sends MixMonitor and adopts every file;
    # keep the emulator's spool and the encrypted store in a temporary tree (20,000 calls left
    # 2.9 GB under ./recordings before), counted in the figures, removed at exit
    rec = tempfile.mkdtemp(prefix="ami-bench-rec-")
    atexit.register(shutil.rmtree, rec, True)
    os.environ.setdefault("HOTLINE_MIXMONITOR_DIR", os.path.join(rec, "spool"))
    os.environ.setdefault("HOTLINE_RECORDINGS_DIR", os.path.join(rec, "store"))
    if args.rss:
        os.chdir(ROOT)
        os.environ.setdefault("HOTLINE_SECRET", "bench-secret-0123456789abcdef0123")
        print(f"{args.rss:,} calls through the AMI bridge and the real IVR "
              f"({args.rate:g} calls/s placed; load {os.getloadavg()[0]:.1f})", flush=True)
        asyncio.run(rss_run(args.rss, args.rate, args.trace))
        return
    n = args.calls
    res, emu = asyncio.run(run_split(n, ramp_s=1.0, time_scale=0.1))
    print("steady :", res.line())
    print("         emulator sent", emu["events_sent"], "events; end reasons", res.end_reasons)
    res, emu = asyncio.run(run_split(n, [0.5, 1.2, 2.0, 2.9, 3.5], ramp_s=1.0, time_scale=0.1))
    print(f"{res.drops_hit} drops:", res.line())
    print("         end reasons", res.end_reasons)
    ok = res.records == n and res.duplicates == 0 and res.missing == 0
    print("every call exactly one record:", "yes" if ok else "NO")


if __name__ == "__main__":
    sys.exit(main())
