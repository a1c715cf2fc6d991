"""One-time codes sent by SMS (SPEC §5, §6): generate, keep only a keyed hash, check, resend.

* A code is 6 digits from :mod:`secrets`. The database keeps ``HMAC-SHA256(key, call_id|id|code)``
  with a key derived from the server secret, so a database copy cannot be turned back into codes
  (a plain hash of a 6-digit code would fall to a million guesses). The code is never logged.
* Valid :attr:`OtpPolicy.ttl` (5 min; the SMS says the policy's figure), :attr:`OtpPolicy.max_tries` (3) tries. A new code voids
  the previous one; a hang-up voids the live one (:func:`invalidate`).
* Resend schedule per call (SPEC §6): the first at once, the 2nd ≥ 1 min after the 1st, the 3rd
  ≥ 5 min after the 2nd, then every ≥ 10 min; at most 5 codes per call, then the call must end.
* The third wrong entry in a call — resends do not reset the count — pauses the account
  (``registry.lock_account``, ``IdentPolicy.lock_for``: minutes, not a day).
* **Per account, across calls** (issue 13 item 6: 40 calls of "two wrong codes, hang up" gave
  80 guesses and 40 SMS): within :attr:`OtpPolicy.account_window` an account gets at most
  ``account_max_sends`` codes, spaced by the same schedule whichever call asks, and at most
  ``account_max_wrong`` wrong entries; past that no code is sent and no entry is even compared
  until the window slides (SPEC §6: five attempts, then a pause). Nothing here locks an account
  for long, so knowing someone's SNILS and date of birth buys an attacker no lockout of them.

The key comes from the server secret (:mod:`ivr.citizens.secret`). Functions flush, never commit.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.citizens.registry import IdentPolicy, OtpCode, citizen_mobile, lock_account
from ivr.citizens.secret import SecretError, server_secret  # noqa: F401 - re-exported
from ivr.citizens.sms import SmsGateway, SmsMessage, forget_codes
from ivr.store.timestamps import aware as _aware
from ivr.store.timestamps import utc

log = structlog.get_logger("ivr.citizens.otp")
DEFAULT_IDENT_POLICY = IdentPolicy()

OTP_TEXT = {
    "ru": "Код для подтверждения личности на горячей линии Госуслуг: {code}. Никому его не "
          "сообщайте. Действует {ttl} мин.",
    "en": "Gosuslugi hotline identity code: {code}. Do not share it. Valid for {ttl} min.",
}


def _otp_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"hotline/otp/v1", hashlib.sha256).digest()


def code_hmac(secret: bytes, call_id: str, send_no: int, code: str) -> str:
    """Bound to the call and the send number, so one code's hash is useless anywhere else."""
    msg = f"{call_id}|{send_no}|{code}".encode()
    return hmac.new(_otp_key(secret), msg, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class OtpPolicy:
    ttl: timedelta = timedelta(minutes=5)
    max_tries: int = 3
    # Minimum gap before the 2nd, 3rd, 4th... send, measured from the previous send.
    resend_gaps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=5),
                                          timedelta(minutes=10))
    max_sends: int = 5
    account_window: timedelta = timedelta(hours=1)
    account_max_sends: int = 5
    account_max_wrong: int = 5

    def gap_before(self, send_no: int) -> timedelta:
        """Gap required before send number ``send_no`` (1-based; the first needs none)."""
        if send_no <= 1:
            return timedelta(0)
        return self.resend_gaps[min(send_no - 2, len(self.resend_gaps) - 1)]


@dataclass(frozen=True)
class SendResult:
    """``status``: ``sent`` / ``too_soon`` (wait ``retry_after``) / ``limit`` (end the call) /
    ``no_mobile`` (identify online or at an office); :func:`send_status` says ``ready``."""

    status: str
    send_no: int = 0
    expires_at: datetime | None = None
    retry_after: timedelta | None = None
    sends_left: int = 0


@dataclass(frozen=True)
class CheckResult:
    """``status``: ``ok`` / ``wrong`` (``tries_left`` > 0) / ``locked`` (last try failed, the
    account is now locked) / ``expired`` / ``none`` (no live code: resend or end)."""

    status: str
    tries_left: int = 0
    locked_until: datetime | None = None


def _codes(db: Session, call_id: str) -> list[OtpCode]:
    return list(db.scalars(select(OtpCode).where(OtpCode.call_id == call_id)
                           .order_by(OtpCode.send_no)))


def _account_codes(db: Session, citizen_id: int, now: datetime,
                   policy: OtpPolicy) -> list[OtpCode]:
    since = now - policy.account_window
    return list(db.scalars(select(OtpCode).where(OtpCode.citizen_id == citizen_id,
                                                 OtpCode.created_at > since)
                           .order_by(OtpCode.created_at, OtpCode.id)))


def _wrong(rows: list[OtpCode]) -> int:
    return sum(r.tries - (r.state == "used") for r in rows)


