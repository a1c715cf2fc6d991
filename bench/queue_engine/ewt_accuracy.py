"""How well each expected-wait predictor forecasts the wait callers then really had.

Run: .venv/bin/python bench/queue_engine/ewt_accuracy.py [--sample 3000] [--seed 1]

Two simulated scenarios: a stationary M/M/50+M at rho = 1 (queues always form) and the
default week (hourly arrivals and rosters, 14 skill groups, retrials, callbacks).
For a random sample of answered callers who had to wait, compare the realised wait with
* roster-aware QL (queue_engine.predict.ql_schedule — what LiveQueue announces),
* QL_m (Ibrahim & Whitt 2009) with the agents on duty at arrival,
* Asterisk app_queue (H <- (3H + w)/4 per answered call, announced as H),
* head-of-line delay (how long the first caller in line has waited).
Prints RMSE and bias (mean predicted - realised), in seconds, for all sampled callers and
for those who arrived within 30 min before a roster change of their skill.
"""

from __future__ import annotations

import argparse

import numpy as np

from queue_engine.model import Model, mmc_model
from queue_engine.predict import ql_m, ql_schedule
from queue_engine.scenario import load_scenario
from queue_engine.sim import ANSWERED, simulate, skill_staff


def evaluate(model: Model, seed: int, sample: int) -> dict[str, dict[str, tuple]]:
    res = simulate(model, seed=seed, trace=True)
    eff = skill_staff(model)
    ok = (res.outcome == ANSWERED) & ~res.callback & (res.wait > 0) & ~np.isnan(res.ahead)
    idx = np.nonzero(ok)[0]
    rng = np.random.default_rng(seed)
    if idx.size > sample:
        idx = np.sort(rng.choice(idx, sample, replace=False))
    preds: dict[str, list[float]] = {"roster-aware QL": [], "QL_m": [], "Asterisk": [],
                                     "head-of-line": []}
    near = []
    for i in idx:
        g = int(res.skill[i])
        t = float(res.arrival[i])
        h = min(int(t // 3600), model.horizon_hours - 1)
        aht, pat = float(model.aht_mean[g]), float(model.pat_mean[g])
        n = int(res.ahead[i])
        roster = eff[g].tolist()
        preds["roster-aware QL"].append(ql_schedule(n, t, roster, aht, pat))
        preds["QL_m"].append(ql_m(n, roster[h], aht, pat))
        preds["Asterisk"].append(float(res.asterisk_h[i]))
        preds["head-of-line"].append(float(res.hol[i]))
        nxt = roster[(h + 1) % len(roster)]
        near.append(nxt != roster[h] and (h + 1) * 3600 - t < 1800)
    actual = res.wait[idx]
    near_m = np.asarray(near)
    out = {}
    for name, p in preds.items():
        err = np.asarray(p) - actual
        out[name] = {
            "all": (float(np.sqrt(np.mean(err**2))), float(np.mean(err)), int(err.size)),
            "near change": (float(np.sqrt(np.mean(err[near_m] ** 2))) if near_m.any() else
                            float("nan"), float(np.mean(err[near_m])) if near_m.any() else
                            float("nan"), int(near_m.sum())),
        }
    out["_mean_wait"] = float(np.mean(actual))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cases = {
        "stationary M/M/50+M, rho=1.0": mmc_model(50, 10 / 60, 300, 600, hours=48),
        "default week (hourly-varying)": Model.from_scenario(load_scenario()),
    }
    for title, model in cases.items():
        r = evaluate(model, args.seed, args.sample)
        print(f"\n{title}: realised mean wait {r.pop('_mean_wait'):.1f} s")
        print(f"{'predictor':18s} {'RMSE':>8s} {'bias':>8s} {'n':>6s} | "
              f"{'RMSE*':>8s} {'bias*':>8s} {'n*':>5s}   (* = arrived <30 min before a "
              "roster change)")
        for name, d in r.items():
            a, b = d["all"], d["near change"]
            print(f"{name:18s} {a[0]:8.1f} {a[1]:8.1f} {a[2]:6d} | {b[0]:8.1f} {b[1]:8.1f} "
                  f"{b[2]:5d}")


if __name__ == "__main__":
    main()
