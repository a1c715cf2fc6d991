"""argparse types for the queue-engine commands: refuse nonsense before any work starts.

Issue 13 item 14: ``erlang --aht inf`` crashed, ``--patience 0|-600|nan`` silently became Erlang
C, ``--threshold -20`` printed a service level, ``--rate 99999999999999/s`` tried a 42 PiB
allocation, ``staff --target ab=150%`` planned for it, an unwritable ``--plot`` failed after the
whole simulation. Each type raises ``argparse.ArgumentTypeError``: a usage message, exit 2.
"""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

MAX_RATE_PER_S = 1000.0  # far above any contact centre; keeps models' arrays bounded
MAX_AGENTS = 100_000


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: must be a finite number")
    return value


def positive_seconds(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0 seconds")
    return value


def non_negative_seconds(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 0 seconds or more")
    return value


def agents(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if not 1 <= n <= MAX_AGENTS:
        raise argparse.ArgumentTypeError(f"{n}: agents must be 1 to {MAX_AGENTS}")
    return n


def rate(text: str) -> str:
    """``9/min``, ``540/h``, ``0.15/s`` — checked, returned as given for the command to parse."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?:/\s*(s|sec|min|m|h|hour))?\s*",
                     text[:100])
    if not m:
        raise argparse.ArgumentTypeError(f"rate {text[:40]!r}: expected e.g. 9/min, 540/h")
    per = {"s": 1, "sec": 1, None: 1, "min": 60, "m": 60, "h": 3600, "hour": 3600}[m[2]]
    if float(m[1]) / per > MAX_RATE_PER_S:
        raise argparse.ArgumentTypeError(f"rate {text!r}: more than {MAX_RATE_PER_S:g} calls/s")
    return text


def target(text: str) -> str:
    """A staffing target (``queue_engine.staffing.parse_target``) with sane bounds."""
    from queue_engine.staffing import parse_target

    try:
        t = parse_target(text[:200])
    except ValueError:
        return text  # malformed: the command itself says what a target looks like (exit 2)
    if t.abandon_max is not None and not 0 < t.abandon_max < 1:
        raise argparse.ArgumentTypeError("abandonment target must be between 0 and 100 %")
    if t.asa_max is not None and t.asa_max <= 0:
        raise argparse.ArgumentTypeError("ASA target must be more than 0 seconds")
    return text


def plot_file(text: str) -> Path:
    """A chart path we can write: .png or .svg in an existing, writable directory."""
    path = Path(text)
    if path.suffix.lower() not in (".png", ".svg"):
        raise argparse.ArgumentTypeError(f"{text[:80]}: the chart must be .png or .svg")
    existed = path.exists()
    try:  # try it: permission bits say nothing for root, /proc or a read-only mount
        with path.open("ab"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text[:80]}: cannot write there "
                                         f"({exc.strerror})") from None
    if not existed:
        path.unlink()
    return path
