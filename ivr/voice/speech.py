"""Numbers, dates and durations as prompt-id sequences (audio) and as text (console).

Russian needs grammar, not lookup: a number agrees in gender with its noun («одна минута»,
«один час»), the noun takes one of three plural forms (1 / 2–4 / 5–20: «минута», «минуты»,
«минут»; 11–14 always the third), and a date reads as genitive ordinals («пятнадцатого марта
две тысячи двадцать седьмого года»). The rules live here; the words live in
``dialplans/prompts_numbers.yaml`` (lang → prompt id → text), so the console prints exactly
the words the recordings say and ``hotline prompts build`` voices the same texts.

Prompt ids (each names ``recordings/<lang>/<id>.wav``) — Russian: ``num_0``…``num_900``
with ``num_1_m/f/n`` and ``num_2_m/f``, ``num_1000_one/few/many``, ``ord_gen_*``,
``month_gen_1..12``, ``word_year_gen``, ``unit_<unit>_one/few/many``. English: ``num_0..90``,
``num_hundred``, ``num_thousand``, ``ord_1..31``, ``month_1..12``, ``unit_<unit>_one/many``.
"""
from __future__ import annotations

import math
import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

Gender = Literal["m", "f", "n"]
Form = Literal["one", "few", "many"]

# Grammatical gender of each countable noun (Russian) — decides «один/одна», «два/две».
UNITS: dict[str, Gender] = {"minute": "f", "hour": "m", "second": "f", "day": "m",
                            "workday": "m", "try": "f", "ruble": "m"}
MAX_NUMBER = 999_999
LANGS = ("ru", "en")


def numbers_yaml() -> Path:
    """Where the number texts live: ``$HOTLINE_DIALPLANS`` or the repository's ``dialplans/``."""
    base = os.environ.get("HOTLINE_DIALPLANS")
    root = Path(base) if base else Path(__file__).resolve().parents[2] / "dialplans"
    return root / "prompts_numbers.yaml"


@lru_cache(maxsize=4)
def _texts(path: str) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {lang: {str(k): str(v) for k, v in table.items()} for lang, table in data.items()}


def number_texts(lang: str | None = None) -> dict:
    """All number prompt texts (lang → id → text), or one language's table."""
    texts = _texts(str(numbers_yaml()))
    return texts if lang is None else texts[lang]


def plural_form(n: int) -> Form:
    """Russian plural class of ``n``: 1, 21, 101 → one; 2–4, 22 → few; 0, 5–20, 111 → many."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"
    return "many"


def _check(n: int) -> None:
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"can speak 0..{MAX_NUMBER}, not {n}")


# ---- Russian ------------------------------------------------------------------------------------
def _ru_below_1000(n: int, gender: Gender) -> list[str]:
    out: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        out.append(f"num_{hundreds * 100}")
    if 10 <= rest <= 19:
        out.append(f"num_{rest}")
        return out
    tens, units = divmod(rest, 10)
    if tens:
        out.append(f"num_{tens * 10}")
    if units == 1:
        out.append(f"num_1_{gender}")
    elif units == 2:
        out.append("num_2_f" if gender == "f" else "num_2_m")
    elif units:
        out.append(f"num_{units}")
    return out


def _ru_number(n: int, gender: Gender) -> list[str]:
    if n == 0:
        return ["num_0"]
    thousands, rest = divmod(n, 1000)
    out: list[str] = []
    if thousands:
        if thousands > 1:  # «тысяча», not «одна тысяча»; but «двадцать одна тысяча»
            out += _ru_below_1000(thousands, "f")
        out.append(f"num_1000_{plural_form(thousands)}")
    if rest:
        out += _ru_below_1000(rest, gender)
    return out


def _ru_ordinal_genitive(n: int) -> list[str]:
    """«пятнадцатого», «двадцать первого», «две тысячи двадцать седьмого» (1 ≤ n ≤ 2999)."""
    if not 1 <= n <= 2999:
        raise ValueError(f"can speak ordinals 1..2999, not {n}")
    thousands, rest = divmod(n, 1000)
    if rest == 0:
        return [f"ord_gen_{n}"]
    out = _ru_number(thousands * 1000, "f") if thousands else []
    hundreds, below = divmod(rest, 100)
    if below == 0:
        return [*out, f"ord_gen_{hundreds * 100}"]
    if hundreds:
        out.append(f"num_{hundreds * 100}")
    if below < 20:
        return [*out, f"ord_gen_{below}"]
    tens, units = divmod(below, 10)
    if units == 0:
        return [*out, f"ord_gen_{tens * 10}"]
    return [*out, f"num_{tens * 10}", f"ord_gen_{units}"]


# ---- English ------------------------------------------------------------------------------------
def _en_below_1000(n: int) -> list[str]:
    out: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        out += [f"num_{hundreds}", "num_hundred"]
    if rest >= 20:
        tens, units = divmod(rest, 10)
        out.append(f"num_{tens * 10}")
        if units:
            out.append(f"num_{units}")
    elif rest or not out:
        out.append(f"num_{rest}")
    return out


def _en_number(n: int) -> list[str]:
    thousands, rest = divmod(n, 1000)
    out = [*_en_below_1000(thousands), "num_thousand"] if thousands else []
    if rest or not out:
        out += _en_below_1000(rest)
    return out


# ---- public: prompt ids -------------------------------------------------------------------------
def say_number(n: int, *, gender: Gender = "m", lang: str = "ru") -> list[str]:
    """Cardinal ``n`` (0–999 999) as prompt ids; ``gender`` is the noun's (Russian only)."""
    _check(n)
    return _ru_number(n, gender) if lang == "ru" else _en_number(n)


