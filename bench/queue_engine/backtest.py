"""Week-ahead backtest: fit on past simulated weeks, forecast the next, score on held-out records.

Run: .venv/bin/python bench/queue_engine/backtest.py [--weeks 6] [--history 3] [--reps 10]
     [--dispersion 0.08] [--seed 0]

The "world" is the default scenario (optionally over-dispersed: a day-level gamma factor of
CV ``--dispersion`` on every skill's volume) simulated for WEEKS consecutive weeks from
2026-10-19, holidays closed.  For each week k ≥ HISTORY: `fit` on the records of the HISTORY
weeks before it, forecast week k (REPS replications), and compare with week k's records by
hour, through :func:`queue_engine.report.hourly` (what `hotline report hourly` prints).
Working hours only; a holiday's hours are left out (the week forecast does not know them).

Printed per held-out week and overall: WAPE of hourly volume (Σ|actual − forecast| /
Σ actual), mean absolute error and bias of the hourly ASA (s), for the fitted forecast and
for the *oracle* forecast from the true scenario — the floor set by the world's own noise.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np

from queue_engine.fit import fit_scenario
from queue_engine.forecast import run_forecast, working_hours
from queue_engine.model import Model
from queue_engine.records import calendar_model, from_simulation
from queue_engine.report import hourly
from queue_engine.scenario import load_scenario, scenario_from_mapping, with_dispersion
from queue_engine.sim import simulate

MONDAY = dt.date(2026, 10, 19)


def score(rec, week_start: dt.date, centre, fc, hours: set[int]) -> dict[str, float]:
    va, vf, wa, wf = [], [], [], []
    for d in range(7):
        day = week_start + dt.timedelta(days=d)
        if day in centre.holidays:
            continue
        for r in hourly(rec, day, centre, fc)["rows"]:
            if d * 24 + r["hour"] not in hours or not r["actual"] or not r["forecast"]:
                continue
            a, f = r["actual"], r["forecast"]
            va.append(a["offered"])
            vf.append(f["offered"] or 0.0)
            if a["asa"] is not None and f["asa"] is not None:
                wa.append(a["asa"])
                wf.append(f["asa"])
    va, vf, wa, wf = map(np.asarray, (va, vf, wa, wf))
    return {"wape": float(np.abs(va - vf).sum() / va.sum()),
            "asa_mae": float(np.abs(wa - wf).mean()), "asa_bias": float((wf - wa).mean()),
            "asa_mean": float(wa.mean()), "hours": int(va.size)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weeks", type=int, default=6)
    ap.add_argument("--history", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--dispersion", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sc = load_scenario()
    sc = with_dispersion(sc, args.dispersion)
    true_model = Model.from_scenario(sc)
    hol = [d for d in sc.centre.holidays if MONDAY <= d < MONDAY + dt.timedelta(7 * args.weeks)]
    world = calendar_model(true_model, MONDAY, args.weeks, hol)
    rec = from_simulation(world, simulate(world, seed=args.seed), MONDAY, sim_seed=args.seed)
    oracle = run_forecast(true_model, reps=args.reps, seed=10_000)
    hours = set(working_hours(true_model))
    print(f"backtest: default scenario{f' (dispersion cv {args.dispersion})' if args.dispersion else ''}"
          f", {args.weeks} weeks from {MONDAY}, fit on {args.history} weeks, forecast "
          f"{args.reps} reps; holidays {', '.join(map(str, hol)) or 'none'}")
    print(f"{'held-out week':14s} {'WAPE fit':>9s} {'WAPE oracle':>12s} {'ASA MAE fit':>12s} "
          f"{'ASA MAE oracle':>15s} {'ASA bias fit':>13s} {'actual ASA':>11s} {'hours':>6s}")
    tot: dict[str, list] = {"fit": [], "oracle": []}
    for k in range(args.history, args.weeks):
        start = MONDAY + dt.timedelta(weeks=k)
        fit = fit_scenario(rec, sc.centre, sc, since=start - dt.timedelta(weeks=args.history),
                           until=start - dt.timedelta(days=1))
        fitted = scenario_from_mapping(fit.scenario, sc.centre)
        fc = run_forecast(Model.from_scenario(fitted), reps=args.reps, seed=20_000 + k)
        s_fit = score(rec, start, sc.centre, fc, hours)
        s_or = score(rec, start, sc.centre, oracle, hours)
        tot["fit"].append(s_fit)
        tot["oracle"].append(s_or)
        print(f"{start!s:14s} {100 * s_fit['wape']:8.1f}% {100 * s_or['wape']:11.1f}% "
              f"{s_fit['asa_mae']:11.1f}s {s_or['asa_mae']:14.1f}s {s_fit['asa_bias']:+12.1f}s "
              f"{s_fit['asa_mean']:10.1f}s {s_fit['hours']:6d}")
    for name in ("fit", "oracle"):
        w = [s["wape"] for s in tot[name]]
        m = [s["asa_mae"] for s in tot[name]]
        b = [s["asa_bias"] for s in tot[name]]
        print(f"overall {name:7s}: WAPE of hourly volume {100 * np.mean(w):.1f}% "
              f"(weeks {100 * min(w):.1f}–{100 * max(w):.1f}%), hourly ASA mean abs error "
              f"{np.mean(m):.1f} s, bias {np.mean(b):+.1f} s")
    ratio = np.mean([s["wape"] for s in tot["fit"]]) / np.mean([s["wape"] for s in tot["oracle"]])
    print(f"fitted/oracle WAPE ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
