"""The real side effects of a call, on the hotline's database.

Each request of :mod:`ivr.call.requests` runs in its own short transaction, committed before the
answer goes back to the machine: attempt counters, locks, one-time codes and callbacks survive a
crash or restart of the bridge between two key presses (issue 3), and no connection is held
while the caller listens to a prompt.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from ivr.call import callbacks
from ivr.call import requests as io
from ivr.call.waits import WaitEstimator
from ivr.citizens import otp, registry
from ivr.citizens.sms import OutboxGateway, SmsGateway
from ivr.store import audit
from ivr.store.base import make_engine, session_factory
from ivr.store.calls import record_call
from ivr.store.timestamps import aware

_CALLBACK_NUMBER = re.compile(r"\+7(?:9\d|3\d|4\d|8[1-7])\d{8}")  # geographic and mobile


def callback_number(raw: str) -> str | None:
    """A keyed callback number as E.164 if it is one we may call (the dialler's allow-list,
    ``dialplans/callback_dial.yaml``, has the last word at dial time)."""
    from ivr.dialplan.numbers import NumberFormatError, normalize

    try:
        number = normalize(raw)
    except NumberFormatError:
        return None
    return number if _CALLBACK_NUMBER.fullmatch(number) else None


class CallSession(Protocol):
    """What a service needs to know of the call asking (``ivr.call.session.CallSession`` has it)."""

    call_id: str
    caller: str | None
    lang: str

SEND_STATUS = {"sent": "sent", "too_soon": "later", "limit": "limit", "no_mobile": "no_mobile"}
CHECK_STATUS = {"ok": "ok", "wrong": "wrong", "locked": "locked", "expired": "expired",
                "none": "expired"}


class DbServices:
    """Registry, one-time codes, applications, callbacks and call records via SQLAlchemy."""

    def __init__(self, factory: sessionmaker, waits: WaitEstimator,
                 gateway: SmsGateway | None = None,
                 ident_policy: registry.IdentPolicy | None = None,
                 otp_policy: otp.OtpPolicy | None = None) -> None:
        self.factory = factory
        self.waits = waits
        self.gateway = gateway or OutboxGateway()
        self.ident_policy = ident_policy or registry.IdentPolicy()
        self.otp_policy = otp_policy or otp.OtpPolicy()
        self._handlers: dict[type, Callable[[Session, CallSession, Any, datetime], Any]] = {
            io.Identify: self._identify, io.SendCode: self._send_code,
            io.CheckCode: self._check_code, io.DropCode: self._drop_code,
            io.LockAccount: self._lock, io.FindApplication: self._application,
            io.RequestCallback: self._callback, io.RecordOutcome: self._outcome,
            io.ConfirmCallback: self._confirm_callback, io.CancelCallback: self._cancel_callback,
            io.FindTicket: self._ticket, io.ReopenTicket: self._ticket,
            io.OpenTicket: self._open_ticket,
            io.AskControl: self._ask_control, io.CheckControl: self._check_control,
            io.RequestEmail: self._email,
        }
        self.dialplans_dir = "dialplans"  # tickets.yaml (deadline classes), read on first use

    @classmethod
    def from_url(cls, url: str | None, waits: WaitEstimator, **kw: Any) -> DbServices:
        return cls(session_factory(make_engine(url)), waits, **kw)

    def execute(self, call: CallSession, request: Any, now: datetime) -> Any:
        if isinstance(request, io.EstimateWait):  # the estimator is live state, no database
            seconds = self.waits.expected_wait(request.skill, now, request.priority)
            return io.WaitResult(seconds, self._callback_place(call))
        handler = self._handlers[type(request)]
        with self.factory.begin() as db:
            return handler(db, call, request, now)

    # ---- handlers -----------------------------------------------------------------------------
    def _identify(self, db: Session, call: CallSession, req: io.Identify, now: datetime):
        res = registry.identify(db, birth_date=req.birth_date, now=now, call_id=call.call_id,
                                snils=req.number if req.document == "snils" else None,
                                passport=req.number if req.document == "passport" else None,
                                inn=req.inn, policy=self.ident_policy)
        audit.record(db, at=now, actor=f"ivr:{call.call_id}", action=f"identification_{res.status}",
                     subject=f"citizen:{res.citizen_id}" if res.citizen_id else None,
                     detail={"document": req.document, "reason": res.reason})
        return io.IdentifyResult(res.status, res.citizen_id)  # type: ignore[arg-type]

    def _send_code(self, db: Session, call: CallSession, req: io.SendCode, now: datetime):
        if registry.is_locked(db, req.citizen_id, now):
            return io.SendCodeResult("locked")
        res = otp.send_code(db, call_id=call.call_id, citizen_id=req.citizen_id, now=now,
                            gateway=self.gateway, lang=call.lang, policy=self.otp_policy)
        if res.status == "sent":  # the registered mobile was used
            audit.record(db, at=now, actor=f"ivr:{call.call_id}", action="otp_sent",
                         subject=f"citizen:{req.citizen_id}")
        return io.SendCodeResult(SEND_STATUS.get(res.status, "limit"))  # type: ignore[arg-type]

    def _check_code(self, db: Session, call: CallSession, req: io.CheckCode, now: datetime):
        res = otp.check_code(db, call_id=call.call_id, entered=req.code, now=now,
                             policy=self.otp_policy, ident_policy=self.ident_policy)
        return io.CheckCodeResult(CHECK_STATUS.get(res.status, "wrong"))  # type: ignore[arg-type]

    def _drop_code(self, db: Session, call: CallSession, req: io.DropCode, now: datetime):
        otp.invalidate(db, call.call_id)

    def _lock(self, db: Session, call: CallSession, req: io.LockAccount, now: datetime):
        registry.lock_account(db, req.citizen_id, now, self.ident_policy)

    def _application(self, db: Session, call: CallSession, req: io.FindApplication,
                     now: datetime):
        view = registry.application_status(db, citizen_id=req.citizen_id, number=req.number,
                                           now=now, actor=f"ivr:{call.call_id}")
        if view is None:
            return io.ApplicationResult(None)
        return io.ApplicationResult(registry.STATUS_CODES.get(view.status, view.status), view.expected_on,
                                    view.rejection_reason)

    def _callback_place(self, call: CallSession) -> int | None:
        """Place in line of a callback still pending for the caller's number (a repeat call)."""
        if not call.caller:
            return None
        with self.factory() as db:
            cb = callbacks.pending_for(db, call.caller)
            return self._place(db, cb) if cb is not None else None

    def _place(self, db: Session, cb: callbacks.Callback) -> int:
        """1-based place of a callback: in the live line when it holds a virtual place there
        (live callers and other callbacks ahead, ``queue_engine.virtual_hold``), else among the
        pending requests of its skill."""
        from queue_engine.virtual_hold import place_id

        queues = getattr(getattr(self.waits, "centre", None), "queues", None) or {}
        q = queues.get(cb.skill)
        held = q.waiting.get(place_id(cb.id)) if q is not None else None
        if held is None:
            return callbacks.position(db, cb)
        prio, at = held
        line = list(q.waiting.values())  # one C-level copy: the loop may change it meanwhile
        return 1 + sum(1 for p, j in line if p > prio or (p == prio and j < at))

    def _callback(self, db: Session, call: CallSession, req: io.RequestCallback, now: datetime):
        number = call.caller
        if req.number is not None:  # keyed by a caller whose number is withheld: confirmed
            number = callback_number(req.number)
        if not number:  # a withheld number cannot be called back
            return io.CallbackResult(False)
        existing = callbacks.pending_for(db, number)
        if existing is not None and existing.call_id != call.call_id:  # one per number
            return io.CallbackResult(True, None, self._place(db, existing), existing=True)
        rec = req.record
        arrival = datetime.fromtimestamp(rec["arrival_time"], now.tzinfo) \
            if rec.get("arrival_time") else now
        ticket = callbacks.request_callback(
            db, call_id=call.call_id, number=number, skill=req.skill,
            priority=req.priority, now=now, due=req.due, arrival=arrival,
            language=rec.get("language", "ru"), line=rec.get("line"), region=rec.get("region"),
            # dialled once the caller confirms the number (or hangs up); a keyed one is confirmed
            status="pending" if req.number is not None else "confirming")
        digits = "".join(ch for ch in number if ch.isdigit())
        return io.CallbackResult(True, req.due and ticket.due_at, ticket.position,
                                 number_tail=digits[-4:] if len(digits) >= 4 else None)

    def _confirm_callback(self, db: Session, call: CallSession, req: io.ConfirmCallback,
                          now: datetime):
        number = req.number
        if number is not None:
            number = callback_number(number)
            if number is None:
                return io.CallbackResult(False)
        cb = callbacks.confirm(db, call.call_id, number)
        if cb is None:
            return io.CallbackResult(False)
        after_hours = aware(cb.due_at) > aware(cb.requested_at)
        return io.CallbackResult(True, aware(cb.due_at) if after_hours else None,
                                 callbacks.position(db, cb))

    def _cancel_callback(self, db: Session, call: CallSession, req: io.CancelCallback,
                         now: datetime):
        if callbacks.cancel_for(db, call.caller):
            audit.record(db, at=now, actor=f"ivr:{call.call_id}", action="callback_cancelled")

    def _ticket(self, db: Session, call: CallSession, req: io.FindTicket | io.ReopenTicket,
                now: datetime):
        from ivr.records import tickets

        t = tickets.find_for_caller(db, req.number, citizen_id=req.citizen_id, caller=call.caller)
        if t is None:
            return io.TicketResult(None)
        rules = tickets.load_rules(self.dialplans_dir)
        if isinstance(req, io.ReopenTicket):
            tickets.reopen(db, t, now=now, rules=rules, actor=f"ivr:{call.call_id}")
        else:
            tickets.status_read(db, t, now=now, actor=f"ivr:{call.call_id}")
        return io.TicketResult(t.status, tickets.due_local(t, rules))

    def _open_ticket(self, db: Session, call: CallSession, req: io.OpenTicket, now: datetime):
        from ivr.records import tickets

        rules = tickets.load_rules(self.dialplans_dir)
        t = tickets.open_ticket(db, kind=rules.kind_for_skill(req.skill), now=now, rules=rules,
                                call_id=call.call_id, citizen_id=req.citizen_id,
                                caller=call.caller, actor=f"ivr:{call.call_id}")
        return io.TicketOpened(t.number, tickets.due_local(t, rules))

    def _ask_control(self, db: Session, call: CallSession, req: io.AskControl, now: datetime):
        from ivr.records import factors

        qs = factors.load_questions(self.dialplans_dir)
        asked = factors.pick_question(db, req.citizen_id, call.call_id, qs)
        if asked is None:
            return io.ControlQuestion(None)
        return io.ControlQuestion(asked.question, asked.prompt, asked.digits, qs.tries)

    def _check_control(self, db: Session, call: CallSession, req: io.CheckControl,
                       now: datetime):
        from ivr.records import factors

        status = factors.check_answer(db, citizen_id=req.citizen_id, question=req.question,
                                      answer=req.answer, now=now, call_id=call.call_id,
                                      policy=self.ident_policy)
        return io.CheckCodeResult(status)  # type: ignore[arg-type]

    def _email(self, db: Session, call: CallSession, req: io.RequestEmail, now: datetime):
        from ivr.records import factors

        factors.request_email(db, citizen_id=req.citizen_id, now=now, call_id=call.call_id,
                              actor=f"ivr:{call.call_id}")

    def _outcome(self, db: Session, call: CallSession, req: io.RecordOutcome, now: datetime):
        record_call(db, req.row)
