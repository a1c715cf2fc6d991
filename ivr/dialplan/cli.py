"""``hotline dialplan check|show|route|export``: the dialplan for supervisors and operators."""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from ivr.dialplan.model import DEFAULT_DIR, RouteError, load_dialplan
from ivr.dialplan.numbers import NumberFormatError, pretty
from ivr.dialplan.schedule import iso_moment
from ivr.dialplan.yamlconf import ConfigError


def register(sub) -> None:
    p = sub.add_parser("dialplan", help="check, show, route and export the dialplan")
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="dialplan directory (dialplans/)")
    ds = p.add_subparsers(dest="dialplan_command", metavar="ACTION", required=True)

    c = ds.add_parser("check", help="validate every YAML file; errors as file:line: message")
    c.set_defaults(func=cmd_check)

    s = ds.add_parser("show", help="a table of numbers, lines, regions and hours")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    r = ds.add_parser("route", help="where a call to NUMBER goes at a given moment")
    r.add_argument("number")
    r.add_argument("--at", type=iso_moment, default=None,
                   help="ISO time, local in schedules.yaml's timezone unless an offset is given "
                        "(default: now)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_route)

    e = ds.add_parser("export", help="generate configuration for a telephony server")
    e.add_argument("target", choices=["asterisk"])
    e.add_argument("--out", type=Path, required=True, help="directory to write into")
    e.set_defaults(func=cmd_export)


def _load(args):
    try:
        return load_dialplan(args.dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {args.dir}", file=sys.stderr)
        return None


def cmd_check(args) -> int:
    """Validate every file a call loads — the dialplan, menus.yaml, prompts.yaml and the prompt
    ids the menus use — and warn when the holiday calendar runs out within a year (issue 13
    item 14: a deleted menus.yaml or an unknown prompt id used to pass as "ok")."""
    dp = _load(args)
    if dp is None:
        return 1
    problems = menu_and_prompt_problems(args.dir)
    from ivr.dialplan.asterisk_queues import check_problems

    problems += [str(p) for p in check_problems(args.dir, dp.skills)]  # asterisk.yaml
    problems += zone_problems(args.dir, dp)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {args.dir}", file=sys.stderr)
        return 1
    warning = calendar_warning(dp)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.dir}: ok — {len(dp.numbers)} numbers, {len(dp.lines)} lines, "
          f"{len(dp.schedules)} schedules, {len(dp.holidays)} holidays, {len(dp.skills)} skills")
    return 0


def menu_and_prompt_problems(directory: Path) -> list[str]:
    """menus.yaml and prompts.yaml present and valid; every prompt id the menus use has a text
    in every language a line offers."""
    from ivr.dialplan.menus import load_menus
    from ivr.dialplan.yamlconf import load_yaml

    out: list[str] = []
    try:
        menus = load_menus(directory)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    if not (directory / "prompts.yaml").is_file():
        return [f"{directory / 'prompts.yaml'}: missing (the prompts' texts)"]
    texts: dict[str, set[str]] = {}
    for name in ("prompts.yaml", "prompts_numbers.yaml"):  # as ivr.voice.prompts reads them
        path = directory / name
        if not path.is_file():
            continue
        try:
            data = load_yaml(path).data
        except ConfigError as exc:
            return [str(p) for p in exc.problems]
        if not isinstance(data, dict):
            return [f"{path}: expected a mapping lang -> prompt id -> text"]
        for lang, table in data.items():
            if isinstance(table, dict):
                texts.setdefault(str(lang), set()).update(str(k) for k in table)
    dp = load_dialplan(directory)
    langs = sorted({lang for line in dp.lines.values() for lang in line.languages})
    for lang in langs:
        for pid in sorted(menus.used_prompt_ids() - set(texts.get(lang, {}))):
            out.append(f"{directory / 'menus.yaml'}: prompt {pid!r} has no {lang} text in "
                       "prompts.yaml")
    return out


