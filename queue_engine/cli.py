"""``hotline`` subcommands of the queue engine: forecast, staff, simulate, erlang.

``register(subparsers)`` adds them to the top-level parser (the IVR's ``ivr/cli.py``
calls it); each sets ``func(args) -> exit code``.  Tables go to stdout via rich,
``--json`` prints machine-readable output instead, errors go to stderr with exit 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from queue_engine import cliargs

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``forecast``, ``staff``, ``simulate`` and ``erlang`` to ``subparsers``."""
    p = subparsers.add_parser("forecast", help="mean wait, p90, SL and abandonment by hour",
                              description="Simulate the scenario's week REPS times and report "
                              "every working hour (published bands of SPEC §3 marked).")
    _scenario_args(p)
    p.add_argument("--reps", type=int, default=30, help="replications (default 30)")
    p.add_argument("--skill", help="one skill group instead of the whole centre")
    p.add_argument("--plot", type=cliargs.plot_file, metavar="FILE.png|.svg",
                   help="write a chart")
    p.set_defaults(func=cmd_forecast)

    p = subparsers.add_parser("staff", help="fewest agents per hour meeting a target",
                              description="Erlang A per skill and hour, then verified (and "
                              "topped up) by simulation.")
    _scenario_args(p)
    p.add_argument("--target", default="80/20", type=cliargs.target,
                   help="80/20 (SL %% within s), asa=N, ab=N%%; combine with commas")
    p.add_argument("--reps", type=int, default=6, help="replications per verification round")
    p.add_argument("--no-verify", action="store_true", help="Erlang A only, no simulation")
    p.set_defaults(func=cmd_staff)

    p = subparsers.add_parser("simulate", help="one simulated week of the scenario")
    _scenario_args(p)
    p.add_argument("--compare", action="store_true",
                   help="run both routing policies on the same arrivals and compare")
    p.set_defaults(func=cmd_simulate)

    p = subparsers.add_parser("erlang", help="Erlang A / C figures for one queue")
    p.add_argument("--agents", type=cliargs.agents, required=True)
    p.add_argument("--rate", type=cliargs.rate, required=True, help="arrivals: N/min, N/h or N/s (e.g. 9/min)")
    p.add_argument("--aht", type=cliargs.positive_seconds, required=True, help="mean handle time, seconds")
    p.add_argument("--patience", type=cliargs.positive_seconds, help="mean patience, seconds (omit: Erlang C)")
    p.add_argument("--threshold", type=cliargs.non_negative_seconds, default=20.0, help="service-level seconds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_erlang)


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", type=Path, help="scenario YAML (default: "
                   "dialplans/scenarios/gosuslugi.yaml)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="JSON instead of a table")


def _load(args: argparse.Namespace):
    from queue_engine.model import Model
    from queue_engine.scenario import DAYS, load_scenario

    sc = load_scenario(args.scenario)
    model = Model.from_scenario(sc)
    for skill, h, load, agents in model.overloaded_hours():
        print(f"warning: {skill} on {DAYS[h // 24]} {h % 24:02d}:00 is overloaded: "
              f"{load:.1f} Erl offered to {agents:.1f} agents and callers never abandon — "
              "the queue grows without bound", file=sys.stderr)
    return sc, model


def _engine_ready() -> None:
    """Load the compiled engine now; on a cold cache say that it compiles (else a first run
    looks hung for 10–20 s)."""
    from queue_engine.sim import warm_compiled

    warm_compiled(lambda msg: print(msg, file=sys.stderr, flush=True))


def _console():
    """rich console; a fixed wide layout when piped so tables never wrap."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _guard(fn):
    """Turn refusals (bad YAML, impossible values, overload) into one line and exit 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        # ScenarioError and erlang's OverloadError are ValueErrors (importing erlang here
        # would cost every command scipy.special's import)
        except ValueError as exc:
            return _fail(str(exc))
    run.__doc__ = fn.__doc__
    return run


def _fmt_min(s: float | None) -> str:
    return "—" if s is None else f"{s / 60:4.1f}"


@_guard
def cmd_forecast(args: argparse.Namespace) -> int:
    """Forecast by hour for every working hour of every weekday."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from queue_engine.forecast import run_forecast

    if args.reps < 1:
        return _fail("--reps must be ≥ 1")
    sc, model = _load(args)
    if args.skill and args.skill not in model.skills:
        return _fail(f"unknown skill {args.skill!r}; known: {', '.join(model.skills)}")
    _engine_ready()
    show_bar = not args.json and args.reps >= 4
    with Progress(transient=True, disable=not show_bar, console=Console(stderr=True)) as bar:
        task = bar.add_task("simulating weeks", total=args.reps)
        fc = run_forecast(model, reps=args.reps, seed=args.seed,
                          progress=lambda n: bar.advance(task, n))
    rows = fc.rows(args.skill)
    bands = sc.centre.bands() if not args.skill else {}
    for r in rows:
        band = bands.get(r["week_hour"])
        r["band"] = list(band) if band else None
        r["in_band"] = None if not band or r["asa"] is None else band[0] <= r["asa"] <= band[1]
    if args.plot:
        from queue_engine.plot import plot_forecast

        plot_forecast(rows, args.plot, title=f"{sc.name}: {args.skill or 'all skill groups'}, "
                      f"{args.reps} replications", tz=sc.centre.timezone)
    if args.json:
        print(json.dumps({"scenario": sc.name, "reps": args.reps, "rows": rows}, indent=1))
        return 0
    t = Table(title=f"{sc.name} — {args.skill or 'all skill groups'} — mean of {args.reps} "
              "replications (waits in minutes, ± 95 % CI)")
    for col in ("day", "hour", "offered", "agents", "mean wait", "p90", "SL", "SL2",
                "abandon", "callbacks", "occupancy", "published"):  # callbacks: offers taken
        t.add_column(col, justify="right")
    for r in rows:
        band = r["band"]
        mark = "" if band is None else (
            f"{band[0] / 60:g}–{band[1] / 60:g} " + ("✓" if r["in_band"] else "✗"))
        asa = "—" if r["asa"] is None else f"{_fmt_min(r['asa'])} ± {r['asa_ci'] / 60:.1f}" \
            if r["asa_ci"] is not None else _fmt_min(r["asa"])
        t.add_row(r["day"], f"{r['hour']:02d}", f"{r['offered']:.0f}", f"{r['agents']:.0f}",
                  asa, _fmt_min(r["p90_wait"]), _pct(r["sl"]), _pct(r["sl2"]),
                  _pct(r["abandon_rate"]), _n(r["callbacks"]), _pct(r["occupancy"]), mark)
    _console().print(t)
    if args.plot:
        print(f"plot written to {args.plot}")
    return 0


def _n(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


@_guard
def cmd_staff(args: argparse.Namespace) -> int:
    """Roster per skill and hour meeting the target, and its agent-hours."""
    from rich.table import Table

    from queue_engine.scenario import DAYS
    from queue_engine.staffing import parse_target, plan_staff

    target = parse_target(args.target)
    sc, model = _load(args)
    if not args.no_verify:
        _engine_ready()
    plan = plan_staff(model, target, reps=args.reps, seed=args.seed, verify=not args.no_verify)
    hours = [h for h in range(model.horizon_hours) if plan.roster[:, h].sum() > 0]
    if args.json:
        out = {"scenario": sc.name, "target": str(target), "agent_hours": plan.agent_hours,
               "erlang_agent_hours": int(plan.erlang.sum()), "rounds": plan.rounds,
               "roster": {sid: {DAYS[d]: plan.roster[g, d * 24:(d + 1) * 24].tolist()
                                for d in range(7)} for g, sid in enumerate(model.skills)}}
        print(json.dumps(out, indent=1))
        return 0
    t = Table(title=f"{sc.name}: roster for {target} — {plan.agent_hours} agent-hours "
              f"(Erlang A alone: {int(plan.erlang.sum())}; {plan.rounds} simulation rounds)")
    t.add_column("day")
    t.add_column("hour")
    t.add_column("total", justify="right")
    for sid in model.skills:
        t.add_column(sid, justify="right")
    for h in hours:
        t.add_row(DAYS[h // 24], f"{h % 24:02d}", str(int(plan.roster[:, h].sum())),
                  *[str(int(x)) for x in plan.roster[:, h]])
    _console().print(t)
    return 0


def _week_summary(model, res) -> list[dict]:
    from queue_engine.sim import ABANDONED, ANSWERED, CALLBACK_TAKEN

    rows = []
    live = ~res.callback
    for g, sid in enumerate([*model.skills, "all"]):
        m = live & ((res.skill == g) if sid != "all" else True)
        ans = m & (res.outcome == ANSWERED)
        ab = m & (res.outcome == ABANDONED)
        w = res.wait
        thr = model.sl_threshold
        n_ans, n_ab = int(ans.sum()), int(ab.sum())
        within = int((ans & (w <= thr)).sum())
        rows.append({
            "skill": sid, "offered": n_ans + n_ab + int((m & (res.outcome == CALLBACK_TAKEN)).sum()),
            "answered": n_ans, "abandoned": n_ab,
            "callbacks_taken": int((m & (res.outcome == CALLBACK_TAKEN)).sum()),
            "asa": float(np.nanmean(w[ans])) if n_ans else None,
            "mean_wait": float(np.nanmean(w[ans | ab])) if n_ans + n_ab else None,
            "sl": within / n_ans if n_ans else None,
            "sl2": (within + int((ab & (w <= thr)).sum())) / (n_ans + n_ab) if n_ans + n_ab
            else None,
            "abandon_rate": n_ab / (n_ans + n_ab) if n_ans + n_ab else None,
        })
    return rows


@_guard
def cmd_simulate(args: argparse.Namespace) -> int:
    """One simulated week; with --compare, both routing policies on the same seed."""
    from rich.table import Table

    from queue_engine.sim import simulate

    sc, model = _load(args)
    _engine_ready()
    policies = ["longest_idle", "overflow"] if args.compare else [model.policy]
    results = {}
    for pol in policies:
        res = simulate(model.with_policy(pol), seed=args.seed)
        results[pol] = {"rows": _week_summary(model, res), "events": res.events,
                        "attempts": int(res.arrival.size),
                        "retrials": int((res.attempt > 1).sum()),
                        "callbacks": int(res.callback.sum()), "engine": res.path}
    if args.json:
        print(json.dumps({"scenario": sc.name, "seed": args.seed, "policies": results},
                         indent=1))
        return 0
    for pol, r in results.items():
        t = Table(title=f"{sc.name}, seed {args.seed}, routing {pol}: {r['attempts']} attempts "
                  f"({r['retrials']} retrials, {r['callbacks']} callbacks; engine {r['engine']})")
        for col in ("skill", "offered", "answered", "abandoned", "callbacks", "ASA min",
                    "SL", "SL2", "abandon"):
            t.add_column(col, justify="right")
        for row in r["rows"]:
            t.add_row(row["skill"], str(row["offered"]), str(row["answered"]),
                      str(row["abandoned"]), str(row["callbacks_taken"]), _fmt_min(row["asa"]),
                      _pct(row["sl"]), _pct(row["sl2"]), _pct(row["abandon_rate"]))
        _console().print(t)
    return 0


def _rate(text: str) -> float:
    m = re.fullmatch(r"\s*([0-9.]+)\s*(?:/\s*(s|sec|min|m|h|hour))?\s*", text)
    if not m:
        raise ValueError(f"rate {text!r}: expected e.g. 9/min, 540/h, 0.15/s")
    per = {"s": 1, "sec": 1, None: 1, "min": 60, "m": 60, "h": 3600, "hour": 3600}[m[2]]
    return float(m[1]) / per


@_guard
def cmd_erlang(args: argparse.Namespace) -> int:
    """Erlang A (with --patience) or Erlang C figures."""
    from queue_engine.erlang import metrics

    lam = _rate(args.rate)
    if args.agents < 1 or args.aht <= 0 or lam < 0:
        return _fail("need agents ≥ 1, aht > 0 and a non-negative rate")
    theta = 1.0 / args.patience if args.patience else 0.0
    m = metrics(args.agents, lam, 1.0 / args.aht, theta, args.threshold)
    d = m.as_dict()
    if args.json:
        print(json.dumps(d, indent=1))
        return 0
    model = "Erlang A (M/M/n+M)" if theta else "Erlang C (M/M/n)"
    print(f"{model}: {args.agents} agents, {lam * 60:g} calls/min, AHT {args.aht:g} s"
          + (f", patience {args.patience:g} s" if theta else ""))
    print(f"  offered load      {m.offered_load:.2f} Erl   occupancy {m.occupancy:.1%}")
    print(f"  P(wait)           {m.p_wait:.4f}")
    print(f"  P(abandon)        {m.p_abandon:.4f}")
    print(f"  mean wait         {m.mean_wait:.2f} s   ASA {m.asa:.2f} s   "
          f"mean queue {m.mean_queue:.2f}")
    print(f"  SL  ({m.threshold:g} s)        {m.service_level:.1%}   SL2 {m.service_level2:.1%}")
    return 0
