"""``hotline call``: a call through the real machine and database, with text for audio.

The console is a driver like the AMI bridge and the SIP endpoint: it calls
:meth:`CallSession.start` / :meth:`CallSession.feed` and carries out the commands — here by
printing each prompt's text (``dialplans/prompts.yaml`` plus the number words of
``prompts_numbers.yaml``) and reading keys from ``--keys``, stdin or a terminal.

Key tokens (``--keys "1 2 11223344595# 01021980# code 1234567890#"``): a digit string (a
trailing ``#`` is the terminator), ``*`` / ``#`` as keys, ``_`` or ``silence`` for no input,
``hangup``, ``code`` for the last SMS code of this call (read from the dev outbox, as a tester
with a phone would), ``+SECONDS`` or ``+Nm`` to let time pass before the next key (code expiry,
resend limits). The clock starts at ``--at`` and advances with each prompt.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import yaml

from ivr.call.protocol import CallerHangup, Collect, Digits, Enqueue, Hangup, NoInput, Play, SetVar
from ivr.call.session import CallSession, Hotline
from ivr.dialplan.schedule import iso_moment

SECONDS_PER_PROMPT = 3.0


def prompt_texts(directory: str | Path = "dialplans") -> dict[str, dict[str, str]]:
    """lang -> prompt id -> text, from prompts.yaml and the number words."""
    out: dict[str, dict[str, str]] = {}
    for name in ("prompts_numbers.yaml", "prompts.yaml"):
        path = Path(directory) / name
        if path.exists():
            for lang, table in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
                out.setdefault(lang, {}).update({str(k): str(v) for k, v in table.items()})
    return out


def say(texts: dict[str, dict[str, str]], prompts: tuple[str, ...], lang: str) -> str:
    table = texts.get(lang, {})
    return " ".join(table.get(p, f"[{p}]") for p in prompts)


def parse_tokens(keys: str) -> list[str]:
    return keys.split()


def token_event(token: str, collect: Collect, code: Callable[[], str | None]) -> Any:
    """One key token -> a driver event for the pending ``collect``."""
    low = token.lower()
    if low in ("_", "silence"):
        return NoInput()
    if low == "hangup":
        return CallerHangup()
    if low == "code":
        token = code() or ""
    if collect.terminator and token.endswith(collect.terminator) and len(token) > 1:
        token = token[: -len(collect.terminator)]
    return Digits(token[: collect.max_digits]) if token else NoInput()


def _advance(token: str) -> float | None:
    if token.startswith("+") and len(token) > 1:
        body = token[1:]
        try:
            return float(body[:-1]) * 60 if body.endswith("m") else float(body)
        except ValueError:
            return None
    return None


def run_call(call: CallSession, at: datetime, keys: Iterator[str], *,
             echo: Callable[[str], None] = lambda _s: None,
             texts: dict[str, dict[str, str]] | None = None,
             code: Callable[[CallSession, datetime], str | None] | None = None,
             max_steps: int = 500) -> dict[str, Any] | None:
    """Drive one call: tokens from ``keys`` answer each Collect; returns the outcome row.
    Running out of tokens hangs up (an unfinished script is a caller who left)."""

    def words(cmd: Play | Collect) -> str:
        return say(texts, cmd.prompts, cmd.lang) if texts else " ".join(cmd.prompts)

    now = at
    commands = call.start(now)
    for _ in range(max_steps):
        collect = None
        for cmd in commands:
            if isinstance(cmd, Play | Collect):
                now += timedelta(seconds=SECONDS_PER_PROMPT * len(cmd.prompts))
                echo(f"♪ {words(cmd)}")
                if isinstance(cmd, Collect):
                    collect = cmd
            elif isinstance(cmd, Enqueue):
                echo(f"→ queue {cmd.skill} (priority {cmd.priority})")
            elif isinstance(cmd, Hangup):
                echo(f"→ hang up ({cmd.reason})")
            elif isinstance(cmd, SetVar):
                echo(f"  ({cmd.name} = {cmd.value})")
        if call.done or collect is None:
            return call.outcome
        token = next(keys, "hangup")
        while (step := _advance(token)) is not None:
            now += timedelta(seconds=step)
            echo(f"  … {step:.0f} s later")
            token = next(keys, "hangup")
        event = token_event(token, collect,
                            lambda at=now: code(call, at) if code else None)
        echo(f"> {token}")
        if isinstance(event, NoInput):
            now += timedelta(seconds=collect.timeout_s)
        commands = call.feed(event, now)
    call.feed(CallerHangup("script_too_long"), now)
    return call.outcome


def dev_code(call: CallSession, now: datetime) -> str | None:
    """The call's latest SMS code from the embedded outbox (dev mode only)."""
    from ivr.citizens.sms import list_outbox

    factory = getattr(call.hotline.services, "factory", None)
    if factory is None:
        return None
    with factory() as db:
        rows = list_outbox(db, now, call_id=call.call_id, limit=1)
        db.commit()
    return rows[0].dev_code if rows else None


