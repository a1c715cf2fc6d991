"""A call's database request while the writer thread writes outcome rows: SQLite's busy handler
against the process's write lock (``ivr.store.writer``), peers alternated in one process run.

``T`` request threads (the calls' pool) each run identification requests (a registry lookup
and an audit row, ``ivr.call.services.DbServices`` behind ``ivr.call.writes.QueuedWrites``)
back to back, while outcome rows arrive at ``--rows`` per second for the writer thread. Without
the lock a transaction that finds the file locked sleeps in SQLite's busy handler (1, 2, 5,
10 … 100 ms steps); with it, it waits in the process and wakes when the lock is released.
Figures: requests/s and request latency p50/p99/max; the writer's transactions. Run:
``.venv/bin/python bench/db_requests.py [--threads 4] [--rows 200] [--seconds 8] [--runs 3]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent


def one_run(url: str, people: list, threads: int, rows_per_s: float, seconds: float,
            serialize: bool, batch: int) -> dict[str, float]:
    from ivr.call import requests as io
    from ivr.call.services import DbServices
    from ivr.call.waits import FixedWait
    from ivr.call.writes import QueuedWrites
    from ivr.service.serve import _sqlite_for_serving
    from ivr.store import writer as w

    w.SERIALIZE, w.BATCH = serialize, batch
    inner = DbServices.from_url(url, FixedWait(60))
    _sqlite_for_serving(inner.factory.kw["bind"])
    writer = w.RecordWriter(inner.factory)
    services = QueuedWrites(inner, writer)
    stop = threading.Event()
    lat: list[float] = []
    now = datetime.now(UTC)

    def caller(k: int) -> None:
        i = 0
        while not stop.is_set():
            who = people[(k * 7 + i) % len(people)]
            call = SimpleNamespace(call_id=f"t{k}-{i}", caller=None, lang="ru")
            t0 = time.perf_counter()
            services.execute(call, io.Identify("snils", who.snils, who.birth_date), now)
            lat.append(time.perf_counter() - t0)
            i += 1

    def outcomes() -> None:
        i, t0 = 0, time.perf_counter()
        while not stop.is_set():
            due = int((time.perf_counter() - t0) * rows_per_s)
            while i < due:
                services.execute(None, io.RecordOutcome(
                    {"call_id": f"row-{i}", "outcome": "id_failed", "started_at": now,
                     "answered_at": now, "ended_at": now, "caller_number": "+79161234567"}),
                    now)
                i += 1
            time.sleep(0.005)

    workers = [threading.Thread(target=caller, args=(k,)) for k in range(threads)]
    workers.append(threading.Thread(target=outcomes))
    t0 = time.perf_counter()
    for t in workers:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in workers:
        t.join()
    wall = time.perf_counter() - t0
    writer.close(60)
    inner.factory.kw["bind"].dispose()
    lat.sort()
    return {"rps": len(lat) / wall, "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[int(len(lat) * 0.99)] * 1000, "max": lat[-1] * 1000,
            "rows": writer.written}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rows", type=float, default=200.0, help="outcome rows per second")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.chdir(ROOT)
    os.environ.setdefault("HOTLINE_SECRET", "bench-secret-0123456789abcdef0123")
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    from ivr.citizens import registry
    from ivr.store.base import make_engine, session_factory
    from ivr.store.migrate import upgrade

    modes = [("lock, 32-row batches", True, 32), ("busy handler, 500", False, 500),
             ("busy handler, 32", False, 32)]
    print(f"{args.threads} request threads, {args.rows:g} outcome rows/s, {args.seconds:g} s a "
          f"run; load {os.getloadavg()[0]:.1f}")
    print(f"{'mode':>22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'rows':>6}")
    got: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.runs):
        for name, serialize, batch in modes:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/db.db"
                engine = make_engine(url)
                upgrade(engine)
                with session_factory(engine)() as db:
                    people = registry.seed(db, 20)
                    db.commit()
                engine.dispose()
                r = one_run(url, people, args.threads, args.rows, args.seconds, serialize,
                            batch)
            got.setdefault(name, []).append(r)
            print(f"{name:>22} {r['rps']:>7.0f} {r['p50']:>7.2f} {r['p99']:>7.1f} "
                  f"{r['max']:>7.1f} {r['rows']:>6}", flush=True)
    for name, runs in got.items():
        print(f"median {name}: {statistics.median(r['rps'] for r in runs):.0f} req/s, p99 "
              f"{statistics.median(r['p99'] for r in runs):.1f} ms, max "
              f"{statistics.median(r['max'] for r in runs):.1f} ms")
    print(f"load {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
