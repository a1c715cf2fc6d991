"""``hotline registry seed`` and ``hotline sms outbox``: demo data in, test SMS out.

The seed prints the fictitious citizens in clear (they are invented; testers need something to
key in); the database itself keeps only keyed hashes of their numbers.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime

from sqlalchemy import inspect

from ivr.citizens.checksums import format_snils


def register(sub: argparse._SubParsersAction) -> None:
    reg = sub.add_parser("registry", help="citizen registry (fictitious demo data)")
    reg.add_argument("--url", default=None, help="SQLAlchemy URL (overrides HOTLINE_DB_URL)")
    rs = reg.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    seed = rs.add_parser("seed", help="add fictitious citizens whose numbers pass the checksums, "
                                      "with applications in every status (idempotent)")
    seed.add_argument("--count", type=int, default=20, help="citizens to create (default 20)")
    seed.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")
    seed.add_argument("--today", type=date.fromisoformat, default=None,
                      help="anchor for expected dates (YYYY-MM-DD, default today)")
    seed.add_argument("--json", action="store_true", help="print the citizens as JSON")
    seed.add_argument("--quiet", action="store_true", help="print only the summary")
    seed.set_defaults(func=cmd_seed)

    sms = sub.add_parser("sms", help="SMS sent by the embedded gateway")
    sms.add_argument("--url", default=None, help="SQLAlchemy URL (overrides HOTLINE_DB_URL)")
    ss = sms.add_subparsers(dest="sms_command", metavar="ACTION", required=True)
    out = ss.add_parser("outbox", help="newest messages; a one-time code shows only while valid "
                                       "(dev mode, HOTLINE_SMS_DEV_CODES)")
    out.add_argument("--limit", type=int, default=20)
    out.add_argument("--call-id", default=None, help="only this call's messages")
    out.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    out.set_defaults(func=cmd_outbox)


def _session(url: str | None, tables: tuple[str, ...]):
    """A session on the configured database, or None (after saying why) if the schema is not
    there yet — creating tables is ``hotline db upgrade``'s job (Alembic), not ours."""
    from ivr.store.base import make_engine, session_factory

    engine = make_engine(url)
    missing = [t for t in tables if not inspect(engine).has_table(t)]
    if missing:
        print(f"error: {engine.url.render_as_string()} has no table {', '.join(missing)}; "
              "run `hotline db upgrade` first", file=sys.stderr)
        return None
    return session_factory(engine)()


def cmd_seed(args: argparse.Namespace) -> int:
    from ivr.citizens import registry

    if args.count < 1:
        print("error: --count must be at least 1", file=sys.stderr)
        return 2
    db = _session(args.url, ("citizens", "applications"))
    if db is None:
        return 1
    with db:
        people = registry.seed(db, args.count, seed=args.seed, today=args.today)
        db.commit()
    if args.json:
        json.dump([{"full_name": p.full_name, "birth_date": p.birth_date.isoformat(),
                    "snils": p.snils, "passport": p.passport, "inn": p.inn, "mobile": p.mobile,
                    "applications": [{"number": n, "status": s} for n, s in p.applications]}
                   for p in people], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    apps = sum(len(p.applications) for p in people)
    print(f"registry: {len(people)} fictitious citizens, {apps} applications (seed {args.seed})")
    if not args.quiet:
        print("name | born (DDMMYYYY) | SNILS | passport | INN | mobile | applications")
        for p in people:
            applications = ", ".join(f"{n} {s}" for n, s in p.applications)
            print(f"{p.full_name} | {p.birth_date:%d%m%Y} | {format_snils(p.snils)} | "
                  f"{p.passport} | {p.inn} | {p.mobile} | {applications}")
    return 0


def _people_zone():
    """The database holds UTC; people read the dialplan's local time (Moscow)."""
    from ivr.dialplan.model import load_dialplan
    from ivr.dialplan.yamlconf import ConfigError

    try:
        return load_dialplan().tz
    except (ConfigError, OSError):
        return UTC


def cmd_outbox(args: argparse.Namespace) -> int:
    from ivr.citizens import sms

    db = _session(args.url, ("sms_outbox",))
    if db is None:
        return 1
    with db:
        entries = sms.list_outbox(db, datetime.now(UTC), limit=args.limit, call_id=args.call_id)
        db.commit()  # persist the purge of expired dev codes
    tz = _people_zone()
    for e in entries:
        if args.json:
            print(json.dumps({"id": e.id, "at": e.created_at.isoformat(), "call_id": e.call_id,
                              "to": e.to, "text": e.text, "dev_code": e.dev_code},
                             ensure_ascii=False))
        else:
            code = f"  code: {e.dev_code}" if e.dev_code else ""
            print(f"#{e.id} {e.created_at.astimezone(tz):%Y-%m-%d %H:%M:%S %Z} {e.call_id or '-'} "
                  f"→ {e.to}: "
                  f"{e.text}{code}")
    if not entries and not args.json:
        print("(outbox empty)")
    return 0
