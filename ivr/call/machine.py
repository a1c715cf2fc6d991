"""The IVR state machine: what a caller lives through, as events in and commands out.

Rules of this file (after python-hyper/h11's ``_state.py``):

1. Every state transition of an IVR call lives here, in :data:`_TRANSITIONS` (state, event
   type) -> handler. Nothing else decides what the caller hears next.
2. No I/O and no clock: events come in (:mod:`ivr.call.protocol` from drivers, answers from
   :mod:`ivr.call.requests`), commands go out, ``now`` is passed in. The session executes the
   non-media commands and feeds their answers back before the next driver event.
3. A state that waits for a service answer accepts only that answer (plus hang-up and driver
   error); anything else is an :class:`IvrStateError` — a bug in the session, never the caller.
4. Every call ends in exactly one :class:`~ivr.call.requests.RecordOutcome`, emitted in the same
   batch as the final ``Enqueue``/``Hangup`` (or on hang-up). After that: state ``DONE``,
   every event is ignored.
5. Behaviour is data: menus, retries, prompts and what needs identity come from
   ``dialplans/menus.yaml`` (:mod:`ivr.dialplan.menus`); numbers, dates and waits become prompt ids
   through a :class:`Speaker`; checksums are :mod:`ivr.citizens.checksums`'s.
"""
from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from ivr.call import requests as io
from ivr.call.protocol import (
    CallerHangup,
    Collect,
    Digits,
    DriverError,
    Enqueue,
    Hangup,
    NoInput,
    Play,
    SetVar,
)
from ivr.call.requests import Speaker
from ivr.citizens import checksums as identity
from ivr.dialplan.menus import Identify as IdentifySpec
from ivr.dialplan.menus import Item, Menus

Out = list[Any]  # protocol commands and machine_io requests, in order
RESULTS = ("self_served", "queued", "abandoned_ivr", "after_hours", "locked", "id_failed", "error")


MAX_SAID_WAIT_S = 4 * 3600.0  # longer estimates are not said as a figure

def keyed_number(digits: str) -> str | None:
    """An 11-digit Russian number keyed on the phone (8 or 7 first) as ``+7…``, else None."""
    d = digits.rstrip("#")
    if len(d) == 11 and d.isdigit() and d[0] in "78":
        return "+7" + d[1:]
    return None


class IvrStateError(RuntimeError):
    """An event the current state cannot take: a bug in the driver or session."""


class S(enum.Enum):
    LANGUAGE = "language"
    MENU = "menu"
    ID_DOCUMENT = "id_document"
    ID_NUMBER = "id_number"
    ID_BIRTH = "id_birth"
    ID_INN = "id_inn"
    ID_CHECK = "id_check"            # awaiting IdentifyResult
    CODE_SEND = "code_send"          # awaiting SendCodeResult
    CODE_ENTRY = "code_entry"
    CODE_CHECK = "code_check"        # awaiting CheckCodeResult
    APP_NUMBER = "app_number"
    APP_CHECK = "app_check"          # awaiting ApplicationResult
    APP_NEXT = "app_next"
    WAIT_CHECK = "wait_check"        # awaiting WaitResult
    LONG_WAIT = "long_wait"          # wait > threshold: 1 callback, 2 stay in line
    AFTER_HOURS = "after_hours"      # agents off duty: 1 leave a request, # back
    CALLBACK_CHECK = "callback_check"  # awaiting CallbackResult
    CALLBACK_CONFIRM = "callback_confirm"  # "the number ending in 45 67": 1 right, 2 another
    CALLBACK_NUMBER = "callback_number"  # keying the number to call back (11 digits)
    CALLBACK_PENDING = "callback_pending"  # a request is already in line: 1 keep, 2 cancel
    CONTROL_FETCH = "control_fetch"  # awaiting ControlQuestion (no mobile for the SMS code)
    CONTROL_ENTRY = "control_entry"
    CONTROL_CHECK = "control_check"  # awaiting CheckCodeResult for the control answer
    TICKET_NUMBER = "ticket_number"
    TICKET_CHECK = "ticket_check"    # awaiting TicketResult (a find or a reopen)
    TICKET_NEXT = "ticket_next"      # 1 reopen, * repeat, # menu, 0 operator
    REQUEST_CHECK = "request_check"  # awaiting TicketOpened (a written request left)
    REQUEST_NEXT = "request_next"    # * hear the number again, # menu, 0 operator
    DONE = "done"


CODE_STATES = frozenset({S.CODE_SEND, S.CODE_ENTRY, S.CODE_CHECK})
DOCUMENT_KEYS = {"1": "snils", "2": "passport"}


