"""route(number, at): line, region, agents on duty, next opening — a pure function of YAML + time."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.dialplan.model import RouteError, load_dialplan

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def dp():
    return load_dialplan("dialplans")


def at(text):
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("number, moment, is_open, next_open", [
    # federal: Mon–Fri 08–20 (2026-11-23 is a Monday)
    ("8 800 555-35-35", "2026-11-23T07:59", False, "2026-11-23T08:00:00+03:00"),
    ("8 800 555-35-35", "2026-11-23T08:00", True, None),
    ("8 800 555-35-35", "2026-11-23T19:59", True, None),
    ("8 800 555-35-35", "2026-11-23T20:00", False, "2026-11-24T08:00:00+03:00"),
    # Friday evening → Saturday 09:00; Saturday 18:00 → Monday 08:00
    ("8 800 555-35-35", "2026-11-27T20:30", False, "2026-11-28T09:00:00+03:00"),
    ("8 800 555-35-35", "2026-11-28T18:00", False, "2026-11-30T08:00:00+03:00"),
    ("8 800 555-35-35", "2026-11-29T12:00", False, "2026-11-30T08:00:00+03:00"),
    # holidays: Unity Day (Wed 4 Nov) closed; 3 Nov is one hour shorter
    ("8 800 555-35-35", "2026-11-04T12:00", False, "2026-11-05T08:00:00+03:00"),
    ("8 800 555-35-35", "2026-11-03T19:30", False, "2026-11-05T08:00:00+03:00"),
    ("8 800 555-35-35", "2026-11-03T18:59", True, None),
    # New Year: closed 31 Dec … 9 Jan (Fri, a transferred day off); Sat 10 Jan opens 09:00
    ("102", "2026-12-31T10:00", False, "2027-01-09T09:00:00+03:00"),
    ("102", "2026-01-05T10:00", False, "2026-01-10T09:00:00+03:00"),
    # international: 08–20 every day, weekends included
    ("+7 495 777-77-77", "2026-11-29T08:00", True, None),
    ("+7 495 777-77-77", "2026-11-29T20:00", False, "2026-11-30T08:00:00+03:00"),
    # 24/7 lines are always open, holidays included
    ("8 800 555-66-66", "2026-01-01T03:00", True, None),
    ("8 800 777-22-22", "2026-11-29T23:59", True, None),
])
def test_agents_on_duty_and_next_opening(dp, number, moment, is_open, next_open):
    r = dp.route(number, at(moment))
    assert r.open is is_open
    assert (r.next_open.isoformat() if r.next_open else None) == next_open
    assert r.emergency is True  # the security path is 24/7


def test_route_fields(dp):
    r = dp.route("8 800 555-35-37", at("2026-11-23T13:00"))
    j = r.as_json()
    assert {k: j[k] for k in ("e164", "line", "region", "menu", "languages")} == {
        "e164": "+78005553537", "line": "regional", "region": "spb", "menu": "main",
        "languages": ["ru"]}
    assert j["closes_at"] == "2026-11-23T20:00:00+03:00"
    intl = dp.route("00 + 7 495 777-77-77", at("2026-11-23T13:00"))
    assert intl.languages == ("ru", "en") and intl.line == "international"


def test_aware_moments_are_converted_to_moscow_time(dp):
    utc = datetime(2026, 11, 23, 4, 30, tzinfo=ZoneInfo("UTC"))  # 07:30 MSK: closed
    r = dp.route("88005553535", utc)
    assert r.open is False and r.at.tzinfo == MSK and r.at.hour == 7


def test_unknown_number_is_refused(dp):
    with pytest.raises(RouteError, match="not a hotline number"):
        dp.route("8 800 000-00-00", at("2026-11-23T13:00"))


def test_every_line_reachable_and_every_schedule_opens(dp):
    assert {n.line for n in dp.numbers.values()} == set(dp.lines)
    for line in dp.lines.values():
        assert line.schedule.next_open(at("2026-11-23T00:00").replace(tzinfo=MSK),
                                       dp.holiday_dates) is not None
