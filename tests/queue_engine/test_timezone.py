"""Hours are the centre's local time (``centre.yaml`` ``timezone``, zoneinfo), never a fixed
UTC+3: a Vladivostok centre (UTC+10) staffs, closes and keeps holidays by Vladivostok clocks."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from queue_engine.acd import LiveAcd
from queue_engine.live import LiveCentre, week_hour_origin
from queue_engine.scenario import Scenario, ScenarioError, load_centre, load_scenario

VLAD = ZoneInfo("Asia/Vladivostok")
MSK = ZoneInfo("Europe/Moscow")


def _in_zone(zone: str) -> Scenario:
    sc = load_scenario()
    return sc.model_copy(update={"centre": sc.centre.model_copy(update={"timezone": zone})})


def _on_duty(acd: LiveAcd) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in acd.agents.values():
        name = acd.model.teams[a.team]
        out[name] = out.get(name, 0) + 1
    return out


def _rostered(acd: LiveAcd, week_hour: int) -> dict[str, int]:
    return {t: int(acd.model.staff[i, week_hour]) for i, t in enumerate(acd.model.teams)
            if acd.model.staff[i, week_hour]}


def test_week_hours_are_counted_from_the_zones_monday():
    t = dt.datetime(2026, 11, 25, 1, 30, tzinfo=VLAD).timestamp()  # Wednesday 01:30 local
    origin = week_hour_origin(t, VLAD)
    assert dt.datetime.fromtimestamp(origin, VLAD) == dt.datetime(2026, 11, 23, tzinfo=VLAD)
    assert (t - origin) // 3600 == 2 * 24 + 1
    # the same instant is Tuesday 18:30 in Moscow
    assert (t - week_hour_origin(t, MSK)) // 3600 == 24 + 18


@pytest.mark.parametrize("local_hour", [10, 19])
def test_a_vladivostok_centre_logs_agents_in_by_its_own_hours(local_hour):
    centre = LiveCentre(_in_zone("Asia/Vladivostok"))
    assert centre.tz == VLAD and all(q.tz == VLAD for q in centre.queues.values())
    at = dt.datetime(2026, 11, 23, local_hour, 5, tzinfo=VLAD)  # Monday, local time
    acd = LiveAcd(centre, seed=0)
    acd.start(at.timestamp())
    assert _on_duty(acd) == _rostered(acd, local_hour)
    moscow_hour = at.astimezone(MSK).hour  # 03 and 12 Moscow time, still Monday
    assert _rostered(acd, local_hour) != _rostered(acd, moscow_hour)


def test_a_holiday_starts_at_the_centres_midnight():
    """2026-12-31 is a day off; 00:30 of it in Vladivostok is still the 30th (working) in
    Moscow. Each centre keeps the holiday by its own date."""
    vlad = LiveAcd(LiveCentre(_in_zone("Asia/Vladivostok")), seed=0)
    msk = LiveAcd(LiveCentre(_in_zone("Europe/Moscow")), seed=0)
    assert dt.date(2026, 12, 31) in vlad.holidays and dt.date(2026, 12, 30) not in vlad.holidays
    t = dt.datetime(2026, 12, 31, 0, 30, tzinfo=VLAD).timestamp()
    assert vlad._holiday(t) and not msk._holiday(t)
    later = dt.datetime(2026, 12, 31, 17, 30, tzinfo=VLAD).timestamp()  # 10:30 on the 31st MSK
    assert vlad._holiday(later) and msk._holiday(later)
    msk.start(later)
    assert set(_on_duty(msk)) == {"security"}  # only the 24/7 team works on the holiday


def test_live_ewt_reads_the_roster_in_the_centres_zone():
    vlad, msk = LiveCentre(_in_zone("Asia/Vladivostok")), LiveCentre(_in_zone("Europe/Moscow"))
    at = dt.datetime(2026, 11, 23, 10, 0, tzinfo=VLAD).timestamp()  # Monday 03:00 Moscow
    # five callers ahead: the Vladivostok centre has its 10:00 roster, Moscow has nobody on
    assert vlad.expected_wait("tech", 5, at) < msk.expected_wait("tech", 5, at)


def test_an_unknown_zone_is_refused_with_file_and_line(tmp_path):
    import shutil

    from queue_engine.scenario import DIALPLANS

    for name in ("centre.yaml", "skills.yaml", "holidays.yaml"):
        shutil.copy(DIALPLANS / name, tmp_path / name)
    path = tmp_path / "centre.yaml"
    path.write_text(path.read_text().replace("timezone: Europe/Moscow", "timezone: Mars/Olympus"))
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "Mars" in s)
    with pytest.raises(ScenarioError, match=rf"centre\.yaml:{line}: timezone: .*unknown time zone"):
        load_centre(path)
