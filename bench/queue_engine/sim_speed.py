"""Simulated arrivals per second on M/M/50+M, side by side with SimPy and Ciw.

Run: .venv/bin/python bench/queue_engine/sim_speed.py [--arrivals 200000] [--reps 3]
     [--no-week]

The queue of the issue: c = 50, AHT 5 min, mean patience 10 min, ρ = 0.9
(λ = 9/min), 200,000 arrivals.  Our engine is timed twice on the same seeds:

* ``simulate()`` as called — it picks the exact Kiefer–Wolfowitz path for a single
  FCFS queue (the path it took is printed, from ``SimResult.path``);
* the general event loop forced (``fast=False``) — what multi-skill parts of a
  centre run (skill groups sharing agents, overflow).

SimPy and Ciw run in their own virtualenv (bench/queue_engine/.venv-peers, created on
first use with ``pip install simpy ciw``) so they never become project dependencies.
Best of ``--reps`` runs each.  Then the default week: one replication with each engine
choice, and the 30-replication forecast wall time (bench/queue_engine/forecast_week.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from queue_engine.erlang import erlang_a
from queue_engine.model import Model, mmc_model
from queue_engine.scenario import load_scenario
from queue_engine.sim import ABANDONED, simulate

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv-peers"
C, AHT, PAT, RHO = 50, 300.0, 600.0, 0.9


def peers_python() -> Path:
    py = PEERS / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "simpy", "ciw"], check=True)
    return py


def ours(n: int, fast: bool, reps: int) -> dict:
    lam = RHO * C / AHT
    hours = int(n / lam / 3600) + 1
    model = mmc_model(C, lam, AHT, PAT, hours=hours)
    best, res = float("inf"), None
    for r in range(reps):
        t = time.perf_counter()
        res = simulate(model, seed=r, fast=fast)
        best = min(best, time.perf_counter() - t)
    assert res is not None
    k = res.arrival.size
    return {"arrivals": k, "seconds": best, "rate": k / best, "path": res.path,
            "p_abandon": float(np.mean(res.outcome == ABANDONED)),
            "mean_wait": float(np.mean(res.wait))}


def week(reps: int) -> None:
    model = Model.from_scenario(load_scenario())
    print(f"\ndefault week ({len(model.skills)} skill groups), one replication, best of {reps}:")
    for fast in (True, False):
        best, res = float("inf"), None
        for r in range(reps):
            t = time.perf_counter()
            res = simulate(model, seed=r, fast=fast)
            best = min(best, time.perf_counter() - t)
        assert res is not None
        print(f"  {res.path:58s} {best:6.3f} s  ({res.arrival.size / best:9,.0f} attempts/s)")
    out = subprocess.run([sys.executable, str(HERE / "forecast_week.py"), "--repeat", "2"],
                         check=True, capture_output=True, text=True)
    print("  " + out.stdout.strip().replace("\n", "\n  "))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arrivals", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-week", action="store_true")
    args = ap.parse_args()
    lam = RHO * C / AHT
    exact = erlang_a(C, lam, 1 / AHT, 1 / PAT)
    fast = ours(args.arrivals, True, args.reps)
    general = ours(args.arrivals, False, args.reps)
    rows = {f"hotline simulate() [{fast['path']}]": fast,
            f"hotline forced [{general['path']}]": general}
    out = subprocess.run(
        [str(peers_python()), str(HERE / "peers.py"), str(C), str(lam), str(AHT), str(PAT),
         str(args.arrivals), str(args.arrivals), "1"],
        check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    peers = json.loads(out.stdout)
    rows["SimPy " + peers.get("simpy_version", "")] = peers["simpy"]
    rows["Ciw " + peers.get("ciw_version", "")] = peers["ciw"]
    simpy_rate, ciw_rate = peers["simpy"]["rate"], peers["ciw"]["rate"]
    print(f"M/M/{C}+M, rho={RHO}, AHT {AHT:g}s, patience {PAT:g}s, "
          f"{args.arrivals} arrivals; Erlang A P(ab)={exact.p_abandon:.4f}, "
          f"mean wait {exact.mean_wait:.2f}s; load avg {os.getloadavg()[0]:.2f}")
    print(f"{'engine':40s} {'arrivals/s':>12s} {'seconds':>8s} {'P(ab)':>7s} "
          f"{'x SimPy':>8s} {'x Ciw':>7s}")
    for name, r in rows.items():
        print(f"{name:40s} {r['rate']:12,.0f} {r['seconds']:8.3f} {r['p_abandon']:7.4f} "
              f"{r['rate'] / simpy_rate:8.1f} {r['rate'] / ciw_rate:7.1f}")
    print("goal: 25x SimPy and 50x Ciw")
    if not args.no_week:
        week(args.reps)


if __name__ == "__main__":
    main()
