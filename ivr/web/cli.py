"""``hotline user add NAME --role R`` · ``hotline user token NAME`` · ``hotline user list``.

A password is prompted (twice, not echoed) when a terminal is attached; otherwise — or with
``--generate`` — a random one is made and printed once. Tokens are printed once; only their
hash is kept. Every change is in the audit log.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

ROLES = ("supervisor", "auditor", "admin")  # ivr.web.users.ROLES (not imported: start-up speed)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="dashboard accounts: add, token, list")
    p.add_argument("--db", default=None, help="database URL (default $HOTLINE_DB_URL)")
    us = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    a = us.add_parser("add", help="create an account (password prompted or generated)")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--generate", action="store_true",
                   help="generate the password and print it once (default without a terminal)")
    a.set_defaults(func=cmd_add)
    t = us.add_parser("token", help="new API token for wallboards/Prometheus (printed once)")
    t.add_argument("name")
    t.set_defaults(func=cmd_token)
    ls = us.add_parser("list", help="accounts and their roles")
    ls.set_defaults(func=cmd_list)


def _factory(args: argparse.Namespace) -> Any:
    from ivr.store.base import make_engine, session_factory

    return session_factory(make_engine(args.db))


def _prompt() -> str | None:
    import getpass

    first = getpass.getpass("Пароль (password, ≥ 10 characters): ")
    if first != getpass.getpass("Ещё раз (again): "):
        print("error: the passwords differ", file=sys.stderr)
        return None
    return first


def cmd_add(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ivr.store import audit
    from ivr.web.users import UserError, add_user

    password = None
    if not args.generate and sys.stdin.isatty():
        password = _prompt()
        if password is None:
            return 2
    now = datetime.now(UTC)
    try:
        with _factory(args).begin() as db:
            made = add_user(db, args.name, args.role, now, password)
            audit.record(db, at=now, actor="cli", action="web_user_created",
                         subject=f"web_user:{args.name}", detail={"role": args.role})
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.name} ({args.role}) created")
    if password is None:
        print(f"password (shown once): {made}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ivr.store import audit
    from ivr.web.users import UserError, create_token

    now = datetime.now(UTC)
    try:
        with _factory(args).begin() as db:
            token = create_token(db, args.name, now)
            audit.record(db, at=now, actor="cli", action="web_token_created",
                         subject=f"web_user:{args.name}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"API token for {args.name} (shown once; send as 'Authorization: Bearer …'):")
    print(token)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ivr.web.users import User

    with _factory(args)() as db:
        for u in db.scalars(select(User).order_by(User.name)):
            state = " (disabled)" if u.disabled else ""
            print(f"{u.name:24} {u.role:10} since {u.created_at:%Y-%m-%d}{state}")
    return 0
