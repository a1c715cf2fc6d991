"""Events a driver feeds into an IVR session and the commands it gets back.

The contract between the sans-IO IVR core and its drivers (AMI bridge, SIP endpoint, console):

* A driver calls ``session.start(now)`` once the call is answered, then executes the returned
  commands **in order**. ``Play`` finishes without an event. Only the last command of a batch
  waits for the caller (``Collect``) or ends the call's IVR part (``Enqueue``, ``Hangup``).
* The answer to a ``Collect`` is fed back as ``Digits`` (without the terminator) or ``NoInput``.
  A key pressed during a ``Play`` with ``barge_in`` skips the rest of the batch's plays and is
  prepended to the next ``Collect``'s digits.
* ``CallerHangup`` may be fed at any moment; the session then records its outcome and returns
  no more commands.
* Time is always passed in (``now``: an aware ``datetime``); the core never reads a clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# ---- events (driver -> session) -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Digits:
    digits: str


@dataclass(frozen=True, slots=True)
class NoInput:
    """Silence until the Collect's timeout."""


@dataclass(frozen=True, slots=True)
class CallerHangup:
    cause: str = "normal"


@dataclass(frozen=True, slots=True)
class DriverError:
    """The driver could not carry out a command (prompt missing, channel gone...)."""

    detail: str


Event = Digits | NoInput | CallerHangup | DriverError


# ---- commands (session -> driver) -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Play:
    """Announce prompts in order; a prompt id names ``recordings/<lang>/<id>.wav``."""

    prompts: tuple[str, ...]
    lang: str = "ru"
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class Collect:
    """Play prompts, then collect up to ``max_digits`` keys ending at ``terminator``.

    ``terminator=""`` means none: the first ``max_digits`` keys (or the timeout) end the input,
    so ``#`` and ``*`` arrive as keys — single-key menus use it (``#`` = back, ``*`` = repeat).
    """

    prompts: tuple[str, ...]
    lang: str = "ru"
    max_digits: int = 1
    timeout_s: float = 5.0
    terminator: str = "#"


@dataclass(frozen=True, slots=True)
class SetVar:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Hand the call to the ACD queue of ``skill``; the IVR part of the call ends here."""

    skill: str
    priority: int = 0
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str = "normal"


Command = Play | Collect | SetVar | Enqueue | Hangup
