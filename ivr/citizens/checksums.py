"""Parsers and checksums for what a caller keys in to identify (SPEC §5).

Pure functions, no I/O and no clock: the caller passes ``today``. Each ``parse_*`` returns either
a :class:`Valid` holding the normalised value or an :class:`Invalid` holding a reason code the
IVR maps to a prompt (and a human sentence for logs and the console). Catching a mistyped number
here, by its real checksum, lets the IVR re-prompt at once instead of querying the registry.

Rules implemented (public, documented by the issuers):

* **SNILS** (11 digits ``XXX-XXX-XXX YY``): ``YY`` = Σ dᵢ·(10−i) over the nine digits, then
  ``< 100`` → itself, ``100``/``101`` → ``00``, ``> 101`` → ``sum mod 101`` (``100`` → ``00``).
  Numbers up to ``001-001-998`` were issued before the checksum existed: their check digits are
  not verified. ``000-000-000`` is never issued.
* **INN**: 10 digits (organisation) — one check digit; 12 digits (person) — two check digits,
  each ``(Σ dᵢ·wᵢ mod 11) mod 10`` with the Federal Tax Service weights.
* **Passport** (Russian internal): 4-digit series + 6-digit number; no checksum exists, so only
  shape is checked (all-zero series or number is never issued).
* **Date of birth** ``DDMMYYYY``: a real calendar date, not after ``today``, at most
  :data:`MAX_AGE_YEARS` years ago.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_AGE_YEARS = 120
# What a human may type between digit groups (U+2011 / U+202F appear in the source documents).
_SEPARATORS = re.compile(r"[\s\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\-./()]")

SNILS_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)
SNILS_UNCHECKED_MAX = 1_001_998  # nine-digit body 001-001-998 and below: no checksum
INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


@dataclass(frozen=True, slots=True)
class Valid(Generic[T]):
    value: T

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Invalid:
    """``reason`` is a stable code (``empty``, ``not_digits``, ``length``, ``checksum``,
    ``reserved``, ``no_such_date``, ``future``, ``too_old``); ``message`` is for humans."""

    reason: str
    message: str

    @property
    def ok(self) -> bool:
        return False


Result = Valid[T] | Invalid


@dataclass(frozen=True, slots=True)
class Passport:
    series: str
    number: str

    @property
    def digits(self) -> str:
        return self.series + self.number


def _digits(raw: str, what: str) -> str | Invalid:
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        return Invalid("empty", f"{what}: nothing was entered")
    if not text.isascii() or not text.isdigit():
        return Invalid("not_digits", f"{what}: only digits are allowed")
    return text


# ---- SNILS ------------------------------------------------------------------------------------
def snils_check_digits(body: str) -> str:
    """The two check digits for a nine-digit SNILS body (the formula, whatever the range)."""
    total = sum(int(d) * w for d, w in zip(body, SNILS_WEIGHTS, strict=True))
    if total < 100:
        check = total
    elif total in (100, 101):
        check = 0
    else:
        check = total % 101
        if check == 100:
            check = 0
    return f"{check:02d}"


def parse_snils(raw: str) -> Result[str]:
    """11 digits with a valid checksum → ``Valid("11223344595")``."""
    text = _digits(raw, "SNILS")
    if isinstance(text, Invalid):
        return text
    if len(text) != 11:
        return Invalid("length", f"SNILS: 11 digits expected, got {len(text)}")
    body, check = text[:9], text[9:]
    if int(body) == 0:
        return Invalid("reserved", "SNILS: 000-000-000 is never issued")
    if int(body) > SNILS_UNCHECKED_MAX and snils_check_digits(body) != check:
        return Invalid("checksum", "SNILS: check digits do not match")
    return Valid(text)


def format_snils(snils: str) -> str:
    """``11223344595`` → ``112-233-445 95`` (how it is printed on the card)."""
    return f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"


# ---- INN --------------------------------------------------------------------------------------
def _inn_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn10_from(body: str) -> str:
    """Complete a nine-digit body to a valid organisation INN."""
    return body + _inn_digit(body, INN10_WEIGHTS)


def inn12_from(body: str) -> str:
    """Complete a ten-digit body to a valid personal INN."""
    eleven = body + _inn_digit(body, INN12_WEIGHTS_11)
    return eleven + _inn_digit(eleven, INN12_WEIGHTS_12)


def parse_inn(raw: str, *, lengths: tuple[int, ...] = (10, 12)) -> Result[str]:
    """10-digit (organisation) or 12-digit (person) INN with valid check digit(s).

    ``lengths`` narrows what is accepted: a citizen line asks for ``(12,)``.
    """
    text = _digits(raw, "INN")
    if isinstance(text, Invalid):
        return text
    if len(text) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        return Invalid("length", f"INN: {want} digits expected, got {len(text)}")
    if int(text) == 0:
        return Invalid("reserved", "INN: all zeros is never issued")
    expected = inn10_from(text[:9]) if len(text) == 10 else inn12_from(text[:10])
    if expected != text:
        return Invalid("checksum", "INN: check digit does not match")
    return Valid(text)


# ---- passport ---------------------------------------------------------------------------------
def parse_passport(raw: str) -> Result[Passport]:
    """Series (4 digits) + number (6 digits), keyed as one run of 10 digits."""
    text = _digits(raw, "passport")
    if isinstance(text, Invalid):
        return text
    if len(text) != 10:
        return Invalid("length", f"passport: 10 digits expected (4 series + 6 number), "
                                 f"got {len(text)}")
    series, number = text[:4], text[4:]
    if series == "0000" or number == "000000":
        return Invalid("reserved", "passport: an all-zero series or number is never issued")
    return Valid(Passport(series, number))


# ---- date of birth ----------------------------------------------------------------------------
def parse_birth_date(raw: str, *, today: date) -> Result[date]:
    """``DDMMYYYY`` → a date that exists, is not after ``today`` and not absurdly old."""
    text = _digits(raw, "date of birth")
    if isinstance(text, Invalid):
        return text
    if len(text) != 8:
        return Invalid("length", f"date of birth: 8 digits DDMMYYYY expected, got {len(text)}")
    day, month, year = int(text[:2]), int(text[2:4]), int(text[4:])
    try:
        born = date(year, month, day)
    except ValueError:
        return Invalid("no_such_date", "date of birth: no such calendar date")
    if born > today:
        return Invalid("future", "date of birth: lies in the future")
    if today.year - born.year > MAX_AGE_YEARS:
        return Invalid("too_old", f"date of birth: more than {MAX_AGE_YEARS} years ago")
    return Valid(born)


def mask_tail(value: str, keep: int = 2) -> str:
    """Every digit but the last ``keep`` replaced by ``*`` — for the console and agent screens."""
    total = sum(ch.isdigit() for ch in value)
    seen = 0
    out = []
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)
