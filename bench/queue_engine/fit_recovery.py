"""Does `hotline fit` recover a known scenario?  Recovered vs true, with the tests' tolerances.

Run: .venv/bin/python bench/queue_engine/fit_recovery.py [--weeks 4] [--seeds 3] [--dispersion 0.1]

The simulator writes call records (the calls table's columns) for the default scenario over
WEEKS weeks from 2026-10-26 (4 November, a public holiday, closed); the fit sees records only
(and the roster).  Printed per quantity: true value, recovered (mean and worst over seeds),
worst relative or absolute error, the tolerance tests/queue_engine/test_fit.py states.
``--dispersion`` makes the truth over-dispersed (a day-level gamma factor of that CV on every
skill) to check the dispersion estimate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from queue_engine.fit import fit_scenario
from queue_engine.model import Model
from queue_engine.records import calendar_model, from_simulation
from queue_engine.scenario import DAYS, load_scenario, with_dispersion
from queue_engine.sim import simulate

MONDAY = dt.date(2026, 10, 26)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--dispersion", type=float, default=0.0)
    args = ap.parse_args()
    sc = load_scenario()
    sc = with_dispersion(sc, args.dispersion)
    hol = [d for d in sc.centre.holidays if MONDAY <= d < MONDAY + dt.timedelta(7 * args.weeks)]
    model = calendar_model(Model.from_scenario(sc), MONDAY, args.weeks, hol)
    menus = {s: s for s in sc.centre.skills}  # the branch label: main:<skill>:<skill>
    shares = {"status": 0.35, "tax": 0.2}
    rows: dict[str, list] = {}

    def add(key: str, true: float, got: float, tol: float, rel: bool) -> None:
        rows.setdefault(key, [true, [], tol, rel])[1].append(got)

    t_fit = []
    for seed in range(args.seeds):
        rec = from_simulation(model, simulate(model, seed=seed), MONDAY, menus=menus,
                              self_service=shares, seed=seed, sim_seed=seed)
        t0 = time.perf_counter()
        fit = fit_scenario(rec, sc.centre, sc)
        t_fit.append(time.perf_counter() - t0)
        a, f = fit.scenario["arrivals"], fit.figures
        for sid, vol in sc.arrivals.daily_calls.items():
            for d in ("mon", "sat"):
                add(f"calls/day {sid} {d}", vol * sc.arrivals.days[d],
                    a["daily_calls"][sid] * a["days"][d], 0.06, True)
            sk = sc.centre.skills[sid]
            add(f"AHT mean {sid}", sk.aht.mean, f["aht"][sid]["mean"], 0.05, True)
            add(f"AHT cv {sid}", sk.aht.cv, f["aht"][sid]["cv"], 0.08, False)
            add(f"patience mean {sid}", sk.patience.mean, f["patience"][sid]["mean"], 0.15, True)
            add(f"naive mean of abandoned waits {sid} (not used)", sk.patience.mean,
                f["patience"][sid]["naive_mean_of_abandoned_waits"], float("nan"), True)
            if args.dispersion:
                add(f"dispersion cv {sid}", args.dispersion, f["dispersion"][sid]["cv"], 0.08,
                    False)
        add("retrial probability", sc.retrials.probability,
            fit.scenario["retrials"]["probability"], 0.05, False)
        for k in range(2):
            for j, side in enumerate(("low", "high")):
                add(f"retrial delay {k + 1} {side} s", sc.retrials.delays[k][j],
                    fit.scenario["retrials"]["delays"][k][j], 0.05, True)
        add("callback acceptance", sc.callbacks.accept, fit.scenario["callbacks"]["accept"],
            0.06, False)
        add("after-hours callback request", sc.callbacks.after_hours_request,
            fit.scenario["callbacks"]["after_hours_request"], 0.04, False)
        for sid, share in shares.items():
            add(f"self-service share {sid}", share,
                f["self_service"][f"main:{menus[sid]}:{sid}"], 0.04, False)
        if not args.dispersion:
            rej = sum(d["cv"] > 0 for d in f["dispersion"].values())
            add("skills where Poisson was rejected (of 14)", 0, rej, float("nan"), False)
    print(f"fit recovery: default scenario, {args.weeks} weeks from {MONDAY} "
          f"({len(rec)} records in the last run), {args.seeds} seeds; fit "
          f"{np.median(t_fit):.1f} s median; days {', '.join(DAYS)}")
    print(f"{'quantity':58s} {'true':>9s} {'mean':>9s} {'worst':>9s} {'error':>8s} {'tol':>6s}")
    bad = 0
    for key, (true, got, tol, rel) in rows.items():
        got = np.asarray(got, dtype=float)
        err = np.abs(got / true - 1) if rel and true else np.abs(got - true)
        worst = got[int(np.argmax(err))]
        e = float(err.max())
        mark = "" if np.isnan(tol) else (" ok" if e <= tol else " MISS")
        bad += mark == " MISS"
        es = f"{100 * e:6.1f}%" if rel else f"{e:8.3f}"
        ts = "" if np.isnan(tol) else (f"{100 * tol:4.0f}%" if rel else f"{tol:6.2f}")
        print(f"{key:58s} {true:9.3f} {got.mean():9.3f} {worst:9.3f} {es:>8s} {ts:>6s}{mark}")
    print(f"outside tolerance: {bad} of {sum(not np.isnan(r[2]) for r in rows.values())}")


if __name__ == "__main__":
    main()