def zone_problems(directory: Path, dp) -> list[str]:
    """centre.yaml's ``timezone`` (the ACD's hours) must be schedules.yaml's (the IVR's)."""
    from queue_engine.scenario import ScenarioError, load_centre

    if not (directory / "centre.yaml").is_file():
        return []
    try:
        zone = load_centre(directory / "centre.yaml").timezone
    except ScenarioError as exc:
        return [str(exc)]
    if zone == dp.tz.key:
        return []
    msg = (f"{directory / 'centre.yaml'}: timezone: {zone} differs from schedules.yaml's "
           f"{dp.tz.key}: the IVR and the ACD would count hours differently")
    return [msg]


def calendar_warning(dp, today=None) -> str | None:
    """The holiday calendar's last date is within a year: routes after it ignore holidays."""
    from datetime import date, timedelta

    today = today or date.today()
    last = max(dp.holidays, default=None)
    if last is None or last < today + timedelta(days=365):
        return (f"the holiday calendar ends {last or 'nowhere (empty)'}: calls after that date "
                "are routed as if there were no holidays — extend holidays.yaml")
    return None


def _hours_text(schedule) -> str:
    from ivr.dialplan.schedule import DAYS

    def fmt(ivs):
        return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in ivs) \
            or "closed"

    groups: list[tuple[list[str], str]] = []
    for i, ivs in enumerate(schedule.week):
        text = fmt(ivs)
        if groups and groups[-1][1] == text:
            groups[-1][0].append(DAYS[i])
        else:
            groups.append(([DAYS[i]], text))
    parts = [f"{d[0]}-{d[-1]}" if len(d) > 1 else d[0] for d, _ in groups]
    if len(groups) == 1:
        parts = ["daily"]
    out = [f"{p} {t}" for p, (_, t) in zip(parts, groups)]
    if schedule.holiday_hours is not None:
        out.append(f"holidays {fmt(schedule.holiday_hours)}")
    return "; ".join(out)


def cmd_show(args) -> int:
    dp = _load(args)
    if dp is None:
        return 1
    rows = []
    for e164, num in sorted(dp.numbers.items(), key=lambda kv: (kv[1].line, kv[0])):
        line = dp.lines[num.line]
        rows.append({"number": pretty(e164), "e164": e164, "line": line.id,
                     "name": line.name["ru"], "region": num.region, "menu": line.menu,
                     "languages": list(line.languages), "hours": _hours_text(line.schedule)})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Hotline numbers (agents' hours, Moscow time; IVR answers 24/7)")
    for col in ("number", "line", "region", "menu", "lang", "agents on duty"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["number"], f"{r['line']}\n{r['name']}", r["region"], r["menu"],
                      "/".join(r["languages"]), r["hours"])
    Console(width=max(120, Console().width)).print(table)
    return 0


def cmd_route(args) -> int:
    dp = _load(args)
    if dp is None:
        return 1
    at = args.at or datetime.now(dp.tz)
    if not 1970 <= at.year <= 2200:  # 9999-12-31 overflowed the next-opening search
        print(f"error: --at {at.date()}: outside the years a hotline can be routed for",
              file=sys.stderr)
        return 2
    if dp.holidays and not min(dp.holidays).year <= at.year <= max(dp.holidays).year:
        print(f"warning: the holiday calendar covers {min(dp.holidays)} to "
              f"{max(dp.holidays)}: {at.date()} is routed as if it were no holiday",
              file=sys.stderr)
    try:
        route = dp.route(args.number[:100], at)
    except OverflowError:
        print("error: --at: the next opening is beyond the calendar's range", file=sys.stderr)
        return 2
    except NumberFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except RouteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    data = route.as_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    state = "agents on duty" if route.open else f"agents off duty, next open {data['next_open']}"
    print(f"{route.input} → {route.e164}: line {route.line} ({route.line_name}), "
          f"region {route.region}, menu {route.menu}, languages {'/'.join(route.languages)}")
    print(f"at {data['at']}: {state}"
          + (f" (until {data['closes_at']})" if route.open and route.closes_at else "")
          + (f"; holiday: {route.holiday}" if route.holiday else ""))
    return 0


def cmd_export(args) -> int:
    from ivr.dialplan.asterisk import export

    dp = _load(args)
    if dp is None:
        return 1
    try:
        written = export(dp, args.out)
    except ConfigError as exc:  # asterisk.yaml or its scenario
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
