"""``hotline stats [--json] [--watch]``: the dashboard's live figures as a terminal table.

The running ``hotline serve`` / ``demo`` publishes its :meth:`LiveBoard.snapshot` to a shared
file once a second (``var/live.json``, or ``HOTLINE_LIVE_FILE``; written to a temporary name
and renamed, so a reader never sees half a file). This command reads that file — no session,
no token, no second computation of any figure — and refuses a snapshot older than a few
seconds (the server is not running).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

STALE_S = 5.0


def live_file(arg: str | None = None) -> Path:
    return Path(arg or os.environ.get("HOTLINE_LIVE_FILE") or "var/live.json")


def publish(path: Path, snapshot: dict[str, Any]) -> None:
    """Write atomically (tmp + rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(snapshot, f, ensure_ascii=False)
    os.replace(tmp, path)


def read(path: Path, stale_s: float = STALE_S) -> dict[str, Any]:
    try:
        age = time.time() - path.stat().st_mtime
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LookupError(f"no running hotline: {path} does not exist "
                          "(start it with hotline serve or hotline demo)") from None
    except (OSError, ValueError) as exc:
        raise LookupError(f"cannot read {path}: {exc}") from None
    if age > stale_s:
        raise LookupError(f"no running hotline: {path} is {age:.0f} s old")
    return data


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _secs(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.0f}s" if x < 120 else f"{x / 60:.1f}m"


def table(snap: dict[str, Any]) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table

    t = Table(title=f"Очереди / queues  {snap['at'][:19]}", expand=False, padding=(0, 0),
              box=box.SIMPLE_HEAD, pad_edge=False)
    # waiting (+ callbacks holding a virtual place), longest wait, agents free / talking /
    # wrap-up, answered, abandoned (short ones)
    for col in ("group", "wait", "longest", "free", "talk", "wrap", "EWT", "ans", "aband",
                "SL", "ASA", "AHT", "ab%", "occ"):
        t.add_column(col, justify="left" if col == "group" else "right", no_wrap=True)
    for g in snap["groups"]:
        a = g["agents"]
        wait = f"{g['waiting']}+{g['virtual']}" if g.get("virtual") else str(g["waiting"])
        t.add_row(g["skill"], wait, _secs(g["longest_wait_s"]),
                  str(a["available"]), str(a["on_call"]), str(a["wrap_up"]), _secs(g["ewt_s"]),
                  str(g["answered"]), f"{g['abandoned']}/{g['short_abandoned']}",
                  _pct(g["service_level"]), _secs(g["asa_s"]), _secs(g["aht_s"]),
                  _pct(g["abandon_rate"]), _pct(g["occupancy"]))
    lines = Table(title="Линии / lines", padding=(0, 1), box=box.SIMPLE_HEAD)
    for col in ("line", "region", "in IVR", "queued", "self-service"):
        lines.add_column(col, no_wrap=True)
    for row in snap["lines"]:
        lines.add_row(row["line"], row["region"], str(row["in_ivr"]), str(row["queued"]),
                      _pct(row["self_service_share"]))
    cb = snap.get("callbacks", {})
    foot = (f"SL = {snap['sl_definition']}\nобратные звонки / callbacks: "
            f"{cb.get('pending', 0)} pending, {cb.get('dialling', 0)} dialling, "
            f"{cb.get('completed', 0)} completed\n"
            "aband = abandoned/short (under 5 s); ab% leaves short ones out")
    return Group(t, lines, foot)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="live queue figures of the running hotline (table)")
    p.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    p.add_argument("--watch", action="store_true", help="refresh every second until Ctrl-C")
    p.add_argument("--file", default=None,
                   help="snapshot file (default $HOTLINE_LIVE_FILE or var/live.json)")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    path = live_file(args.file)
    try:
        snap = read(path)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json and not args.watch:
        print(json.dumps(snap, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console

    console = Console()
    if not args.watch:
        console.print(table(snap))
        return 0
    from rich.live import Live

    with Live(table(snap), console=console, refresh_per_second=2) as live:
        while True:
            time.sleep(1.0)
            try:
                snap = read(path)
            except LookupError as exc:
                live.update(f"[red]{exc}")
                continue
            if args.json:
                live.console.print_json(json.dumps(snap, ensure_ascii=False))
            else:
                live.update(table(snap))
