"""``hotline db upgrade|status``: the schema, on SQLite or PostgreSQL alike."""
from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError


def register(sub) -> None:
    p = sub.add_parser("db", help="database schema (HOTLINE_DB_URL, default sqlite:///var/hotline.db)")
    p.add_argument("--url", default=None, help="SQLAlchemy URL (overrides HOTLINE_DB_URL)")
    ds = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    ds.add_parser("upgrade", help="create or migrate the schema to the newest revision").set_defaults(
        func=cmd_upgrade)
    ds.add_parser("status", help="the schema revision and row counts").set_defaults(func=cmd_status)


def cmd_upgrade(args) -> int:
    from ivr.store.base import make_engine
    from ivr.store.migrate import upgrade

    try:
        engine = make_engine(args.url)
        rev = upgrade(engine)
    except SQLAlchemyError as exc:
        print(f"error: cannot upgrade {args.url or 'the database'}: {exc.__class__.__name__}: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"{engine.url.render_as_string()}: at revision {rev}")
    return 0


def cmd_status(args) -> int:
    from sqlalchemy import func, inspect, select

    from ivr.store.base import make_engine
    from ivr.store.migrate import current, head
    from ivr.store.schema import metadata

    try:
        engine = make_engine(args.url)
        rev = current(engine)
        present = set(inspect(engine).get_table_names())
        print(f"{engine.url.render_as_string()}: revision {rev} (newest {head()})")
        with engine.connect() as conn:
            for name, table in sorted(metadata.tables.items()):
                count = conn.execute(select(func.count()).select_from(table)).scalar() \
                    if name in present else "missing"
                print(f"  {name}: {count}")
    except SQLAlchemyError as exc:
        print(f"error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0
