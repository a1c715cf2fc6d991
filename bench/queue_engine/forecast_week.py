"""Wall time of the default week forecast: all skill groups, 30 replications.

Run: .venv/bin/python bench/queue_engine/forecast_week.py [--reps 30] [--repeat 3]

Includes loading and validating the YAML, the replications (spread over the cores) and
the per-hour statistics — what ``hotline forecast`` does, minus printing.  Prints the
best and median wall time, the work done, and the machine's load (other processes
sharing the 2 cores inflate the figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from queue_engine.forecast import run_forecast
from queue_engine.model import Model
from queue_engine.scenario import load_scenario
from queue_engine.sim import simulate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        model = Model.from_scenario(load_scenario())
        fc = run_forecast(model, reps=args.reps, seed=0)
        times.append(time.perf_counter() - t)
    offered = fc.summary.mean["offered"][:, -1].sum()
    print(f"week forecast, {len(model.skills)} skill groups, {args.reps} replications, "
          f"{os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}")
    print(f"  offered calls per simulated week: {offered:,.0f} "
          f"({offered * args.reps:,.0f} in all replications, plus retrials and callbacks)")
    print(f"  engine per replication: {simulate(model, seed=0).path}")
    print(f"  wall time: best {min(times):.2f} s, median {statistics.median(times):.2f} s "
          "(goal: < 5 s)")


if __name__ == "__main__":
    main()
