"""``hotline serve`` (embedded mode, or the AMI bridge with ``--asterisk``), ``hotline demo``,
``hotline stats``. Heavy imports stay inside the commands (``hotline --help`` must be quick)."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import Any


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dialplans", default="dialplans", help="dialplan YAML directory")
    p.add_argument("--db", default=None, help="database URL (default: $HOTLINE_DB_URL or "
                                              "sqlite:///var/hotline.db)")
    p.add_argument("--recordings", default=None, help="prompt audio (default: ./recordings)")
    p.add_argument("--sip", default="127.0.0.1:5060", metavar="HOST:PORT",
                   help="SIP endpoint address (UDP; port 0 = any free port)")
    p.add_argument("--web", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="dashboard address (port 0 = any free port)")
    p.add_argument("--no-sip", action="store_true", help="do not start the SIP endpoint")
    p.add_argument("--no-web", action="store_true", help="do not start the web dashboard")
    p.add_argument("--scenario", default=None,
                   help="queue scenario (rosters, handle times, patience; default gosuslugi)")
    p.add_argument("--escalate", type=float, default=None, metavar="SHARE",
                   help="agents transfer this share of answered calls to a senior group "
                        "(default: the scenario's escalation section; demo 0.03)")
    p.add_argument("--drain", type=float, default=5.0, metavar="S",
                   help="on stop, seconds calls in the IVR get to finish (default 5)")
    p.add_argument("--live-file", default=None,
                   help="snapshot for hotline stats (default $HOTLINE_LIVE_FILE or var/live.json)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the hotline: SIP, live ACD, dashboard (or --asterisk)")
    _common(p)
    p.add_argument("--asterisk", default=None, metavar="URL",
                   help="drive an Asterisk over AMI instead (ami://user:secret@host:5038; "
                        "default $HOTLINE_AMI_URL)")
    p.add_argument("--at", default=None, metavar="ISO",
                   help="start the clock at this local time (testing: e.g. 2026-11-23T10:00)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="simulated seconds per real second (default 1: real time)")
    p.add_argument("--server-id", default=None, help="(--asterisk) prefix of call ids")
    p.add_argument("--enqueue-mode", choices=("break", "exec"), default=None,
                   help="(--asterisk) how calls enter Asterisk's Queue()")
    p.add_argument("--sip-outbound", default=None, metavar="URI",
                   help="where the SIP endpoint places calls (callbacks): sip:[user:password@]"
                        "host:port (default $HOTLINE_SIP_OUTBOUND — keeps a password out of ps)")
    p.set_defaults(func=cmd_serve)

    d = sub.add_parser("demo", help="serve + the default scenario's calls at accelerated time")
    _common(d)
    d.add_argument("--speed", type=float, default=60.0,
                   help="simulated seconds per real second (default 60)")
    d.add_argument("--day", default="2026-11-23", help="simulated day (default 2026-11-23)")
    d.add_argument("--from", dest="start_hour", type=float, default=13.75, metavar="HOUR",
                   help="simulated start hour, local time (default 13.75: the lunchtime peak "
                        "fills the queues, the 15:00 shift drains them)")
    d.add_argument("--minutes", type=float, default=None,
                   help="simulated minutes of traffic, then stop (default: until Ctrl-C)")
    d.add_argument("--scale", type=float, default=1.0,
                   help="multiply the scenario's call volume (default 1)")
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=cmd_demo, escalate=0.03)

    from ivr.service import stats

    stats.register(sub)


def _addr(text: str, what: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--{what}: expected HOST:PORT, got {text!r}")
    return host, int(port)


def _options(args: argparse.Namespace, **kw: Any) -> Any:
    from ivr.service.serve import Options

    sip_host, sip_port = _addr(args.sip, "sip")
    web_host, web_port = _addr(args.web, "web")
    return Options(dialplans=args.dialplans, db_url=args.db or os.environ.get("HOTLINE_DB_URL"),
                   recordings=args.recordings or os.environ.get("HOTLINE_RECORDINGS",
                                                                "recordings"),
                   sip_host=sip_host, sip_port=sip_port, web_host=web_host, web_port=web_port,
                   sip=not args.no_sip, web=not args.no_web, scenario=args.scenario,
                   drain_timeout=args.drain, live_file=args.live_file,
                   escalate=getattr(args, "escalate", None),
                   sip_outbound=getattr(args, "sip_outbound", None)
                   or os.environ.get("HOTLINE_SIP_OUTBOUND") or None, **kw)


def _off_loop_writes(services: Any) -> tuple[Any, Any]:
    """The AMI bridge's rows through the writer thread (drivers may not import ivr.service)."""
    from ivr.service.writer import QueuedWrites, RecordWriter

    writer = RecordWriter(services.factory)
    return writer, QueuedWrites(services, writer)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.asterisk or os.environ.get("HOTLINE_AMI_URL"):
        from ivr.drivers.ami import serve as ami

        # the bridge's own parser gives its defaults; the options both share are passed on
        parser = argparse.ArgumentParser(add_help=False)
        ami.register(parser.add_subparsers(dest="command"))
        theirs = parser.parse_args(["serve"])
        for key, value in vars(args).items():
            if hasattr(theirs, key) and key not in ("func", "command"):
                setattr(theirs, key, value)
        theirs.off_loop_writes = _off_loop_writes  # rows via the writer thread (issue 13)
        return int(theirs.func(theirs) or 0)
    import asyncio

    from ivr.service.serve import run

    try:
        start = None
        if args.at:
            start = datetime.fromisoformat(args.at)
            start = start if start.tzinfo else start.replace(tzinfo=_centre_zone())
        if not 0 < args.speed <= 10_000:
            raise ValueError("--speed must be in (0, 10000]")
        opts = _options(args, start=start, speed=args.speed)
        summary = asyncio.run(run(opts))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if not summary.get("lost") else 1


