"""``hotline fit`` and ``hotline report hourly``: the calls table → the queue engine.

The glue only: rows are read by :mod:`ivr.store.call_records`; estimating and reporting are
:mod:`queue_engine.fit` and :mod:`queue_engine.report` (pure).  Dates are local dates of the
centre's time zone (``dialplans/centre.yaml``).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``fit`` and ``report`` to ``subparsers``."""
    p = subparsers.add_parser("fit", help="fit a scenario from the calls the hotline took",
                              description="Arrivals by skill × weekday × hour (holidays out, "
                              "Poisson or over-dispersed), handle time, patience (censored "
                              "MLE), retrials, callbacks, self-service, from the calls table; "
                              "writes a normal scenario (roster and routing from --base).")
    p.add_argument("--from-calls", action="store_true", required=True,
                   help="read the calls table (HOTLINE_DB_URL)")
    p.add_argument("--since", type=_date, help="first local date (default: oldest call)")
    p.add_argument("--until", type=_date, help="last local date, inclusive (default: newest)")
    p.add_argument("--base", type=Path, help="scenario giving roster and routing (default: "
                   "dialplans/scenarios/gosuslugi.yaml)")
    p.add_argument("--name", default="fitted")
    p.add_argument("--out", type=Path, required=True, help="scenario YAML to write")
    p.add_argument("--json", action="store_true", help="print the estimates as JSON")
    p.set_defaults(func=cmd_fit)

    p = subparsers.add_parser("report", help="reports over the call records (hourly)")
    sub = p.add_subparsers(dest="report", metavar="REPORT", required=True)
    h = sub.add_parser("hourly", help="per hour: actual beside the forecast and the band",
                       description="Volume, mean wait, service level and abandonment of a "
                       "day's calls by hour, beside the scenario's forecast (95 % CI) and "
                       "the published band.")
    h.add_argument("--date", type=_date, required=True, help="local date YYYY-MM-DD")
    h.add_argument("--skill", help="one skill group instead of the whole centre")
    h.add_argument("--scenario", type=Path, help="scenario of the forecast (default "
                   "dialplans/scenarios/gosuslugi.yaml)")
    h.add_argument("--reps", type=int, default=10, help="forecast replications (0: none)")
    out = h.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true")
    h.add_argument("--plot", type=Path, metavar="FILE.png|.svg")
    h.set_defaults(func=cmd_report_hourly)


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected YYYY-MM-DD") from None


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _bounds(centre: Any, first: Any, last: Any) -> tuple[Any, Any]:
    """Aware datetimes around local dates [first, last] (an hour of slack each side)."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(centre.timezone)
    lo = datetime.combine(first, time(0), tz) - timedelta(hours=1) if first else None
    hi = datetime.combine(last + timedelta(days=1), time(0), tz) + timedelta(hours=1) \
        if last else None
    return lo, hi


def _read(centre: Any, first: Any, last: Any, skill: str | None = None):
    from ivr.store.base import session_factory
    from ivr.store.call_records import read_calls

    lo, hi = _bounds(centre, first, last)
    with session_factory()() as db:
        return read_calls(db, lo, hi, skill)


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit and write the scenario; print what was estimated."""
    import os

    import yaml

    from queue_engine.fit import fit_scenario
    from queue_engine.scenario import DIALPLANS, ScenarioError, load_scenario

    try:
        base = load_scenario(args.base)
    except ScenarioError as exc:
        return _fail(str(exc))
    rec = _read(base.centre, args.since, args.until)
    if not len(rec):
        return _fail("no calls in the period: nothing to fit")
    ref = os.path.relpath(DIALPLANS / "centre.yaml", args.out.resolve().parent)
    try:
        fit = fit_scenario(rec, base.centre, base, since=args.since, until=args.until,
                           name=args.name, centre_ref=ref)
    except ValueError as exc:
        return _fail(str(exc))
    head = (f"# Fitted by `hotline fit --from-calls` from {fit.figures['records']} call records,"
            f" {fit.figures['period'][0]} .. {fit.figures['period'][1]}\n"
            "# (queue_engine/fit.py: estimates and methods; roster and routing from "
            f"{base.name}).\n# A normal scenario: hotline forecast/staff/simulate --scenario "
            "THIS_FILE.\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(head + yaml.safe_dump(fit.scenario, sort_keys=False, allow_unicode=True,
                                              default_flow_style=None, width=110),
                        encoding="utf-8")
    load_scenario(args.out)  # what we wrote loads as any scenario does
    if args.json:
        print(json.dumps(fit.figures, indent=1, default=str))
        return 0
    f = fit.figures
    print(f"wrote {args.out}: {f['fresh_calls']} fresh calls, {f['retrials']} retrials, "
          f"{f['records']} records, {f['period'][0]} .. {f['period'][1]}"
          + (f"; holidays left out: {', '.join(f['holidays_excluded'])}"
             if f["holidays_excluded"] else ""))
    for sid in fit.scenario["arrivals"]["daily_calls"]:
        a, p, d = f["aht"].get(sid), f["patience"].get(sid), f["dispersion"].get(sid, {})
        print(f"  {sid:11s} {fit.scenario['arrivals']['daily_calls'][sid]:8.1f} calls/day  "
              + (f"AHT {a['mean']:.0f} s cv {a['cv']:.2f} ({a['family']})  " if a else "")
              + (f"patience {p['mean']:.0f} s ({p['family']}, {p['events']} abandons)  "
                 if p else "")
              + (f"dispersion p={d['p_value']:.3f} cv={d['cv']:.2f}" if d else ""))
    r = f["retrial"]
    print(f"  retrials p={r['probability']:.3f}; callbacks accept "
          f"{f['callback']['accept']:.3f} ({f['callback']['method']}), after hours "
          f"{f['after_hours_request']:.3f}")
    return 0


