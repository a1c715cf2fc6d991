"""Which callback numbers may be dialled: normalised Russian E.164 behind an allow-list.

The dialler used to put the stored number (from the raw caller id) straight into
``Local/<number>@hotline-callback``: ``s@from-internal/n`` or ``+882…`` were dialled as given
(issue 13 item 7). Now a number is normalised (``ivr.dialplan.numbers``), must be ``+7`` and
ten digits, and must start with a prefix from ``dialplans/callback_dial.yaml``; anything else is
refused before a dial string is built. The exported ``[hotline-callback]`` pattern matches the
same shape (``_+7XXXXXXXXXX``).
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from ivr.dialplan.numbers import NumberFormatError, normalize
from ivr.dialplan.yamlconf import load_yaml, validate

FILE = "callback_dial.yaml"
DEFAULT_PREFIXES = ("+79", "+73", "+74", "+781", "+782", "+783", "+784", "+785", "+786", "+787")
_RU_E164 = re.compile(r"\+7\d{10}")


class CallbackDial(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_prefixes: tuple[str, ...] = DEFAULT_PREFIXES

    @field_validator("allow_prefixes")
    @classmethod
    def _prefixes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            if not re.fullmatch(r"\+7\d{1,9}", p):
                raise ValueError(f"{p!r}: a prefix is +7 and up to nine more digits")
        return v


def load_prefixes(directory: str | Path = "dialplans") -> tuple[str, ...]:
    """The allow-list from ``<directory>/callback_dial.yaml`` (defaults when absent)."""
    path = Path(directory) / FILE
    if not path.exists():
        return DEFAULT_PREFIXES
    return validate(load_yaml(path), CallbackDial).allow_prefixes


def dial_number(raw: str | None, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> str | None:
    """The number to dial, or None when it must not be dialled."""
    if not raw or len(raw) > 40:
        return None
    try:
        number = normalize(raw)
    except NumberFormatError:
        return None
    if not _RU_E164.fullmatch(number) or not number.startswith(tuple(prefixes)):
        return None
    return number