class IvrMachine:
    """One call's IVR. ``route`` is an :class:`ivr.dialplan.model.Route` (or anything with its
    fields); ``emergency`` the dialplan's (skill, priority); ``priorities`` skill -> queue
    priority from ``skills.yaml``."""

    def __init__(self, menus: Menus, route: Any, speaker: Speaker, *, call_id: str,
                 caller: str | None, did: str | None, emergency: tuple[str, int],
                 priorities: Mapping[str, int] | None = None) -> None:
        self.menus, self.route, self.speaker = menus, route, speaker
        self.cfg, self.p = menus.settings, menus.prompts
        self.call_id, self.caller, self.did = call_id, caller, did
        self.emergency, self.priorities = emergency, dict(priorities or {})
        self.state = S.LANGUAGE
        self.lang: str = route.languages[0]
        self.stack: list[str] = [route.menu]
        self.path: list[str] = []
        self.misses = 0
        self.identification = "none"
        self.citizen_id: int | None = None
        self.pending: Item | None = None
        self.document = "snils"
        self.id_number = ""
        self.birth: date | None = None
        self.id_failures = 0
        self.codes_sent = 0
        self.codes_wrong = 0
        self.last_status: tuple[str, ...] = ()
        self.self_served = False
        self.skill: str | None = None
        self.priority = 0
        self.callback_requested = False
        self.callback_tail = ""  # last digits of the number a callback will ring (to confirm)
        self.callback_confirmed = False
        self.callback_keying = False  # a withheld caller keys the number to ring instead
        self.callback_due: datetime | None = None
        self.wait_s: float | None = None  # the estimate, kept while a repeat caller decides
        self.consent: str | None = None  # recording: None (undecided) / given / refused
        self.ticket = ""
        self.control: io.ControlQuestion | None = None
        self.control_wrong = 0
        self.started_at: datetime | None = None
        self.arrival: datetime | None = None  # reached the queue stage: a callback keeps this
        self.outcome: dict[str, Any] | None = None

    # ---- public -------------------------------------------------------------------------------
    def start(self, now: datetime) -> Out:
        self.started_at = now
        menu = self.menus.menu(self.route.menu)
        if len(self.route.languages) > 1:  # the bilingual choice first, then greet in that language
            return self._ask(S.LANGUAGE)
        return [*self._play(menu.greeting, self.p.consent, barge_in=False), *self._ask(S.MENU)]

    def feed(self, event: Any, now: datetime) -> Out:
        if self.state is S.DONE:
            return []
        if isinstance(event, CallerHangup):
            out: Out = [io.DropCode(self.citizen_id)] if (
                self.state in CODE_STATES and self.citizen_id is not None) else []
            result = "self_served" if self.self_served else "abandoned_ivr"
            if self.state in (S.CALLBACK_CONFIRM, S.CALLBACK_NUMBER) and not self.callback_keying:
                # the request stands, to the number the call came from
                out.append(io.ConfirmCallback(None))
                self.callback_requested = True
                result = "queued" if self.route.open else "after_hours"
            return [*out, *self._finish(now, result, f"hangup:{event.cause}")[:-1]]
        if isinstance(event, DriverError):
            return self.fail(now, f"driver: {event.detail}")
        handler = _TRANSITIONS.get((self.state, type(event)))
        if handler is None:
            raise IvrStateError(f"state {self.state.value} cannot take {type(event).__name__}")
        return handler(self, event, now)

    def fail(self, now: datetime, detail: str) -> Out:
        """End the call with result ``error`` (the session calls this on an exception)."""
        if self.state is S.DONE:
            return []
        return self._final(now, "error", self.p.error, detail=detail)

    @property
    def done(self) -> bool:
        return self.state is S.DONE

    # ---- building blocks ----------------------------------------------------------------------
    def _play(self, *seqs: tuple[str, ...], barge_in: bool = True) -> Out:
        prompts = tuple(p for seq in seqs for p in seq)
        return [Play(prompts, self.lang, barge_in)] if prompts else []

    def _final(self, now: datetime, result: str, *seqs: tuple[str, ...],
               detail: str | None = None) -> Out:
        """Last words, not skippable by a key (a lockout must be heard), then the outcome."""
        return [*self._play(*seqs, barge_in=False), *self._finish(now, result, detail)]

    def _collect(self, prompts: tuple[str, ...], digits: int = 1) -> Collect:
        if digits > 1:  # numbers end with '#'; a single key is itself the answer ('#' = back)
            return Collect(prompts, self.lang, digits, self.cfg.digits_timeout_s, "#")
        return Collect(prompts, self.lang, 1, self.cfg.menu_timeout_s, "")

    def _ask(self, state: S, *before: tuple[str, ...], fresh: bool = True) -> Out:
        """Enter (or re-enter) a collecting state: optional plays, then its Collect."""
        if fresh:
            self.misses = 0
        self.state = state
        p = self.p
        if state is S.LANGUAGE:
            cmd = Collect(p.language, self.route.languages[0], 1, self.cfg.menu_timeout_s, "")
        elif state is S.MENU:
            cmd = self._collect((*self.menus.menu(self.stack[-1]).prompt, *p.menu_hint))
        elif state is S.CALLBACK_CONFIRM:
            cmd = self._collect((*p.callback_number_is, *self._tail(),
                                 *p.callback_number_confirm))
        elif state is S.CONTROL_ENTRY and self.control is not None:
            cmd = self._collect((self.control.prompt,), self.control.digits)
        elif state is S.ID_NUMBER:
            cmd = self._collect(p.id_snils if self.document == "snils" else p.id_passport,
                                11 if self.document == "snils" else 10)
        else:
            prompt, digits = _ASKS[state]
            cmd = self._collect(getattr(p, prompt), digits)
        return [*self._play(*before), cmd]

    def _miss(self, now: datetime, invalid: bool) -> Out:
        """Silence or a key that means nothing here: re-prompt, then the state's fallback."""
        self.misses += 1
        if self.misses > self.cfg.retries:
            self.path.append(f"{self.state.value}:retries")
            return _EXHAUSTED[self.state](self, now)
        return self._ask(self.state, self.p.invalid if invalid else self.p.no_input, fresh=False)

    def _record(self, now: datetime) -> dict[str, Any]:
        return {
            "call_id": self.call_id, "line": self.route.line, "region": self.route.region,
            "language": self.lang, "skill": self.skill, "priority": self.priority,
            "identified": self.identification == "ok",
            "arrival_time": (self.arrival or now).timestamp(),
            "history": list(self.path),
            "identification": self.identification, "callback": self.callback_requested,
        }

    def _finish(self, now: datetime, result: str, detail: str | None = None) -> Out:
        """Record the outcome; the last element is the final media command."""
        self.state = S.DONE
        self.outcome = {
            "call_id": self.call_id, "caller_number": self.caller, "did": self.did,
            "line": self.route.line, "region": self.route.region, "language": self.lang,
            "menu_path": list(self.path), "identification": self.identification,
            "skill": self.skill, "priority": self.priority,
            "callback_requested": self.callback_requested, "outcome": result,
            "consent": self.consent or "given", "detail": detail, "started_at": self.started_at or now,
            "answered_at": self.started_at or now, "ended_at": now,
        }
        if result == "queued" and not self.callback_requested:
            final: Any = Enqueue(self.skill or self.cfg.operator_skill, self.priority,
                                 self._record(now))
        else:
            final = Hangup("error" if result == "error" else "normal")
        return [io.RecordOutcome(self.outcome), final]

    def _goodbye(self, now: datetime, result: str, *before: tuple[str, ...]) -> Out:
        return self._final(now, result, *before, self.p.goodbye)

    # ---- menus --------------------------------------------------------------------------------
    def _on_language(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        langs = self.route.languages
        if not key.isdigit() or not 1 <= int(key) <= len(langs):
            return self._miss(now, invalid=bool(key))
        return self._language(langs[int(key) - 1])

    def _language(self, lang: str) -> Out:
        self.lang = lang
        self.path.append(f"lang:{lang}")
        greeting = self.menus.menu(self.route.menu).greeting
        return [SetVar("CHANNEL(language)", lang),
                *self._play(greeting, self.p.consent, barge_in=False), *self._ask(S.MENU)]

    def _on_menu(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        menu_id = self.stack[-1]
        if self.consent is None and key:  # the first key after the consent notice decides
            if key == self.cfg.consent_refuse_key:
                self.consent = "refused"
                self.path.append("consent:refused")
                return [SetVar("HOTLINE_RECORDING", "0"),
                        *self._ask(S.MENU, self.p.consent_refused)]
            self.consent = "given"
        if key == "*":
            return self._ask(S.MENU)
        if key == "#":
            if len(self.stack) > 1:
                self.stack.pop()
            return self._ask(S.MENU)
        if key == "0":
            self.path.append(f"{menu_id}:0")
            return self._queue(now, self.cfg.operator_skill)
        item = self.menus.menu(menu_id).items.get(key)
        if item is None:
            return self._miss(now, invalid=bool(key))
        self.path.append(f"{menu_id}:{key}:{item.label}")
        return self._select(item, now)

    def _menu_exhausted(self, now: datetime) -> Out:
        if self.route.open:
            return self._queue(now, self.cfg.operator_skill)
        return self._goodbye(now, "after_hours", *self._after_hours_message())

    def _select(self, item: Item, now: datetime) -> Out:
        if item.action == "emergency":
            return self._emergency(now)
        if item.action == "menu":
            self.stack.append(item.menu or "")
            return self._ask(S.MENU)
        if item.action == "info":
            self.self_served = True
            return self._ask(S.MENU, item.prompts)
        if item.action == "callback":
            self.skill, self.priority = item.skill, self._priority(item)
            return self._request_callback(now, None if self.route.open else self.route.next_open)
        if item.identify is not None and self.identification != "ok":
            self.pending = item
            return self._start_identification(item.identify)
        return self._continue(item, now)

    def _continue(self, item: Item, now: datetime) -> Out:
        if item.action == "status":
            return self._ask(S.APP_NUMBER)
        if item.action == "ticket":
            return self._ask(S.TICKET_NUMBER)
        if item.action == "request":
            self.state = S.REQUEST_CHECK
            return [io.OpenTicket(item.skill, self.citizen_id)]
        return self._queue(now, item.skill or self.cfg.operator_skill, self._priority(item))

    def _priority(self, item: Item) -> int:
        if item.priority is not None:
            return item.priority
        return self.priorities.get(item.skill or "", 0)

    # ---- queueing, waits, callbacks -----------------------------------------------------------
    def _emergency(self, now: datetime) -> Out:
        self.skill, self.priority = self.emergency
        if not self.route.emergency:  # the 24/7 path is configured closed: leave a request
            return self._ask(S.AFTER_HOURS, *self._after_hours_message())
        return self._final(now, "queued", self.p.emergency)

    def _queue(self, now: datetime, skill: str, priority: int | None = None) -> Out:
        self.skill, self.arrival = skill, now
        self.priority = self.priorities.get(skill, 0) if priority is None else priority
        if not self.route.open:
            return self._ask(S.AFTER_HOURS, *self._after_hours_message())
        self.state = S.WAIT_CHECK
        return [io.EstimateWait(skill, self.priority)]

    def _after_hours_message(self) -> tuple[tuple[str, ...], ...]:
        nxt = self.route.next_open
        when = (*self.p.next_open, *self.speaker.moment(nxt, self.lang)) if nxt else ()
        return self.p.after_hours, when

    def _on_wait(self, ev: io.WaitResult, now: datetime) -> Out:
        if ev.callback_position:  # called again while their callback waits: keep or cancel
            self.wait_s = ev.seconds
            self.path.append("callback:pending")
            return self._ask(S.CALLBACK_PENDING, self.p.callback_exists,
                             self.speaker.number(ev.callback_position, self.lang))
        return self._announce_wait(ev.seconds, now)

    def _announce_wait(self, seconds: float | None, now: datetime, offer: bool = True) -> Out:
        """Say the wait and connect; a long one offers a callback (not to one just cancelled)."""
        ev = io.WaitResult(seconds)
        if ev.seconds is None or math.isnan(ev.seconds):  # no estimate: connect without one
            return self._final(now, "queued", self.p.connecting)
        if ev.seconds > MAX_SAID_WAIT_S:  # e.g. inf when no agent serves the group: a figure
            return self._ask(S.LONG_WAIT) if offer else \
                self._final(now, "queued", self.p.connecting)  # would be wrong, the offer not
        minutes = math.ceil(max(ev.seconds, 0.0) / 60.0)
        said = (*self.p.wait_expected, *self.speaker.minutes(minutes, self.lang)) if minutes \
            else self.p.wait_short
        if offer and minutes > self.cfg.callback_offer_after_min:
            return self._ask(S.LONG_WAIT, said)
        return self._final(now, "queued", said, self.p.connecting)

    def _on_long_wait(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "1":
            return self._request_callback(now, None)
        if key == "2":
            return self._final(now, "queued", self.p.connecting)
        return self._miss(now, invalid=bool(key))

    def _long_wait_exhausted(self, now: datetime) -> Out:
        return self._final(now, "queued", self.p.connecting)

    def _on_after_hours(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "1":
            return self._request_callback(now, self.route.next_open)
        if key == "#":
            return self._ask(S.MENU)
        return self._miss(now, invalid=bool(key))

    def _after_hours_exhausted(self, now: datetime) -> Out:
        return self._goodbye(now, "after_hours")

    def _request_callback(self, now: datetime, due: datetime | None) -> Out:
        self.path.append("callback")
        self.state, self.callback_due = S.CALLBACK_CHECK, due
        skill = self.skill or self.cfg.operator_skill
        return [io.RequestCallback(skill, self.priority, due, self._record(now))]

    def _on_callback(self, ev: io.CallbackResult, now: datetime) -> Out:
        if not ev.ok and (self.callback_tail or self.callback_keying):
            # the keyed number cannot be called: another
            self.callback_confirmed, self.state = False, S.CALLBACK_NUMBER
            return self._miss_with(now, self.p.callback_number_bad)
        if not ev.ok and not self.caller:  # withheld: "leave your number" (SPEC §4) by keys
            self.callback_keying = True
            return self._ask(S.CALLBACK_NUMBER)
        if not ev.ok:
            return self._callback_failed(now)
        if ev.existing:  # one request per number: the one in line stands
            self.path.append("callback:pending")
            place = self.speaker.number(ev.position, self.lang) if ev.position else ()
            return self._goodbye(now, "self_served" if self.route.open else "after_hours",
                                 self.p.callback_exists, place, self.p.callback_kept)
        if ev.number_tail and not self.callback_confirmed:  # which phone to ring: ask
            self.callback_tail = ev.number_tail
            return self._ask(S.CALLBACK_CONFIRM)
        result = "queued" if self.route.open else "after_hours"
        self.callback_requested = True
        when = (*self.p.callback_at, *self.speaker.moment(ev.due, self.lang)) if ev.due else ()
        place = (*self.p.callback_position, *self.speaker.number(ev.position, self.lang)) \
            if ev.position else ()
        return self._goodbye(now, result, self.p.callback_accepted, when, place)

    def _callback_failed(self, now: datetime) -> Out:
        """Nobody to call back: in hours the caller stays in line, after hours says goodbye."""
        self.path.append("callback:failed")
        if self.route.open:
            return self._final(now, "queued", self.p.callback_failed, self.p.connecting)
        return self._goodbye(now, "after_hours", self.p.callback_failed)

    def _tail(self) -> tuple[str, ...]:
        """"45 67": the last four digits said as two numbers (a leading zero digit by digit)."""
        out: list[str] = []
        for pair in (self.callback_tail[-4:-2], self.callback_tail[-2:]):
            parts = (pair[:1], pair[1:]) if pair.startswith("0") else (pair,)
            for part in parts:
                if part.isdigit():
                    out.extend(self.speaker.number(int(part), self.lang))
        return tuple(out)

    def _confirm_callback(self, number: str | None) -> Out:
        self.callback_confirmed, self.state = True, S.CALLBACK_CHECK
        return [io.ConfirmCallback(number)]

    def _on_callback_confirm(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "1":
            return self._confirm_callback(None)
        if key == "2":
            return self._ask(S.CALLBACK_NUMBER)
        return self._miss(now, invalid=bool(key))

    def _on_callback_number(self, ev: Digits, now: datetime) -> Out:
        number = keyed_number(ev.digits)
        if number is None:
            return self._miss_with(now, self.p.callback_number_bad) if ev.digits \
                else self._miss(now, invalid=False)
        self.path.append("callback:number_keyed")
        if self.callback_keying:  # no request yet (withheld caller): make it with this number
            self.callback_confirmed, self.state = True, S.CALLBACK_CHECK
            skill = self.skill or self.cfg.operator_skill
            return [io.RequestCallback(skill, self.priority, self.callback_due,
                                       self._record(now), number=number)]
        return self._confirm_callback(number)

    def _callback_number_exhausted(self, now: datetime) -> Out:
        if self.callback_keying:  # a withheld caller keyed no usable number
            return self._callback_failed(now)
        return self._confirm_callback(None)  # the number the call came from

    def _on_callback_pending(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "1":
            return self._callback_kept(now)
        if key == "2":
            self.path.append("callback:cancelled")
            return [io.CancelCallback(), *self._play(self.p.callback_cancelled),
                    *self._announce_wait(self.wait_s, now, offer=False)]
        return self._miss(now, invalid=bool(key))

    def _callback_kept(self, now: datetime) -> Out:
        self.path.append("callback:kept")
        return self._goodbye(now, "self_served", self.p.callback_kept)

    # ---- identification -----------------------------------------------------------------------
    def _spec(self) -> IdentifySpec:
        return self.pending.identify if self.pending and self.pending.identify else IdentifySpec()

    def _start_identification(self, spec: IdentifySpec) -> Out:
        if len(spec.documents) == 1:
            self.document = spec.documents[0]
            return self._ask(S.ID_NUMBER)
        return self._ask(S.ID_DOCUMENT)

    def _on_document(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "#":
            return self._ask(S.MENU)
        doc = DOCUMENT_KEYS.get(key)
        if doc is None or doc not in self._spec().documents:
            return self._miss(now, invalid=bool(key))
        self.document = doc
        return self._ask(S.ID_NUMBER)

    def _attempt_failed(self, now: datetime, kind: str, retry: S, *say: tuple[str, ...]) -> Out:
        """A bad checksum, date or registry mismatch: one identification attempt used."""
        self.id_failures += 1
        self.path.append(f"id:{kind}")
        if self.id_failures >= self.cfg.id_attempts:
            return self._id_failed(now)
        return self._ask(retry, *say)

    def _id_failed(self, now: datetime, *before: tuple[str, ...]) -> Out:
        self.identification = "failed"
        out: Out = [io.DropCode(self.citizen_id)] if self.codes_sent and self.citizen_id else []
        return [*out, *self._goodbye(now, "id_failed", *before, self.p.id_failed)]

    def _lock_out(self, now: datetime) -> Out:
        self.identification = "locked"
        self.path.append("id:locked")
        return self._goodbye(now, "locked", self.p.id_locked)

    def _on_id_number(self, ev: Digits, now: datetime) -> Out:
        if not ev.digits:
            return self._miss(now, invalid=False)
        parsed = identity.parse_snils(ev.digits) if self.document == "snils" \
            else identity.parse_passport(ev.digits)
        if not parsed.ok:
            return self._attempt_failed(now, f"{self.document}_{parsed.reason}", S.ID_NUMBER,
                                        self.p.id_bad_number)
        value = parsed.value
        self.id_number = value if isinstance(value, str) else value.digits
        return self._ask(S.ID_BIRTH)

    def _on_birth(self, ev: Digits, now: datetime) -> Out:
        if not ev.digits:
            return self._miss(now, invalid=False)
        parsed = identity.parse_birth_date(ev.digits, today=now.date())
        if not parsed.ok:
            return self._attempt_failed(now, f"dob_{parsed.reason}", S.ID_BIRTH,
                                        self.p.id_bad_date)
        self.birth = parsed.value
        if self._spec().inn:
            return self._ask(S.ID_INN)
        return self._identify(None)

    def _on_inn(self, ev: Digits, now: datetime) -> Out:
        if not ev.digits:
            return self._miss(now, invalid=False)
        parsed = identity.parse_inn(ev.digits, lengths=(12,))
        if not parsed.ok:
            return self._attempt_failed(now, f"inn_{parsed.reason}", S.ID_INN,
                                        self.p.id_bad_number)
        return self._identify(parsed.value)

    def _identify(self, inn: str | None) -> Out:
        self.state = S.ID_CHECK
        assert self.birth is not None
        return [io.Identify(self.document, self.id_number, self.birth, inn)]  # type: ignore[arg-type]

    def _on_identified(self, ev: io.IdentifyResult, now: datetime) -> Out:
        self.id_number, self.birth = "", None  # keep personal numbers no longer than needed
        if ev.status == "locked":
            return self._lock_out(now)
        if ev.status != "ok" or ev.citizen_id is None:
            return self._attempt_failed(now, "no_match", S.ID_NUMBER, self.p.id_not_found)
        self.citizen_id = ev.citizen_id
        if self._spec().otp:
            self.state = S.CODE_SEND
            return [io.SendCode(ev.citizen_id)]
        return self._identified(now)

    def _identified(self, now: datetime) -> Out:
        self.identification = "ok"
        self.path.append("id:ok")
        item, self.pending = self.pending, None
        out = self._play(self.p.id_ok)
        return [*out, *self._continue(item, now)] if item else [*out, *self._ask(S.MENU)]

    def _on_code_sent(self, ev: io.SendCodeResult, now: datetime) -> Out:
        if ev.status == "sent":
            self.codes_sent += 1
            self.path.append("otp:sent")
            return self._ask(S.CODE_ENTRY, self.p.otp_sent)
        if ev.status == "locked":
            return self._lock_out(now)
        if ev.status == "no_mobile":  # SPEC §5: a control question instead, else e-mail
            self.state = S.CONTROL_FETCH
            return [io.AskControl(self.citizen_id)]  # type: ignore[arg-type]
        if ev.status == "limit" or not self.codes_sent:  # SPEC §6: the session must end
            return self._id_failed(now)
        return self._ask(S.CODE_ENTRY, self.p.otp_resend_later, fresh=False)  # old code holds

    def _on_code(self, ev: Digits, now: datetime) -> Out:
        if ev.digits.startswith("*"):
            self.state = S.CODE_SEND
            return [io.SendCode(self.citizen_id)]  # type: ignore[arg-type]
        if not ev.digits:
            return self._miss(now, invalid=False)
        self.state = S.CODE_CHECK
        return [io.CheckCode(self.citizen_id, ev.digits)]  # type: ignore[arg-type]

    def _on_code_checked(self, ev: io.CheckCodeResult, now: datetime) -> Out:
        if ev.status == "ok":
            return self._identified(now)
        if ev.status == "locked":
            return self._lock_out(now)
        if ev.status == "expired":
            return self._ask(S.CODE_ENTRY, self.p.otp_expired, fresh=False)
        self.codes_wrong += 1
        self.path.append("otp:wrong")
        if self.codes_wrong >= self.cfg.otp_wrong_max:
            return [io.LockAccount(self.citizen_id, "otp_wrong"),  # type: ignore[arg-type]
                    *self._lock_out(now)]
        return self._ask(S.CODE_ENTRY, self.p.otp_wrong, fresh=False)

    def _on_control_question(self, ev: io.ControlQuestion, now: datetime) -> Out:
        if ev.question is None:
            self.path.append("id:email_requested")
            return [io.RequestEmail(self.citizen_id),  # type: ignore[arg-type]
                    *self._id_failed(now, self.p.otp_no_mobile, self.p.email_requested)]
        self.control = ev
        self.path.append("control:asked")
        return self._ask(S.CONTROL_ENTRY)

    def _on_control_answer(self, ev: Digits, now: datetime) -> Out:
        if not ev.digits.isdigit():
            return self._miss(now, invalid=bool(ev.digits))
        self.state = S.CONTROL_CHECK
        assert self.control is not None and self.control.question is not None
        return [io.CheckControl(self.citizen_id, self.control.question,  # type: ignore[arg-type]
                                ev.digits)]

    def _on_control_checked(self, ev: io.CheckCodeResult, now: datetime) -> Out:
        if ev.status == "ok":
            self.path.append("control:ok")
            return self._identified(now)
        if ev.status == "locked":
            return self._lock_out(now)
        self.control_wrong += 1
        self.path.append("control:wrong")
        if self.control is None or self.control_wrong >= self.control.tries:
            return self._id_failed(now)
        return self._ask(S.CONTROL_ENTRY, self.p.control_wrong, fresh=False)

    def _id_exhausted(self, now: datetime) -> Out:
        return self._id_failed(now)

    # ---- application status -------------------------------------------------------------------
    def _on_app_number(self, ev: Digits, now: datetime) -> Out:
        if not ev.digits.isdigit():
            return self._miss(now, invalid=bool(ev.digits))
        self.state = S.APP_CHECK
        return [io.FindApplication(self.citizen_id, ev.digits)]  # type: ignore[arg-type]

    def _on_application(self, ev: io.ApplicationResult, now: datetime) -> Out:
        if ev.status is None:
            self.state = S.APP_NUMBER
            return self._miss_with(now, self.p.app_not_found)
        self.self_served = True
        self.path.append(f"status:{ev.status}")
        said = self.p.app_status.get(ev.status, ())
        if ev.expected and ev.status in ("accepted", "in_progress"):
            said = (*said, *self.p.app_expected, *self.speaker.day(ev.expected, self.lang))
        if ev.status == "rejected" and ev.reason:
            said = (*said, *self.p.app_reason,
                    *self.p.app_reasons.get(ev.reason, self.p.app_reason_other))
        self.last_status = said
        return self._ask(S.APP_NEXT, said)

    def _miss_with(self, now: datetime, said: tuple[str, ...]) -> Out:
        self.misses += 1
        if self.misses > self.cfg.retries:
            return _EXHAUSTED[self.state](self, now)
        return self._ask(self.state, said, fresh=False)

    def _on_app_next(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "1":
            return self._ask(S.APP_NUMBER)
        if key == "*":
            return self._ask(S.APP_NEXT, self.last_status)
        if key == "#":
            return self._ask(S.MENU)
        if key == "0":
            return self._queue(now, self.cfg.status_skill)
        return self._miss(now, invalid=bool(key))

    # ---- tickets (SPEC §8): status by number, reopen ------------------------------------------
    def _on_ticket_number(self, ev: Digits, now: datetime) -> Out:
        if not ev.digits.isdigit():
            return self._miss(now, invalid=bool(ev.digits))
        self.ticket, self.state = ev.digits, S.TICKET_CHECK
        return [io.FindTicket(ev.digits, self.citizen_id)]

    def _on_ticket(self, ev: io.TicketResult, now: datetime) -> Out:
        if ev.status is None:
            self.state = S.TICKET_NUMBER
            return self._miss_with(now, self.p.ticket_not_found)
        self.self_served = True
        self.path.append(f"ticket:{ev.status}")
        said = self.p.ticket_status.get(ev.status, ())
        if ev.due and ev.status != "resolved":
            said = (*said, *self.p.ticket_due, *self.speaker.moment(ev.due, self.lang))
        self.last_status = said
        return self._ask(S.TICKET_NEXT, said)

    def _on_ticket_next(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "1":
            self.state = S.TICKET_CHECK
            self.path.append("ticket:reopen")
            return [io.ReopenTicket(self.ticket, self.citizen_id)]
        if key == "*":
            return self._ask(S.TICKET_NEXT, self.last_status)
        if key == "#":
            return self._ask(S.MENU)
        if key == "0":
            return self._queue(now, self.cfg.operator_skill)
        return self._miss(now, invalid=bool(key))

    # ---- written requests (SPEC §8): opened from a menu branch, number and deadline read ------
    def _on_request_opened(self, ev: io.TicketOpened, now: datetime) -> Out:
        if ev.number is None:
            self.path.append("request:failed")
            return self._ask(S.MENU, self.p.ticket_open_failed)
        self.self_served = True
        self.path.append("request:opened")
        digits = tuple(p for d in ev.number for p in self.speaker.number(int(d), self.lang))
        due = (*self.p.ticket_due, *self.speaker.moment(ev.due, self.lang)) if ev.due else ()
        self.last_status = (*self.p.ticket_opened, *digits, *due)
        return self._ask(S.REQUEST_NEXT, self.last_status)

    def _on_request_next(self, ev: Digits, now: datetime) -> Out:
        key = ev.digits[:1]
        if key == "*":
            return self._ask(S.REQUEST_NEXT, self.last_status)
        if key == "#":
            return self._ask(S.MENU)
        if key == "0":
            return self._queue(now, self.cfg.operator_skill)
        return self._miss(now, invalid=bool(key))

    def _back_to_menu(self, now: datetime) -> Out:
        return self._ask(S.MENU)

    def _app_next_exhausted(self, now: datetime) -> Out:
        return self._goodbye(now, "self_served")

    def _silence(self, ev: NoInput, now: datetime) -> Out:
        return self._miss(now, invalid=False)

    def _language_exhausted(self, now: datetime) -> Out:
        return self._language(self.route.languages[0])


_ASKS: dict[S, tuple[str, int]] = {
    S.ID_DOCUMENT: ("id_choose", 1), S.ID_BIRTH: ("id_dob", 8), S.ID_INN: ("id_inn", 12),
    S.CODE_ENTRY: ("otp_enter", 6), S.APP_NUMBER: ("app_enter", 20), S.APP_NEXT: ("app_next", 1),
    S.LONG_WAIT: ("long_wait_offer", 1), S.AFTER_HOURS: ("after_hours_offer", 1),
    S.TICKET_NUMBER: ("ticket_enter", 16), S.TICKET_NEXT: ("ticket_next", 1),
    S.CALLBACK_NUMBER: ("callback_number_enter", 11),
    S.CALLBACK_PENDING: ("callback_keep_or_cancel", 1), S.REQUEST_NEXT: ("request_next", 1),
}
"""Collecting state -> (SystemPrompts field, max digits) of its question."""

Handler = Callable[[IvrMachine, Any, datetime], Out]
M = IvrMachine
_ON_DIGITS: dict[S, Handler] = {
    S.LANGUAGE: M._on_language, S.MENU: M._on_menu, S.ID_DOCUMENT: M._on_document,
    S.ID_NUMBER: M._on_id_number, S.ID_BIRTH: M._on_birth, S.ID_INN: M._on_inn,
    S.CODE_ENTRY: M._on_code, S.APP_NUMBER: M._on_app_number, S.APP_NEXT: M._on_app_next,
    S.LONG_WAIT: M._on_long_wait, S.AFTER_HOURS: M._on_after_hours,
    S.TICKET_NUMBER: M._on_ticket_number, S.TICKET_NEXT: M._on_ticket_next,
    S.CONTROL_ENTRY: M._on_control_answer,
    S.CALLBACK_CONFIRM: M._on_callback_confirm, S.CALLBACK_NUMBER: M._on_callback_number,
    S.CALLBACK_PENDING: M._on_callback_pending, S.REQUEST_NEXT: M._on_request_next,
}
_ON_ANSWER: dict[S, tuple[type, Handler]] = {
    S.ID_CHECK: (io.IdentifyResult, M._on_identified),
    S.CODE_SEND: (io.SendCodeResult, M._on_code_sent),
    S.CODE_CHECK: (io.CheckCodeResult, M._on_code_checked),
    S.APP_CHECK: (io.ApplicationResult, M._on_application),
    S.WAIT_CHECK: (io.WaitResult, M._on_wait),
    S.CALLBACK_CHECK: (io.CallbackResult, M._on_callback),
    S.TICKET_CHECK: (io.TicketResult, M._on_ticket),
    S.REQUEST_CHECK: (io.TicketOpened, M._on_request_opened),
    S.CONTROL_FETCH: (io.ControlQuestion, M._on_control_question),
    S.CONTROL_CHECK: (io.CheckCodeResult, M._on_control_checked),
}
_TRANSITIONS: dict[tuple[S, type], Handler] = {
    **{(s, Digits): h for s, h in _ON_DIGITS.items()},
    **{(s, NoInput): M._silence for s in _ON_DIGITS},
    **{(s, t): h for s, (t, h) in _ON_ANSWER.items()},
}
"""(state, event type) -> handler: the whole machine at a glance."""

_EXHAUSTED: dict[S, Callable[[IvrMachine, datetime], Out]] = {
    S.LANGUAGE: M._language_exhausted,
    S.MENU: M._menu_exhausted,
    S.ID_DOCUMENT: M._id_exhausted, S.ID_NUMBER: M._id_exhausted,
    S.ID_BIRTH: M._id_exhausted, S.ID_INN: M._id_exhausted, S.CODE_ENTRY: M._id_exhausted,
    S.APP_NUMBER: M._back_to_menu,
    S.APP_NEXT: M._app_next_exhausted,
    S.LONG_WAIT: M._long_wait_exhausted,
    S.AFTER_HOURS: M._after_hours_exhausted,
    S.TICKET_NUMBER: M._back_to_menu,
    S.CONTROL_ENTRY: M._id_exhausted,
    S.TICKET_NEXT: M._app_next_exhausted,
    S.REQUEST_NEXT: M._app_next_exhausted,
    S.CALLBACK_CONFIRM: M._callback_number_exhausted,
    S.CALLBACK_NUMBER: M._callback_number_exhausted,
    S.CALLBACK_PENDING: M._callback_kept,
}
"""What a collecting state does once its re-prompts (settings.retries) are used up."""