def send_status(db: Session, call_id: str, now: datetime,
                policy: OtpPolicy = OtpPolicy(), citizen_id: int | None = None) -> SendResult:
    """Whether a (re)send is allowed now, without sending — for the "press 1 to resend" prompt.
    With ``citizen_id`` the account's codes from every call in the window count too."""
    now = utc(now)
    rows = _codes(db, call_id)
    if len(rows) >= policy.max_sends:
        return SendResult("limit", len(rows))
    previous = rows
    if citizen_id is not None:
        account = _account_codes(db, citizen_id, now, policy)
        if (len(account) >= policy.account_max_sends
                or _wrong(account) >= policy.account_max_wrong):
            log.warning("otp_account_paused", call_id=call_id, sends=len(account))
            return SendResult("limit", len(rows))
        previous = account if len(account) > len(rows) else rows
    if previous:
        ready_at = _aware(previous[-1].created_at) + policy.gap_before(len(previous) + 1)
        if now < ready_at:
            return SendResult("too_soon", len(rows), retry_after=ready_at - now,
                              sends_left=policy.max_sends - len(rows))
    return SendResult("ready", len(rows), sends_left=policy.max_sends - len(rows))


def send_code(db: Session, *, call_id: str, citizen_id: int, now: datetime,
              gateway: SmsGateway, lang: str = "ru", policy: OtpPolicy = OtpPolicy(),
              secret: bytes | None = None) -> SendResult:
    """Make, store (hashed) and send a code to the citizen's registered mobile, if the resend
    schedule allows; the previous live code of this call is voided."""
    now = utc(now)
    status = send_status(db, call_id, now, policy, citizen_id)
    if status.status != "ready":
        return status
    mobile = citizen_mobile(db, citizen_id)
    if not mobile:
        return SendResult("no_mobile")
    secret = secret if secret is not None else server_secret()
    invalidate(db, call_id)
    send_no = status.send_no + 1
    code = f"{secrets.randbelow(10**6):06d}"
    expires = now + policy.ttl
    db.add(OtpCode(call_id=call_id, citizen_id=citizen_id, send_no=send_no, created_at=now,
                   expires_at=expires, tries=0, state="live",
                   code_hmac=code_hmac(secret, call_id, send_no, code)))
    db.flush()
    text = OTP_TEXT.get(lang, OTP_TEXT["ru"]).replace(  # the lifetime is the policy's, said
        "{ttl}", f"{policy.ttl.total_seconds() / 60:g}")  # as "мин." (no plural forms needed)
    gateway.send(db, SmsMessage(to=mobile, text=text,
                                secret_part=code, call_id=call_id, expires_at=expires), now)
    log.info("otp_sent", call_id=call_id, send_no=send_no)
    return SendResult("sent", send_no, expires, sends_left=policy.max_sends - send_no)


def check_code(db: Session, *, call_id: str, entered: str, now: datetime,
               policy: OtpPolicy = OtpPolicy(), ident_policy: IdentPolicy = DEFAULT_IDENT_POLICY,
               secret: bytes | None = None) -> CheckResult:
    """Compare the keyed digits with the call's live code (constant-time). The
    ``max_tries``-th wrong entry of the call (whichever code it was aimed at) voids the code and
    locks the account."""
    now = utc(now)
    rows = [r for r in _codes(db, call_id) if r.state == "live"]
    if not rows:
        return CheckResult("none")
    row = rows[-1]
    if now >= _aware(row.expires_at):
        invalidate(db, call_id)
        return CheckResult("expired")
    account = _account_codes(db, row.citizen_id, now, policy)
    if _wrong(account) >= policy.account_max_wrong:  # the account's guesses are spent for now
        invalidate(db, call_id)
        log.warning("otp_account_paused", call_id=call_id)
        return CheckResult("locked", 0, _aware(account[0].created_at) + policy.account_window)
    secret = secret if secret is not None else server_secret()
    row.tries += 1
    if hmac.compare_digest(row.code_hmac, code_hmac(secret, call_id, row.send_no, entered)):
        row.state = "used"
        forget_codes(db, call_id)
        db.flush()
        log.info("otp_ok", call_id=call_id)
        return CheckResult("ok")
    # Wrong entries count per call, across resends: a new code does not buy three more guesses.
    wrong = sum(r.tries - (r.state == "used") for r in _codes(db, call_id))
    left = policy.max_tries - wrong
    log.info("otp_wrong", call_id=call_id, tries_left=max(left, 0))
    if left > 0 and _wrong(account) < policy.account_max_wrong:
        db.flush()
        return CheckResult("wrong", left)
    row.state = "spent"
    forget_codes(db, call_id)
    until = lock_account(db, row.citizen_id, now, ident_policy, actor=f"ivr:{call_id}",
                         reason="wrong one-time codes")
    log.warning("otp_tries_exhausted_account_locked", call_id=call_id)
    return CheckResult("locked", 0, until)


def invalidate(db: Session, call_id: str) -> int:
    """Void every live code of the call (hang-up, end of identification); returns how many."""
    n = 0
    for row in _codes(db, call_id):
        if row.state == "live":
            row.state = "void"
            n += 1
    forget_codes(db, call_id)
    db.flush()
    return n
