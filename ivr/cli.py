"""``hotline`` — the one command-line entry point.

Each area of the product registers its own subcommands: a module listed in ``COMMAND_MODULES``
exposes ``register(subparsers)`` and sets ``func`` (returning an exit code) on its parsers.
Listing a module that is not written yet is harmless; an import error inside one is not hidden.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

COMMAND_MODULES = (
    "ivr.dialplan.cli",  # hotline dialplan check|show|route|export
    "ivr.store.cli",  # hotline db upgrade|...
    "ivr.drivers.console",  # hotline call
    "ivr.citizens.cli",  # hotline registry seed, hotline sms outbox
    "ivr.voice.prompts",  # hotline prompts build|check
    "ivr.drivers.ami.serve",  # hotline serve --asterisk ami://…
    "queue_engine.cli",  # hotline forecast|staff|simulate
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="IVR and call-queue engine of the government-services 8-800 hotline",
    )
    parser.add_argument("--log-format", choices=("auto", "json", "console"), default="auto",
                        help="log rendering: JSON lines for services, readable on a terminal")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ivr.logs import configure_logging

    parser = build_parser()
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
    except Exception as exc:  # noqa: BLE001 - last line of defence: a message, a log event
        import structlog

        structlog.get_logger("hotline.cli").exception("command_failed", command=args.command)
        print(f"error: {args.command}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
