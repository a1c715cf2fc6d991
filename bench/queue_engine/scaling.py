"""How the multi-skill engine scales: wall time and peak memory against arrivals, agents and
skill groups.

Run: .venv/bin/python bench/queue_engine/scaling.py [--big] [--engine compiled|python]

Three tables, one axis varied at a time, each point in a fresh process (so peak memory
is that run's alone):

* arrivals 10⁴ … 10⁶ (10⁷ with ``--big``: ~1 GB, a minute on the Python engine) on the
  benchmark's centre — two skills, two teams of 25 both answering both, ρ = 0.9;
* agents 10 … 5,000 on the same two-skill centre, 10⁶ arrivals, ρ = 0.9;
* skill groups 1 … 40, 500 agents in as many teams, team k answering skills k and k+1
  (a ring, so every skill shares agents with two others and the centre is one part),
  10⁶ arrivals, ρ = 0.9.

Memory: the peak resident set of the process (VmHWM) minus its size just before the
run, after imports and the kernel's compilation — what the run itself allocates,
inputs and the result included; per arrival in its own column.  Time: wall seconds and
the CPU seconds of the process (the rate uses CPU time: other sessions on the shared
cores inflate the wall time of a single run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

AHT, PAT, RHO = 300.0, 600.0, 0.9


def centre(agents: int, skills: int, arrivals: int):
    """``skills`` skill groups and as many teams sharing ``agents``, ρ = 0.9, horizon for
    about ``arrivals`` calls.  Two or more skills: team k answers skills k and k+1."""
    from queue_engine.model import mmc_model

    lam = RHO * agents / AHT
    hours = max(1, round(arrivals / lam / 3600))
    one = mmc_model(agents, lam, AHT, PAT, hours=hours)
    if skills == 1:
        return one
    G = skills
    prof = np.zeros((G, G))
    for k in range(G):
        prof[k, k] = prof[k, (k + 1) % G] = 1.0
    heads = np.full(G, agents // G)
    heads[: agents % G] += 1
    return replace(
        one, skills=[f"s{g}" for g in range(G)], teams=[f"t{g}" for g in range(G)],
        lam=np.full((G, hours), lam / G), staff=np.repeat(heads[:, None], hours, axis=1),
        prof=prof, priority=np.ones(G, dtype=np.int64), aht_mean=np.full(G, AHT),
        aht_cv=np.ones(G), pat_mean=np.full(G, PAT), pat_cv=np.ones(G),
        open_=np.ones((G, hours), dtype=bool), overflow_to=np.full(G, -1),
        overflow_after=np.zeros(G), meta={},
    )


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def point(agents: int, skills: int, arrivals: int, engine: str) -> dict:
    """One run, in this (fresh) process."""
    from queue_engine.sim import simulate

    kw = {} if engine == "compiled" else {"engine": "python", "fast": False}
    simulate(centre(agents, skills, 2000), seed=1, **kw)  # compile / load, warm up
    model = centre(agents, skills, arrivals)
    base = _rss("VmRSS")
    t, cpu = time.perf_counter(), time.process_time()
    res = simulate(model, seed=0, **kw)
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = _rss("VmHWM") - base
    n = int(res.arrival.size)
    return {"arrivals": n, "seconds": dt, "cpu": cpu, "peak_mb": peak / 2**20, "bytes_per": peak / n,
            "path": res.path, "abandon": float((res.outcome == 1).mean())}


def run_point(agents: int, skills: int, arrivals: int, engine: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--point", str(agents), str(skills),
                          str(arrivals), engine], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def table(title: str, rows: list[tuple[int, int, int]], engine: str) -> None:
    print(f"\n{title}")
    print(f"{'arrivals':>11s} {'agents':>7s} {'skills':>6s} {'seconds':>8s} {'CPU s':>7s} "
          f"{'arr/s (CPU)':>11s} {'peak MB':>8s} {'B/arrival':>9s} {'P(ab)':>6s}")
    for agents, skills, arrivals in rows:
        r = run_point(agents, skills, arrivals, engine)
        print(f"{r['arrivals']:11,d} {agents:7d} {skills:6d} {r['seconds']:8.2f} {r['cpu']:7.2f} "
              f"{r['arrivals'] / r['cpu']:11,.0f} {r['peak_mb']:8.1f} "
              f"{r['bytes_per']:9.0f} {r['abandon']:6.3f}", flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--point":
        a, s, n = (int(x) for x in sys.argv[2:5])
        print(json.dumps(point(a, s, n, sys.argv[5])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="include 10^7 arrivals")
    ap.add_argument("--engine", choices=["compiled", "python"], default="compiled")
    args = ap.parse_args()
    import os

    print(f"engine: {args.engine}; load avg {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    sizes = [10**4, 10**5, 10**6] + ([10**7] if args.big else [])
    table("arrivals (two skills, two shared teams of 25)", [(50, 2, n) for n in sizes],
          args.engine)
    table("agents (two skills, two shared teams, 10^6 arrivals)",
          [(a, 2, 10**6) for a in (10, 50, 200, 1000, 5000)], args.engine)
    table("skill groups (ring of shared teams, 500 agents, 10^6 arrivals)",
          [(500, g, 10**6) for g in (1, 2, 5, 10, 20, 40)], args.engine)


if __name__ == "__main__":
    main()
