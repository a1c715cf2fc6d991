"""Spoken numbers: Russian gender/plural/case rules, checked against num2words as an oracle."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.voice import speech
from ivr.voice.speech import (
    UNITS,
    count_text,
    date_text,
    duration_text,
    plural_form,
    say_count,
    say_date,
    say_digits,
    say_duration,
    say_number,
    say_wait,
    text_of,
)

num2words = pytest.importorskip("num2words").num2words


def norm(text: str) -> str:
    return " ".join(text.replace("ё", "е").replace("-", " ").replace(",", "").replace(" and ", " ").split())


@pytest.mark.parametrize(("n", "expected"), [
    (1, "1 минута"), (2, "2 минуты"), (5, "5 минут"), (21, "21 минута"), (11, "11 минут"),
    (12, "12 минут"), (22, "22 минуты"), (0, "0 минут"), (101, "101 минута"), (111, "111 минут"),
    (1004, "1004 минуты"),
])
def test_issue_examples_of_plural_forms(n, expected):
    assert count_text(n, "minute") == expected


def test_spoken_counts_agree_in_gender():
    assert text_of(say_count(21, "minute")) == "двадцать одна минута"
    assert text_of(say_count(21, "hour")) == "двадцать один час"
    assert text_of(say_count(2, "minute")) == "две минуты"
    assert text_of(say_count(2, "day")) == "два дня"
    assert text_of(say_count(1, "try")) == "одна попытка"
    assert text_of(say_count(3, "try")) == "три попытки"
    assert text_of(say_count(1, "minute", "en"), "en") == "one minute"
    assert text_of(say_count(2, "minute", "en"), "en") == "two minutes"


@given(st.integers(0, 10**6 - 1))
def test_plural_form_matches_the_rule(n):
    form = plural_form(n)
    last, last2 = n % 10, n % 100
    if 11 <= last2 <= 14 or last in (0, 5, 6, 7, 8, 9):
        assert form == "many"
    else:
        assert form == ("one" if last == 1 else "few")


@pytest.mark.parametrize("gender", ["m", "f", "n"])
def test_every_cardinal_to_9999_matches_num2words(gender):
    for n in range(10_000):
        expected = norm(num2words(n, lang="ru", gender=gender))
        if 1000 <= n < 2000:  # we say «тысяча», not «одна тысяча»
            expected = expected.replace("одна тысяча", "тысяча", 1)
        assert norm(text_of(say_number(n, gender=gender))) == expected, n


@given(st.integers(10_000, speech.MAX_NUMBER), st.sampled_from(["m", "f", "n"]))
def test_large_cardinals_match_num2words(n, gender):
    assert norm(text_of(say_number(n, gender=gender))) == norm(num2words(n, lang="ru",
                                                                         gender=gender))


def test_english_cardinals_match_num2words():
    for n in list(range(2100)) + [9999, 21_000, 999_999]:
        assert norm(text_of(say_number(n, lang="en"), "en")) == norm(num2words(n, lang="en")), n


def test_issue_date_example():
    d = date(2027, 3, 15)
    assert date_text(d) == "15 марта 2027 года"
    assert text_of(say_date(d)) == "пятнадцатого марта две тысячи двадцать седьмого года"
    assert text_of(say_date(date(2000, 1, 1))) == "первого января двухтысячного года"
    assert text_of(say_date(date(1980, 2, 21))) == \
        "двадцать первого февраля тысяча девятьсот восьмидесятого года"
    assert text_of(say_date(d, "en"), "en") == "March fifteenth two thousand twenty seven"
    assert date_text(d, "en") == "March 15, 2027"


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(2999, 12, 31)))
def test_every_date_reads_as_genitive_ordinals(d):
    words = text_of(say_date(d))
    day = norm(num2words(d.day, lang="ru", to="ordinal", case="genitive"))
    year = norm(num2words(d.year, lang="ru", to="ordinal", case="genitive"))
    year = year.replace("одна тысяча", "тысяча", 1) if d.year >= 1000 else year
    month = speech.number_texts("ru")[f"month_gen_{d.month}"]
    assert norm(words) == f"{day} {month} {year} года"
    assert "[" not in text_of(say_date(d, "en"), "en")


def test_durations_and_waits():
    assert duration_text(90) == "1 час 30 минут"
    assert duration_text(120) == "2 часа"
    assert duration_text(0) == "0 минут"
    assert text_of(say_duration(61)) == "один час одна минута"
    assert text_of(say_wait(0.5)) == "одна минута"  # never «0 минут»
    assert text_of(say_wait(125)) == "три минуты"  # rounded up
    assert text_of(say_wait(600)) == "десять минут"
    assert duration_text(61, "en") == "1 hour 1 minute"


def test_digits_and_limits():
    assert text_of(say_digits("2021")) == "два ноль два один"
    with pytest.raises(ValueError):
        say_number(-1)
    with pytest.raises(ValueError):
        say_number(speech.MAX_NUMBER + 1)
    with pytest.raises(ValueError):
        say_count(1, "parsec")


def test_every_produced_id_has_a_text_and_every_text_is_used():
    for lang in ("ru", "en"):
        produced: set[str] = set()
        for n in range(6000):
            for g in ("m", "f", "n"):
                produced.update(say_number(n, gender=g, lang=lang))
            for unit in UNITS:
                produced.add(speech.unit_prompt(n, unit, lang))
        for day in range(1, 32):
            produced.update(say_date(date(2024, 1, day), lang))
        for month in range(1, 13):
            produced.update(say_date(date(2024, month, 1), lang))
        for year in range(1000, 3000):
            produced.update(say_date(date(year, 5, 1), lang))
        for hour in range(24):
            for minute in (0, 1, 30):
                produced.update(speech.say_time(hour, minute, lang))
        assert produced == speech.all_prompt_ids(lang), lang


def test_clock_times_and_near_dates():
    from datetime import date

    from ivr.voice.speech import say_date, say_time, text_of

    assert text_of(say_time(8), "ru") == "в восемь часов"
    assert text_of(say_time(21, 30), "ru") == "в двадцать один час тридцать минут"
    assert text_of(say_time(2, 1), "ru") == "в два часа одна минута"
    assert text_of(say_time(8, lang="en"), "en") == "at eight o'clock"
    assert text_of(say_date(date(2026, 11, 23), year=False), "ru") == "двадцать третьего ноября"
    with pytest.raises(ValueError):
        say_time(24)