def _centre_zone() -> Any:
    """The centre's zone (``dialplans/centre.yaml`` ``timezone``): naive times are local there."""
    from zoneinfo import ZoneInfo

    from queue_engine.scenario import load_centre

    return ZoneInfo(load_centre().timezone)


def cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from ivr.service.serve import run

    try:
        day = datetime.strptime(args.day, "%Y-%m-%d")
        if not 0 <= args.start_hour < 24 or args.speed <= 0 or args.speed > 10_000:
            raise ValueError("--from is an hour 0..24, --speed in (0, 10000]")
        zone = _centre_zone()
        start = day.replace(tzinfo=zone).timestamp() + args.start_hour * 3600
        opts = _options(args, speed=args.speed, seed=args.seed,
                        start=datetime.fromtimestamp(start, zone))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def traffic(svc: Any) -> None:
        from ivr.service.demo import endless, generate, plan_calls

        await asyncio.to_thread(_seed_registry, svc.factory)
        if args.minutes is not None:
            callers: Any = plan_calls(svc, svc.clock.ts(), args.minutes * 60.0, seed=args.seed,
                                      scale=args.scale)
            print(f"demo: {len(callers)} calls over {args.minutes:g} simulated minutes from "
                  f"{svc.clock.now():%Y-%m-%d %H:%M}, x{args.speed:g}", flush=True)
        else:
            callers = endless(svc, svc.clock.ts(), seed=args.seed, scale=args.scale)
            print(f"demo: the scenario's calls from {svc.clock.now():%Y-%m-%d %H:%M}, "
                  f"x{args.speed:g}, until Ctrl-C", flush=True)
        stats = await generate(svc, callers, svc.stop_event)
        print(f"demo: {stats.placed} calls placed, {stats.queued} queued, {stats.answered} "
              f"answered, {stats.abandoned} abandoned; event→action p50 {stats.p(50):.2f} ms, "
              f"p99 {stats.p(99):.2f} ms", flush=True)

    try:
        summary = asyncio.run(run(opts, extra_task=traffic))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if not summary.get("lost") else 1


def _seed_registry(factory: Any) -> None:
    """The fictitious citizens the demo callers identify as (idempotent)."""
    from ivr.citizens.registry import seed
    from ivr.service.demo import DEMO_CITIZENS

    with factory.begin() as db:
        seed(db, DEMO_CITIZENS)
