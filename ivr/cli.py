"""``hotline`` — the one command-line entry point.

Each area of the product registers its own subcommands: a module named in ``COMMANDS`` exposes
``register(subparsers)`` and sets ``func`` (returning an exit code) on its parsers. Only the
module of the command being run is imported; keep heavy imports inside the commands' functions.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command → (module that registers it, one-line help). Only the invoked command's module is
# imported, so `hotline --help` and `hotline dialplan route …` do not pay for numpy, scipy,
# SQLAlchemy or matplotlib (a command-line tool used in scripts must answer at once).
COMMANDS: dict[str, tuple[str, str]] = {
    "dialplan": ("ivr.dialplan.cli", "check, show, route and export the dialplan"),
    "db": ("ivr.store.cli", "database schema (HOTLINE_DB_URL, default sqlite:///var/hotline.db)"),
    "call": ("ivr.drivers.console", "place a test call through the IVR (prompts as text)"),
    "softphone": ("ivr.drivers.sip.softphone", "SIP test phone: dial, press keys, record"),
    "registry": ("ivr.citizens.cli", "citizen registry (fictitious demo data)"),
    "sms": ("ivr.citizens.cli", "SMS sent by the embedded gateway"),
    "prompts": ("ivr.voice.prompts", "voice prompts: build WAVs from texts, check coverage"),
    "import": ("ivr.drivers.ami.cdr", "records from Asterisk's own files (CDR/CEL CSV)"),
    "audit": ("ivr.records.cli", "audit log: verify the hash chain, show entries"),
    "keys": ("ivr.records.cli", "data keys: rotate (re-encrypt personal fields), status"),
    "retention": ("ivr.records.cli", "delete expired audio and personal fields (retention.yaml)"),
    "records": ("ivr.web.records_cli", "call recordings (auditor, logged in): list, play, export"),
    "tickets": ("ivr.records.cli", "written requests: open, show, reopen, escalate"),
    "serve": ("ivr.service.cli", "run the hotline: SIP, live ACD, dashboard (or --asterisk)"),
    "demo": ("ivr.service.cli", "serve + the default scenario's calls at accelerated time"),
    "stats": ("ivr.service.cli", "live queue figures of the running hotline (table)"),
    "user": ("ivr.web.cli", "dashboard accounts: add NAME --role R, token NAME, list"),
    "forecast": ("queue_engine.cli", "mean wait, p90, SL and abandonment by hour"),
    "staff": ("queue_engine.cli", "fewest agents per hour meeting a target"),
    "simulate": ("queue_engine.cli", "one simulated week of the scenario"),
    "erlang": ("queue_engine.cli", "Erlang A / C figures for one queue"),
    "fit": ("ivr.store.planning_cli", "fit a scenario from the calls the hotline took"),
    "report": ("ivr.store.planning_cli", "hourly report: actual calls beside the forecast"),
}


def _invoked(argv: list[str]) -> str | None:
    """The command named on the line (the first word that is one), before any parsing."""
    for word in argv:
        if word in COMMANDS:
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser of the invoked command; the others as one-line entries for ``--help``.

    With ``argv=None`` every command module is loaded (tests and documentation use that).
    """
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="IVR and call-queue engine of the government-services 8-800 hotline",
    )
    parser.add_argument("--log-format", choices=("auto", "json", "console"), default="auto",
                        help="log rendering: JSON lines for services, readable on a terminal")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _invoked(argv) if argv is not None else None
    modules = ({COMMANDS[wanted][0]} if wanted else set()) if argv is not None else {
        module for module, _ in COMMANDS.values()}
    for name in dict.fromkeys(module for module, _ in COMMANDS.values()):
        if name in modules:
            importlib.import_module(name).register(sub)
    for command, (_, help_text) in COMMANDS.items():
        if command not in sub.choices:
            sub.add_parser(command, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ivr.logs import configure_logging

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    configure_logging(args.log_format)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last line of defence: a message, a log event
        import os

        import structlog

        log = structlog.get_logger("hotline.cli")
        if os.environ.get("HOTLINE_DEBUG"):
            log.exception("command_failed", command=args.command)
        else:  # no traceback for a user: it may quote SQL parameters (a citizen's name)
            log.error("command_failed", command=args.command, error=exc.__class__.__name__)
        print(f"error: {args.command}: {exc.__class__.__name__}: {safe_message(exc)}",
              file=sys.stderr)
        return 1


def safe_message(exc: BaseException, limit: int = 200) -> str:
    """The first line of ``exc``'s message, without SQL or its parameters, at most ``limit``
    characters: a failed command must not echo personal data or 100 kB of its input."""
    text = str(exc)
    for marker in ("[SQL:", "[parameters:", "(Background on this error"):
        text = text.split(marker, 1)[0]
    text = (text.strip().splitlines() or [""])[0]
    return text if len(text) <= limit else text[:limit] + "…"


if __name__ == "__main__":
    sys.exit(main())
