"""``hotline records --user NAME list|play|export``: call recordings for a logged-in auditor.

The role is not declared on the command line: the user logs in against the dashboard's
accounts (:mod:`ivr.web.users`, argon2id), and the account's role decides — only ``auditor``
may list, play or export (:mod:`ivr.records.access` checks and audits every access). The
password comes from ``HOTLINE_PASSWORD`` (scripts) or a prompt without echo (``getpass``). A
failed login writes ``cli_login_failed`` to the audit log (the name tried, never the password)
and exits 1 with the same message for an unknown name and a wrong password.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime


def register(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("records", help="call recordings (auditor only, every access audited)")
    rec.add_argument("--url", default=None, help="SQLAlchemy URL (overrides HOTLINE_DB_URL)")
    rec.add_argument("--user", required=True,
                     help="dashboard account (its role decides; password from the prompt or "
                          "HOTLINE_PASSWORD)")
    rec.add_argument("--recordings", default=None, help="recordings root (default recordings/)")
    rec.add_argument("--at", type=datetime.fromisoformat, default=None,
                     help="act as if it were this moment (ISO; UTC unless it has an offset)")
    rsub = rec.add_subparsers(dest="records_command", metavar="ACTION", required=True)
    ls = rsub.add_parser("list", help="stored recordings, newest first")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=_logged_in("cmd_records_list"))
    ex = rsub.add_parser("export", help="a caller's copy of CALL_ID (record + audio), "
                                        "within 30 days of the call")
    ex.add_argument("call_id")
    ex.add_argument("--out", default=".", help="directory for the copy")
    ex.set_defaults(func=_logged_in("cmd_records_export"))
    play = rsub.add_parser("play", help="write CALL_ID's audio as a plain WAV file")
    play.add_argument("call_id")
    play.add_argument("--out", required=True, help="WAV file to write")
    play.set_defaults(func=_logged_in("cmd_records_play"))


def _logged_in(command: str) -> Callable[[argparse.Namespace], int]:
    """The records command ``command`` (of :mod:`ivr.records.cli`), run after a login."""

    def run(args: argparse.Namespace) -> int:
        from ivr.records import cli

        who = login(args)
        if who is None:
            print("refused: wrong user name or password", file=sys.stderr)
            return 1
        args.actor, args.role = who
        return int(getattr(cli, command)(args))

    return run


def _password(name: str) -> str:
    env = os.environ.get("HOTLINE_PASSWORD")
    if env is not None:
        return env
    import getpass

    return getpass.getpass(f"password for {name}: ")


def login(args: argparse.Namespace) -> tuple[str, str] | None:
    """(actor, role) of the account ``args.user`` if the password fits; a failure is audited."""
    from ivr.records.cli import _now
    from ivr.store import audit
    from ivr.store.base import make_engine, session_factory
    from ivr.web.users import NAME_MAX, check_password

    name = args.user.strip()[:NAME_MAX]
    password = _password(name)
    engine = make_engine(args.url)
    try:
        with session_factory(engine).begin() as db:
            user = check_password(db, name, password)
            if user is None:
                audit.record(db, at=_now(args), actor=f"cli:{name}", action="cli_login_failed",
                             subject=f"web_user:{name}",
                             detail={"command": f"records {args.records_command}"})
                return None
            return f"user:{user.name}", user.role
    finally:
        engine.dispose()
