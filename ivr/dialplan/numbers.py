"""Russian phone numbers in every notation people write them → E.164.

Accepted (all seen in the source documents or on real trunks)::

    8 800 555‑35‑35   (U+2011 hyphens, U+202F narrow no-break spaces)   8‑800‑555‑35‑35
    +7 800 555 35 35   8 (800) 555-35-35   +7 (495) 777‑77‑77   00 + 7 495 777‑77‑77
    8‑495‑777‑77 77   78005553535   8005553535   sip:88005553535@host   tel:+7-800-555-35-35
    8 10 44 20 7946 0958   (Russian international prefix 8‑10)

Rules: ``00``/``810`` international prefixes become ``+``; an 11-digit number starting with ``8``
or ``7`` is Russian (trunk prefix 8); a bare 10-digit national number gets ``+7``. Short service
numbers (2–4 digits, like ``102``) stay as they are. Anything else is refused with a reason.
"""
from __future__ import annotations

import re

# Characters people put between digits: spaces of every width, hyphens and dashes, brackets, dots.
_SEPARATORS = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\-\u2010-\u2015\u2212().\/]+")
_URI = re.compile(r"^(?:sips?|tel):(?P<user>[^@;?]*)", re.IGNORECASE)


class NumberFormatError(ValueError):
    """The input is not a phone number in any known notation."""

    def __init__(self, raw: str, reason: str):
        self.raw = raw
        self.reason = reason
        super().__init__(f"not a phone number: {raw!r}: {reason}")


def normalize(raw: str) -> str:
    """Return the E.164 form (``+78005553535``) or the short number itself (``102``)."""
    if not isinstance(raw, str):
        raise NumberFormatError(str(raw), "expected text")
    text = raw.strip()
    if not text:
        raise NumberFormatError(raw, "empty")
    uri = _URI.match(text)
    if uri:
        text = uri.group("user")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00+"):  # «00 + 7 495 …» as written in the documents
        compact = compact[2:]
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits:
        raise NumberFormatError(raw, "no digits")
    if "+" in digits:
        raise NumberFormatError(raw, "'+' only at the start")
    bad = sorted({c for c in digits if not c.isdigit()})
    if bad or not digits.isascii():
        shown = "".join(bad) or "non-ASCII digits"
        raise NumberFormatError(raw, f"unexpected character(s) {shown!r}")

    if plus:
        return _international(raw, digits)
    if digits.startswith("00"):
        return _international(raw, digits[2:])
    if digits.startswith("810") and len(digits) > 11:
        return _international(raw, digits[3:])
    if len(digits) <= 4:
        if len(digits) < 2:
            raise NumberFormatError(raw, "too short for a service number")
        return digits
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] != "0":
        return "+7" + digits
    raise NumberFormatError(raw, f"{len(digits)} digits: a Russian number has 11 "
                                 "(8 or 7 and ten more), or 10 without the trunk prefix")


def _international(raw: str, digits: str) -> str:
    if digits.startswith("7"):
        if len(digits) != 11:
            raise NumberFormatError(raw, f"+7 must be followed by 10 digits, got {len(digits) - 1}")
        return "+" + digits
    if digits.startswith("0"):
        raise NumberFormatError(raw, "a country code never starts with 0")
    if not 8 <= len(digits) <= 15:
        raise NumberFormatError(raw, f"E.164 numbers have 8 to 15 digits, got {len(digits)}")
    return "+" + digits


def is_short(number: str) -> bool:
    return number.isdigit() and len(number) <= 4


def national(e164: str) -> str:
    """``+78005553535`` → ``88005553535`` (how Russian trunks usually present a DNID)."""
    return "8" + e164[2:] if e164.startswith("+7") and len(e164) == 12 else e164.lstrip("+")


def pretty(e164: str) -> str:
    """``+78005553535`` → ``8 800 555-35-35``; other Russian numbers as ``+7 495 777-77-77``
    (the form a caller abroad dials)."""
    if e164.startswith("+7") and len(e164) == 12:
        d = e164[2:]
        prefix = "8" if d.startswith("800") else "+7"
        return f"{prefix} {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
    return e164