def _interactive() -> Iterator[str]:
    while True:
        try:
            line = input("keys (empty = silence; 'code' = the SMS code; 'hangup'): ")
        except EOFError:
            return
        yield line.strip() or "_"


def _stdin_tokens(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield from line.split()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("call", help="place a test call through the IVR (prompts as text)")
    p.add_argument("number", help="the hotline number dialled, in any written form")
    p.add_argument("--caller", default="+79161234567", help="the caller's number")
    p.add_argument("--at", type=iso_moment, default=None,
                   help="ISO time of the call (default: now, Moscow)")
    p.add_argument("--keys", default=None, help='key tokens, e.g. "1 2 11223344595# 01021980#"')
    p.add_argument("--json", action="store_true", help="print the outcome record as JSON")
    p.add_argument("--dialplans", default="dialplans", help="directory of the YAML")
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default HOTLINE_DB_URL)")
    p.add_argument("--wait", type=float, default=None, metavar="MIN",
                   help="pretend the expected wait is MIN minutes (test the callback offer)")
    p.set_defaults(func=cmd_call)


def _start_time(at: datetime | None, tz: Any) -> datetime:
    if at is None:
        return datetime.now(tz)
    return at if at.tzinfo else at.replace(tzinfo=tz)


def cmd_call(args: argparse.Namespace) -> int:
    from ivr.call.waits import FixedWait

    waits = FixedWait(args.wait * 60) if args.wait is not None else None
    from ivr.dialplan.yamlconf import ConfigError

    try:
        hotline = Hotline.load(args.dialplans, db_url=args.db, waits=waits)
    except ConfigError as exc:  # as `dialplan check` reports it, not a traceback (issue 13)
        for problem in exc.problems[:50]:
            print(problem, file=sys.stderr)
        return 1
    factory = hotline.services.factory  # type: ignore[attr-defined]
    from ivr.store.migrate import upgrade_needed

    problem = upgrade_needed(factory.kw["bind"])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    at = _start_time(args.at, hotline.dialplan.tz)

    def echo(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    if args.keys is not None:
        keys: Iterator[str] = iter(parse_tokens(args.keys))
    elif sys.stdin.isatty():
        keys = _interactive()
    else:
        keys = _stdin_tokens(sys.stdin)
    call = hotline.new_call(did=args.number, caller=args.caller)
    outcome = run_call(call, at, keys, echo=echo, texts=prompt_texts(args.dialplans),
                       code=dev_code)
    if args.json:
        print(json.dumps(outcome, ensure_ascii=False, default=_json_default, indent=2))
    elif outcome:
        print(f"outcome: {outcome['outcome']}  skill: {outcome['skill']}  "
              f"identification: {outcome['identification']}  call id: {outcome['call_id']}")
    return 0 if outcome and outcome["outcome"] != "error" else 1
