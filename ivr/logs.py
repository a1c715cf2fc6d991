"""structlog, configured once: JSON lines for services, readable output on a terminal.

Personal data never reaches a log unmasked (ARCHITECTURE rule 6). ``mask_personal_data`` runs
before any renderer and walks every event field, nested dicts and lists included:

* keys that name a secret (OTP, code, PIN, password, token, secret) are replaced whole;
* anything that looks like a phone number, SNILS, INN, passport or keyed digits — a run of six or
  more digits, however written (spaces, U+2011/U+202F, hyphens, brackets, ``+``) — keeps only its
  last two digits;
* a few technical keys (call ids, the hotline's own DIDs, ActionIDs) are left as they are, since
  they identify no person and operators need them to follow a call — a ``did``/``dnid`` only when
  it is a toll-free 8-800 number (an unknown dialled number may be someone's mobile).
"""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog

from ivr.citizens.checksums import mask_tail

SECRET_KEYS = re.compile(r"(otp|code|pin|passw|secret|token|hmac)", re.IGNORECASE)
TECHNICAL_KEYS = frozenset({
    "call_id", "did", "dnid", "e164", "line", "uniqueid", "linkedid", "action_id", "actionid",
    "command_id", "commandid", "timestamp", "event", "level", "logger", "exit_code", "status_code",
    "host", "port", "gateway",  # where the service itself listens or sends (127.0.0.1 was masked)
})
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s\u00a0\u2009\u202f\u2011\u2010\-().]*\d){5,}")


def _mask_digits(match: re.Match[str]) -> str:
    return mask_tail(match.group(0), keep=2)


def _is_service_number(value: Any) -> bool:
    """A hotline DID (toll-free 8-800 / +7 800): no person's number, kept readable."""
    digits = re.sub(r"\D", "", str(value)) if value is not None else ""
    return digits.startswith(("8800", "7800")) and len(digits) == 11


def mask_value(value: Any, key: str = "") -> Any:
    """Mask one value (recursively); ``key`` is the field name it sits under."""
    if key and key.lower() in ("did", "dnid") and not _is_service_number(value):
        return mask_value(value)  # an unknown dialled number may be a person's (item 14)
    if key and key.lower() in TECHNICAL_KEYS:
        return value
    if (key and SECRET_KEYS.search(key) and value not in (None, "", b"")
            and not isinstance(value, (Mapping, list, tuple))):
        return "***"
    if isinstance(value, str):
        return _DIGIT_RUN.sub(_mask_digits, value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return _DIGIT_RUN.sub(_mask_digits, str(value)) if abs(value) >= 100_000 else value
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v, key) for v in value)
    if isinstance(value, BaseException):
        return _DIGIT_RUN.sub(_mask_digits, repr(value))
    return value


def mask_personal_data(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: see the module docstring."""
    return {k: mask_value(v, k) for k, v in event_dict.items()}


def configure_logging(fmt: str = "auto", level: int = logging.INFO, stream=None) -> None:
    """Configure structlog once per process. ``auto``: console on a TTY, JSON otherwise."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    # Exceptions are rendered (without local variables, which could hold anything) *before*
    # masking, so a SNILS in an exception message is masked like any other field.
    if fmt == "json":
        exceptions = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        exceptions = structlog.processors.format_exc_info
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        exceptions,
        mask_personal_data,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