def unit_prompt(n: int, unit: str, lang: str = "ru") -> str:
    """The noun's form after ``n``: ``unit_minute_few`` for 2 in Russian."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; known: {', '.join(UNITS)}")
    if lang == "ru":
        return f"unit_{unit}_{plural_form(n)}"
    return f"unit_{unit}_{'one' if n == 1 else 'many'}"


def say_count(n: int, unit: str, lang: str = "ru") -> list[str]:
    """«21 минута» → ``num_20 num_1_f unit_minute_one``."""
    return [*say_number(n, gender=UNITS.get(unit, "m"), lang=lang), unit_prompt(n, unit, lang)]


def say_date(d: date, lang: str = "ru", *, year: bool = True) -> list[str]:
    """«пятнадцатого марта две тысячи двадцать седьмого года» / "March fifteenth, 2027";
    ``year=False`` for near dates («двадцать третьего ноября»)."""
    if lang == "ru":
        out = [*_ru_ordinal_genitive(d.day), f"month_gen_{d.month}"]
        return [*out, *_ru_ordinal_genitive(d.year), "word_year_gen"] if year else out
    out = [f"month_{d.month}", f"ord_{d.day}"]
    return [*out, *_en_number(d.year)] if year else out


def say_time(hour: int, minute: int = 0, lang: str = "ru") -> list[str]:
    """A clock time: «в восемь часов», «в девять часов тридцать минут»; "at eight o'clock"."""
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"no such time {hour}:{minute:02d}")
    if lang == "ru":
        out = ["word_at", *say_count(hour, "hour", lang)]
        return [*out, *say_count(minute, "minute", lang)] if minute else out
    out = ["word_at", *_en_number(hour)]
    return [*out, *_en_number(minute)] if minute else [*out, "word_oclock"]


def split_minutes(minutes: int) -> tuple[int, int]:
    return divmod(max(0, minutes), 60)


def say_duration(minutes: int, lang: str = "ru") -> list[str]:
    """Whole minutes as «1 час 30 минут» (hours omitted when 0, minutes when 0 and hours > 0)."""
    hours, mins = split_minutes(minutes)
    out = say_count(hours, "hour", lang) if hours else []
    if mins or not hours:
        out += say_count(mins, "minute", lang)
    return out


def wait_minutes(seconds: float) -> int:
    """A wait announced in whole minutes, rounded up, never «0 минут»."""
    return max(1, math.ceil(seconds / 60 - 1e-9))


def say_wait(seconds: float, lang: str = "ru") -> list[str]:
    """Expected wait for the queue announcement: «примерно ... 5 минут»."""
    return say_duration(wait_minutes(seconds), lang)


def say_digits(digits: str, lang: str = "ru") -> list[str]:
    """Read a number digit by digit (an application number, a ticket)."""
    return [say_number(int(d), lang=lang)[0] for d in digits if d.isdigit()]


# ---- public: text -------------------------------------------------------------------------------
def text_of(prompt_ids: list[str] | tuple[str, ...], lang: str = "ru") -> str:
    """The words the prompts say, joined — what the console prints for audio."""
    table = number_texts(lang)
    return " ".join(table.get(p, f"[{p}]") for p in prompt_ids)


def count_text(n: int, unit: str, lang: str = "ru") -> str:
    """«21 минута», «2 минуты», «5 минут» (digits plus the right noun form)."""
    return f"{n} {number_texts(lang)[unit_prompt(n, unit, lang)]}"


def duration_text(minutes: int, lang: str = "ru") -> str:
    hours, mins = split_minutes(minutes)
    parts = [count_text(hours, "hour", lang)] if hours else []
    if mins or not hours:
        parts.append(count_text(mins, "minute", lang))
    return " ".join(parts)


def date_text(d: date, lang: str = "ru") -> str:
    """«15 марта 2027 года» / "March 15, 2027"."""
    table = number_texts(lang)
    if lang == "ru":
        return f"{d.day} {table[f'month_gen_{d.month}']} {d.year} {table['word_year_gen']}"
    return f"{table[f'month_{d.month}']} {d.day}, {d.year}"


def all_prompt_ids(lang: str) -> set[str]:
    """Every id this module can produce in ``lang`` (= the YAML's table for it)."""
    return set(number_texts(lang))
