"""What the IVR machine asks of the outside world, and the answers it is fed back.

Media commands and driver events live in :mod:`ivr.call.protocol` (drivers see only those). The
requests here — look up a citizen, send a one-time code, estimate a wait, write the outcome —
are executed by :class:`ivr.call.session.CallSession` itself, which feeds the answer back into the
machine at once, before any further driver event. Keeping them as plain data (not callbacks)
is what keeps :mod:`ivr.call.machine` sans-IO and lets its tests read every side effect it wants.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

# ---- how numbers are said ---------------------------------------------------------------------


class Speaker(Protocol):
    """Numbers, dates and moments as prompt-id sequences (``ivr.voice.speech`` behind it)."""

    def minutes(self, n: int, lang: str) -> tuple[str, ...]: ...
    def number(self, n: int, lang: str) -> tuple[str, ...]: ...
    def day(self, d: date, lang: str) -> tuple[str, ...]: ...
    def moment(self, at: datetime, lang: str) -> tuple[str, ...]: ...


# ---- requests (machine -> session) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identify:
    """Match validated numbers against the registry (counts failures, honours locks)."""

    document: Literal["snils", "passport"]
    number: str
    birth_date: date
    inn: str | None = None


@dataclass(frozen=True, slots=True)
class SendCode:
    """Send (or resend) a one-time code by SMS to the citizen's registered mobile."""

    citizen_id: int


@dataclass(frozen=True, slots=True)
class CheckCode:
    citizen_id: int
    code: str


@dataclass(frozen=True, slots=True)
class DropCode:
    """The caller left while a code was live: void it now rather than at its TTL."""

    citizen_id: int


@dataclass(frozen=True, slots=True)
class LockAccount:
    citizen_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class FindApplication:
    citizen_id: int
    number: str


@dataclass(frozen=True, slots=True)
class EstimateWait:
    skill: str
    priority: int


@dataclass(frozen=True, slots=True)
class RequestCallback:
    """Leave a request. ``due`` None = as soon as an agent is free, keeping the caller's place
    (``record['arrival_time']``); otherwise the first working hour. ``number``: the number a
    caller whose own is withheld keyed (``+7…``), already confirmed; None = the caller id."""

    skill: str
    priority: int
    due: datetime | None
    record: dict[str, Any] = field(default_factory=dict)
    number: str | None = None


@dataclass(frozen=True, slots=True)
class ConfirmCallback:
    """The caller confirmed the number of the request just left (``number`` None: the caller
    id) or keyed another (``+7…``): the request may now be dialled."""

    number: str | None = None


@dataclass(frozen=True, slots=True)
class CancelCallback:
    """A repeat caller cancels the callback still pending for their number."""


@dataclass(frozen=True, slots=True)
class FindTicket:
    """A repeat caller quotes a ticket number (SPEC §8): its status, if it is theirs."""

    number: str
    citizen_id: int | None


@dataclass(frozen=True, slots=True)
class ReopenTicket:
    number: str
    citizen_id: int | None


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """The caller leaves a written request (SPEC §8) from a menu branch of ``skill``: a ticket
    of the branch's deadline class (tickets.yaml ``by_skill``), tied to the identified citizen
    or else to the number the call came from."""

    skill: str | None
    citizen_id: int | None


@dataclass(frozen=True, slots=True)
class AskControl:
    """The SMS code cannot be delivered: which control question may this citizen answer?"""

    citizen_id: int


@dataclass(frozen=True, slots=True)
class CheckControl:
    citizen_id: int
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class RequestEmail:
    """No factor left to ask: record an e-mail confirmation request (SPEC §5)."""

    citizen_id: int


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """The call's one outcome row (columns of ``ivr.store.models.Call``)."""

    row: dict[str, Any]


Request = (Identify | SendCode | CheckCode | DropCode | LockAccount | FindApplication
           | EstimateWait | RequestCallback | ConfirmCallback | CancelCallback | FindTicket
           | ReopenTicket | OpenTicket | AskControl | CheckControl | RequestEmail
           | RecordOutcome)
FIRE_AND_FORGET = (DropCode, LockAccount, RequestEmail, RecordOutcome, CancelCallback)
"""Requests with no answer: the machine does not wait for them."""

# ---- answers (session -> machine) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentifyResult:
    status: Literal["ok", "failed", "locked"]
    citizen_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendCodeResult:
    """``later``: resend asked too soon (SPEC §6 back-off); ``limit``: no more sends in this
    session; ``no_mobile``: nowhere to send it."""

    status: Literal["sent", "later", "limit", "no_mobile", "locked"]


@dataclass(frozen=True, slots=True)
class CheckCodeResult:
    status: Literal["ok", "wrong", "expired", "locked"]


@dataclass(frozen=True, slots=True)
class ApplicationResult:
    """``status``: accepted / in_progress / completed / rejected; None when not found (or not
    the caller's: the same answer, so nothing leaks)."""

    status: str | None
    expected: date | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class WaitResult:
    """Expected wait in seconds for that skill and priority; None when unknown.
    ``callback_position``: the caller's number already has a callback pending at that place."""

    seconds: float | None
    callback_position: int | None = None


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """``number_tail``: the last four digits of the number to call, to be confirmed by the
    caller (the request waits until then); ``existing``: a request for this number was already
    pending (no new one was made)."""

    ok: bool
    due: datetime | None = None
    position: int | None = None
    number_tail: str | None = None
    existing: bool = False


@dataclass(frozen=True, slots=True)
class TicketResult:
    """``status`` open / in_progress / reopened / escalated / resolved; None when not found
    (or not the caller's: the same answer). ``due``: the answer deadline."""

    status: str | None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketOpened:
    """The new ticket's ``number`` (digits, read back) and answer deadline ``due`` (local time,
    computed in working time); ``number`` None: it could not be opened."""

    number: str | None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class ControlQuestion:
    """``question`` None: the citizen answered none. ``prompt``/``digits`` say how to ask;
    ``tries``: wrong answers allowed in this call. The check answers a CheckCodeResult."""

    question: str | None
    prompt: str = ""
    digits: int = 4
    tries: int = 2


Answer = (IdentifyResult | SendCodeResult | CheckCodeResult | ApplicationResult | WaitResult
          | CallbackResult | TicketResult | TicketOpened | ControlQuestion)