def cmd_report_hourly(args: argparse.Namespace) -> int:
    """Per hour of the day: actual beside forecast and band."""
    from queue_engine.model import Model
    from queue_engine.report import hourly, plot_hourly, to_csv
    from queue_engine.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(args.scenario)
    except ScenarioError as exc:
        return _fail(str(exc))
    if args.skill and args.skill not in sc.centre.skills:
        return _fail(f"unknown skill {args.skill!r}; known: {', '.join(sc.centre.skills)}")
    rec = _read(sc.centre, args.date, args.date, args.skill)
    fc = None
    if args.reps > 0:
        from queue_engine.forecast import run_forecast

        fc = run_forecast(Model.from_scenario(sc), reps=args.reps)
    rep = hourly(rec, args.date, sc.centre, fc, args.skill)
    rep["scenario"] = sc.name
    if args.plot:
        plot_hourly(rep, args.plot)
    if args.json:
        print(json.dumps(rep, indent=1))
    elif args.csv:
        sys.stdout.write(to_csv(rep))
    else:
        _table(rep)
    return 0


def _table(rep: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{rep['date']} — {rep['skill']} — actual vs forecast ({rep['scenario']})"
              + (" — public holiday" if rep["holiday"] else ""))
    for c in ("hour", "calls", "fc calls", "ASA min", "fc ASA", "band", "SL", "fc SL",
              "abandon", "fc abandon"):
        t.add_column(c, justify="right")

    def m(x: Any) -> str:
        return "—" if x is None else f"{x / 60:.1f}"

    def pct(x: Any) -> str:
        return "—" if x is None else f"{100 * x:.0f}%"

    for r in rep["rows"]:
        a, f, b = r["actual"] or {}, r["forecast"] or {}, r["band_s"]
        band = "" if not b else f"{b[0] / 60:g}–{b[1] / 60:g} " + (
            "" if r["in_band"] is None else "✓" if r["in_band"] else "✗")
        fca = "—" if f.get("asa") is None else f"{m(f['asa'])} ± {m(f.get('asa_ci') or 0)}"
        t.add_row(f"{r['hour']:02d}", str(a.get("offered", 0)),
                  "—" if f.get("offered") is None else f"{f['offered']:.0f}", m(a.get("asa")),
                  fca, band, pct(a.get("sl")), pct(f.get("sl")), pct(a.get("abandon_rate")),
                  pct(f.get("abandon_rate")))
    Console(width=None if sys.stdout.isatty() else 160).print(t)
