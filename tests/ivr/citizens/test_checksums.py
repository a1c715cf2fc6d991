"""Checksums and parsers for caller-keyed identifiers (SPEC §5)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ivr.citizens.checksums import (
    Invalid,
    Passport,
    Valid,
    format_snils,
    inn10_from,
    inn12_from,
    mask_tail,
    parse_birth_date,
    parse_inn,
    parse_passport,
    parse_snils,
    snils_check_digits,
)

TODAY = date(2026, 11, 22)


def body(n: int, low: int = 0):
    return st.integers(min_value=low, max_value=10**n - 1).map(lambda v: f"{v:0{n}d}")


# ---- SNILS -------------------------------------------------------------------------------------
@pytest.mark.parametrize("snils", ["112-233-445 95", "11223344595", "112 233 445 95",
                                   "112\u2011233\u2011445\u202f95"])
def test_known_valid_snils_in_any_written_form(snils):
    assert parse_snils(snils) == Valid("11223344595")


@pytest.mark.parametrize(("body", "check"), [
    ("141008407", "99"),  # sum 99: the sum itself
    ("026002389", "00"),  # sum 100 -> 00
    ("030214884", "00"),  # sum 101 -> 00
    ("126103073", "01"),  # sum 102 -> 102 mod 101
    ("543546368", "00"),  # sum 201 -> 201 mod 101 = 100 -> 00
    ("936898467", "00"),  # sum 303 -> 0
])
def test_snils_check_digits_at_the_edges(body, check):
    assert snils_check_digits(body) == check
    assert parse_snils(body + check).ok


def test_snils_check_digit_formula_matches_definition():
    for b, expected in [("112233445", "95"), ("000000000", "00")]:
        assert snils_check_digits(b) == expected


@given(body(9, low=1_001_999))
def test_snils_built_with_its_check_digits_is_valid(b):
    assert parse_snils(b + snils_check_digits(b)) == Valid(b + snils_check_digits(b))


@given(body(9, low=1_001_999), body(2))
def test_snils_with_other_check_digits_is_refused(b, check):
    if check != snils_check_digits(b):
        result = parse_snils(b + check)
        assert isinstance(result, Invalid) and result.reason == "checksum"


def _weighted(b: str) -> int:
    return sum(int(d) * (9 - i) for i, d in enumerate(b)) % 101


@given(body(9, low=1_001_999), st.integers(0, 8), st.integers(1, 9))
@example("001863100", 8, 1)  # sum 100 -> 101: both give check digits 00 (found by hypothesis)
def test_any_single_digit_typo_in_snils_body_is_caught(b, pos, delta):
    """Every typo is caught except one the checksum cannot see by design: the weighted sums
    100 and 101 (≡ 0) both give "00", so a typo moving the sum between them passes."""
    good = b + snils_check_digits(b)
    typo = b[:pos] + str((int(b[pos]) + delta) % 10) + b[pos + 1:]
    if int(typo) > 1_001_998:
        blind = {_weighted(b), _weighted(typo)} <= {0, 100}
        assert parse_snils(typo + good[9:]).ok is blind


@given(st.integers(1, 1_001_998), body(2))
def test_early_snils_up_to_001_001_998_skip_the_checksum(b, check):
    assert parse_snils(f"{b:09d}{check}").ok


def test_snils_reasons():
    assert parse_snils("").reason == "empty"
    assert parse_snils("1122334459").reason == "length"
    assert parse_snils("112233445951").reason == "length"
    assert parse_snils("11223344a95").reason == "not_digits"
    assert parse_snils("٣١٢٢٣٣٤٤٥٩٥").reason == "not_digits"  # non-ASCII digits are not keys
    assert parse_snils("00000000000").reason == "reserved"
    assert parse_snils("12345678901").reason == "checksum"
    assert format_snils("11223344595") == "112-233-445 95"


# ---- INN ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("inn", ["7707083893", "500100732259", "7830002293"])
def test_known_valid_inn(inn):
    assert parse_inn(inn) == Valid(inn)


@given(body(9, low=1))
def test_inn10_property(b):
    inn = inn10_from(b)
    assert parse_inn(inn).ok
    wrong = inn[:9] + str((int(inn[9]) + 1) % 10)
    assert parse_inn(wrong).reason == "checksum"


@given(body(10, low=1), st.integers(0, 9), st.integers(1, 9))
def test_inn12_property_and_single_typos(b, pos, delta):
    inn = inn12_from(b)
    assert parse_inn(inn) == Valid(inn)
    typo = inn[:pos] + str((int(inn[pos]) + delta) % 10) + inn[pos + 1:]
    # weights mod 11 are all non-zero, so most typos break a check digit; none may pass both
    # unless the arithmetic truly allows it — verify against the definition, not by hope
    assert parse_inn(typo).ok == (inn12_from(typo[:10]) == typo)


def test_inn_lengths_and_reasons():
    assert parse_inn("7707083893", lengths=(12,)).reason == "length"
    assert parse_inn("77070838").reason == "length"
    assert parse_inn("0000000000").reason == "reserved"
    assert parse_inn("7707083894").reason == "checksum"
    assert parse_inn("500100732258").reason == "checksum"


# ---- passport ----------------------------------------------------------------------------------
def test_passport():
    assert parse_passport("45 10 123456") == Valid(Passport("4510", "123456"))
    assert parse_passport("4510123456").value.digits == "4510123456"
    assert parse_passport("451012345").reason == "length"
    assert parse_passport("0000123456").reason == "reserved"
    assert parse_passport("4510000000").reason == "reserved"


@given(body(4, low=1), body(6, low=1))
def test_passport_any_nonzero_parts(series, number):
    assert parse_passport(series + number) == Valid(Passport(series, number))


# ---- date of birth -----------------------------------------------------------------------------
def test_birth_date():
    assert parse_birth_date("01021980", today=TODAY) == Valid(date(1980, 2, 1))
    assert parse_birth_date("29022000", today=TODAY).ok  # leap year
    assert parse_birth_date("29021900", today=TODAY).reason == "no_such_date"
    assert parse_birth_date("31042000", today=TODAY).reason == "no_such_date"
    assert parse_birth_date("00012000", today=TODAY).reason == "no_such_date"
    assert parse_birth_date("22112026", today=TODAY).ok  # born today
    assert parse_birth_date("23112026", today=TODAY).reason == "future"
    assert parse_birth_date("01011900", today=TODAY).reason == "too_old"
    assert parse_birth_date("0102198", today=TODAY).reason == "length"
    assert parse_birth_date("01.02.1980", today=TODAY).ok


@given(st.dates(min_value=date(1910, 1, 1), max_value=TODAY))
def test_every_plausible_date_round_trips(d):
    assert parse_birth_date(d.strftime("%d%m%Y"), today=TODAY) == Valid(d)


@given(st.dates(min_value=TODAY + timedelta(days=1), max_value=date(9999, 12, 31)))
def test_future_dates_are_refused(d):
    assert parse_birth_date(d.strftime("%d%m%Y"), today=TODAY).reason == "future"


def test_mask_tail():
    assert mask_tail("+79161234567") == "+*********67"
    assert mask_tail("112-233-445 95", keep=4) == "***-***-*45 95"
