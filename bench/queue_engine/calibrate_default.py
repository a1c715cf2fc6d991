"""Write the roster of dialplans/scenarios/gosuslugi.yaml so every hour lands in its band.

Run: .venv/bin/python bench/queue_engine/calibrate_default.py [--rounds 12] [--reps 8]

Why a script and not code in the package: the roster is data a planner owns; this is
how the shipped one was made (Erlang A for the middle of each band, then fluid-model
corrections n ← n·exp(θ·(ASA_sim − target)) from simulation until every hour is in band).
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np
import yaml

from queue_engine.forecast import run_forecast
from queue_engine.model import Model
from queue_engine.scenario import DAYS, Scenario, default_scenario_path
from queue_engine.staffing import Target, agents_needed

UNIVERSAL = {"skills": {"general": 1.0, "account": 0.85, "status": 0.9, "payments": 0.85},
             "weekday": (8, 20, 6), "sat": (9, 18, 4)}


def build(data: dict, roster: np.ndarray, skills: list[str]) -> Scenario:
    teams = {}
    for g, sid in enumerate(skills):
        teams[sid] = {"skills": {sid: 1.0},
                      "roster": {day: roster[g, d * 24:(d + 1) * 24].tolist()
                                 for d, day in enumerate(DAYS)}}
    uni = {day: [0] * 24 for day in DAYS}
    for d, day in enumerate(DAYS):
        spec = UNIVERSAL["weekday"] if d < 5 else UNIVERSAL.get(day)
        if spec:
            a, b, n = spec
            uni[day][a:b] = [n] * (b - a)
    teams["universal"] = {"skills": UNIVERSAL["skills"], "roster": uni}
    return Scenario.model_validate({**data, "teams": teams})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--file", type=Path, default=default_scenario_path())
    ap.add_argument("--polish", action="store_true",
                    help="start from the file's roster; centre-level corrections only")
    args = ap.parse_args()
    from queue_engine.scenario import load_centre

    raw = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    centre = load_centre(args.file.parent / raw["centre"])
    data = {**raw, "centre": centre}
    skills = list(centre.skills)
    bands = centre.bands()
    # Erlang A start: ASA at the middle of the band; security and off-band hours 80/20.
    provisional = build(data, np.ones((len(skills), 168), dtype=int), skills)
    model = Model.from_scenario(provisional)
    roster = np.zeros((len(skills), 168), dtype=int)
    for g in range(len(skills)):
        for h in range(168):
            lam = float(model.lam[g, h])
            if not model.open_[g, h] or lam <= 0:
                continue
            if h in bands and skills[g] != "security":
                tgt = Target(sl=None, asa_max=sum(bands[h]) / 2)
            else:
                tgt = Target(sl=0.8, threshold=20)
            roster[g, h] = max(1, agents_needed(lam, model.aht_mean[g], model.pat_mean[g], tgt))
    theta = 1.0 / model.pat_mean
    if args.polish:
        for g, sid in enumerate(skills):
            team = raw["teams"][sid]["roster"]
            roster[g] = np.concatenate([team[day] for day in DAYS])
    hours = sorted(bands)
    for rnd in range(args.rounds):
        sc = build(data, roster, skills)
        reps = args.reps if rnd < args.rounds // 2 else 2 * args.reps
        fc = run_forecast(Model.from_scenario(sc), reps=reps, seed=1000)
        asa = fc.summary.mean["asa"]
        out_all, out_sk = [], 0
        before = roster.copy()
        for g, sid in enumerate(skills):  # skill hours outside their band: fluid step
            if sid == "security" or args.polish:
                continue
            for h in hours:
                lo, hi = bands[h]
                w = asa[h, g]
                if math.isnan(w) or lo <= w <= hi:
                    continue
                out_sk += 1
                n = roster[g, h]
                new = round(n * math.exp(0.3 * theta[g] * (w - (lo + hi) / 2)))
                roster[g, h] = max(1, new if new != n else n + (1 if w > hi else -1))
        for h in hours:  # the centre as a whole: keep it in the middle half of the band
            lo, hi = bands[h]
            w = asa[h, -1]
            if lo + 0.25 * (hi - lo) <= w <= hi - 0.25 * (hi - lo):
                continue
            moved = roster[:, h].sum() - before[:, h].sum()
            if (w > hi - 0.25 * (hi - lo) and moved > 0) or (w < lo + 0.25 * (hi - lo)
                                                              and moved < 0):
                out_all.append(h)
                continue  # the skill steps already push this hour the right way
            out_all.append(h)
            total = roster[:, h].sum()
            step = round(total * (math.exp(0.5 * theta.mean() * (w - (lo + hi) / 2)) - 1))
            step = step or (1 if w > hi - 0.25 * (hi - lo) else -1)
            order = np.argsort(-roster[:, h])
            for k in range(abs(step)):
                g = order[k % len(order)]
                roster[g, h] = max(1, roster[g, h] + (1 if step > 0 else -1))
        print(f"round {rnd}: centre hours off the band's middle {len(out_all)}, "
              f"skill-hours out of band {out_sk}, agent-hours {roster.sum()}")
        if not out_all and out_sk <= len(hours) // 10:
            break
    write(args.file, build(data, roster, skills))


def write(file: Path, sc: Scenario) -> None:
    text = file.read_text(encoding="utf-8")
    head = text[: text.index("teams:", text.index("# --- roster"))]
    lines = ["teams:"]
    for tid, team in sc.teams.items():
        sk = ", ".join(f"{k}: {v:g}" for k, v in team.skills.items())
        lines.append(f"  {tid}:")
        lines.append(f"    skills: {{{sk}}}")
        lines.append("    roster:")
        for day in DAYS:
            row = ", ".join(f"{x:2d}" for x in team.roster[day])
            lines.append(f"      {day}: [{row}]")
    file.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    print("wrote", file, re.sub(r"\s+", " ", str(sum(sum(sum(r) for r in t.roster.values())
                                                     for t in sc.teams.values()))), "agent-hours")


if __name__ == "__main__":
    main()
