"""One source of truth across the IVR's dialplan and the ACD's centre definition.

queue_engine never imports ivr (ARCHITECTURE rule 3), so both read dialplans/ themselves;
these tests make sure they read the same hotline.
"""
from datetime import datetime, timedelta

import pytest

from ivr.dialplan.menus import load_menus
from ivr.dialplan.model import load_dialplan
from queue_engine.scenario import load_centre

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture(scope="module")
def dp():
    return load_dialplan("dialplans")


@pytest.fixture(scope="module")
def centre():
    return load_centre("dialplans/centre.yaml")


def test_skill_groups_are_the_same(dp, centre):
    assert set(centre.skills) == set(dp.skills)
    assert set(load_menus("dialplans").skill_refs()) <= set(dp.skills)


def test_security_incidents_come_first_everywhere(dp, centre):
    top = max(centre.skills.values(), key=lambda s: s.priority)
    assert centre.skills[dp.emergency.skill] is top and top.always_open
    assert dp.skills[dp.emergency.skill].priority == max(s.priority for s in dp.skills.values())


def test_agent_hours_are_the_same_in_every_hour_of_a_year(dp, centre):
    """The ACD's whole-hour week must agree with the contact-centre schedule, holidays included."""
    short_days = set(dp.lines["federal"].schedule.overrides)  # pre-holiday days end an hour early
    t = datetime(2026, 1, 1, 0, 30, tzinfo=dp.tz)
    checked = 0
    while t.year == 2026:
        if t.date() not in short_days:
            assert centre.is_open("general", t.replace(tzinfo=None)) == dp.is_open("federal", t), t
            checked += 1
        t += timedelta(hours=1)
    assert checked > 8000


def test_one_holiday_calendar(dp, centre):
    assert set(centre.holidays) == set(dp.holidays)
