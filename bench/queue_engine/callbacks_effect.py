"""What callbacks do to the live line: the scenario with callbacks as configured and with
callbacks off, same seeds, side by side (issue 9: "the simulator models callbacks, so the
forecast shows their effect").

    .venv/bin/python bench/queue_engine/callbacks_effect.py [--reps 12] [--seed 0]
        [--scenario FILE] [--json]

Per day of the week and for the peak hour (the working hour with the most calls offered),
for each variant (mean over replications ± 95 % CI half-width): calls offered to the live
line, answered, abandoned % (of answered + abandoned, as the forecast counts it), ASA, SL,
callbacks requested (in-hours offers accepted plus after-hours requests, counted in the hour
they enter the line) and completed, how many callers left the live line for a callback, and
calls served (answered live + callbacks completed).
"Off" is the same model with ``callbacks.accept`` and ``callbacks.after_hours_request`` at 0
(the SPEC §3 offer is never made). The differences (on − off) are paired by seed. Figures
come from the simulator and :func:`queue_engine.stats.hour_stats` — the forecast's own
definitions (ARCHITECTURE rule 8).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from queue_engine.model import Model
from queue_engine.results import ANSWERED
from queue_engine.scenario import DAYS, load_scenario
from queue_engine.sim import simulate
from queue_engine.stats import hour_stats

FIGURES = ("offered", "answered", "abandon_pct", "asa_s", "sl_pct", "cb_requested",
           "cb_completed", "left_line", "served")


def callbacks_off(model: Model) -> Model:
    """The same centre where no caller is offered (or leaves) a callback."""
    return replace(model, cb_accept=0.0, cb_after_hours=0.0, meta={**model.meta})


def hourly_counts(model: Model, seed: int) -> dict[str, np.ndarray]:
    """One replication: per week hour, the counts the figures are made of (whole centre)."""
    res = simulate(model, seed=seed)
    v = hour_stats(model, res).values
    H = model.horizon_hours
    ans = v["answered"][:, -1]
    cb = res.callback
    hcb = np.minimum((res.arrival[cb] // 3600).astype(np.int64), H - 1)
    done = res.outcome[cb] == ANSWERED
    return {
        "offered": v["offered"][:, -1], "answered": ans, "abandoned": v["abandoned"][:, -1],
        "left_line": v["callbacks"][:, -1],
        "cb_requested": np.bincount(hcb, minlength=H).astype(float),
        "cb_completed": np.bincount(hcb[done], minlength=H).astype(float),
        "asa_sum": np.nan_to_num(v["asa"][:, -1]) * ans,
        "sl_sum": np.nan_to_num(v["sl"][:, -1]) * ans,
    }


def figures(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Counts summed over a period → the figures (ratios of sums, not means of ratios)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "offered": c["offered"], "answered": c["answered"],
            "abandon_pct": 100 * c["abandoned"] / (c["answered"] + c["abandoned"]),
            "asa_s": c["asa_sum"] / c["answered"], "sl_pct": 100 * c["sl_sum"] / c["answered"],
            "cb_requested": c["cb_requested"], "cb_completed": c["cb_completed"],
            "left_line": c["left_line"], "served": c["answered"] + c["cb_completed"],
        }


def by_period(c: dict[str, np.ndarray], peak: int) -> dict[str, dict[str, np.ndarray]]:
    """Periods: each day (sum of its 24 hours), the whole week, the peak hour."""
    out = {}
    for d, day in enumerate(DAYS):
        out[day] = figures({k: x[d * 24:(d + 1) * 24].sum() for k, x in c.items()})
    out["week"] = figures({k: x.sum() for k, x in c.items()})
    out["peak"] = figures({k: x[peak] for k, x in c.items()})
    return out


def mean_ci(xs: list[float]) -> tuple[float, float]:
    """Mean and 95 % half-width (Student t) over replications."""
    from scipy.special import stdtrit

    a = np.asarray(xs, dtype=float)
    a = a[~np.isnan(a)]
    if a.size < 2:
        return (float(a.mean()) if a.size else float("nan")), float("nan")
    return float(a.mean()), float(stdtrit(a.size - 1, 0.975) * a.std(ddof=1) / np.sqrt(a.size))


def compare(model: Model, reps: int = 12, seed: int = 0) -> dict:
    """Both variants over seeds ``seed..seed+reps-1``; per period and figure: on, off and the
    paired difference (on − off), each as (mean, 95 % half-width)."""
    on_runs = [hourly_counts(model, seed + r) for r in range(reps)]
    off_model = callbacks_off(model)
    off_runs = [hourly_counts(off_model, seed + r) for r in range(reps)]
    mean_off = np.mean([r["offered"] for r in on_runs], axis=0)
    wh = np.nonzero(model.open_.any(axis=0))[0]
    peak = int(wh[np.argmax(mean_off[wh])])
    on = [by_period(r, peak) for r in on_runs]
    off = [by_period(r, peak) for r in off_runs]
    out: dict = {"reps": reps, "seed": seed, "peak_week_hour": peak,
                 "peak": f"{DAYS[peak // 24]} {peak % 24:02d}:00", "periods": {}}
    for p in on[0]:
        out["periods"][p] = {f: {
            "on": mean_ci([r[p][f] for r in on]), "off": mean_ci([r[p][f] for r in off]),
            "diff": mean_ci([a[p][f] - b[p][f] for a, b in zip(on, off, strict=True)]),
        } for f in FIGURES}
    return out


def _fmt(f: str, m: float, h: float) -> str:
    if np.isnan(m):
        return "—"
    if f in ("asa_s",):
        return f"{m:.0f}±{h:.0f}" if not np.isnan(h) else f"{m:.0f}"
    if f.endswith("_pct"):
        return f"{m:.2f}±{h:.2f}" if not np.isnan(h) else f"{m:.2f}"
    return f"{m:.0f}±{h:.0f}" if not np.isnan(h) else f"{m:.0f}"


def print_table(res: dict, name: str) -> None:
    heads = {"offered": "offered", "answered": "answered", "abandon_pct": "aband %",
             "asa_s": "ASA s", "sl_pct": "SL %", "cb_requested": "cb req",
             "cb_completed": "cb done", "left_line": "left line", "served": "served"}
    print(f"{name}: callbacks as configured (on) vs off, {res['reps']} replications "
          f"(seeds {res['seed']}..{res['seed'] + res['reps'] - 1}), mean ± 95 % CI; "
          f"peak hour = {res['peak']}")
    print(f"{'period':8} {'':4} " + " ".join(f"{heads[f]:>12}" for f in FIGURES))
    for p, per in res["periods"].items():
        for v in ("on", "off", "diff"):
            label = p if v == "on" else ""
            cells = " ".join(f"{_fmt(f, *per[f][v]):>12}" for f in FIGURES)
            print(f"{label:8} {v:4} {cells}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sc = load_scenario(args.scenario)
    model = Model.from_scenario(sc)
    t0 = time.perf_counter()
    res = compare(model, reps=args.reps, seed=args.seed)
    took = time.perf_counter() - t0
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print_table(res, sc.name)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"({2 * args.reps} simulated weeks in {took:.1f} s, load average {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
