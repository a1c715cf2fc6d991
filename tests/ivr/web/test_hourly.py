"""The hourly view: actual figures per hour from the call records, the forecast in either
shape serve hands over, the published bands read from dialplans/centre.yaml (not from code)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from ivr.store.base import make_engine, session_factory
from ivr.store.models import Call
from ivr.web.hourly import bands_for, call_provider, normalise_forecast
from queue_engine.scenario import DAYS, DIALPLANS, load_centre
from tests.ivr.web.conftest import login

pytestmark = pytest.mark.timeout(60)
MSK = ZoneInfo("Europe/Moscow")
MONDAY = date(2026, 11, 23)


def published() -> list[dict]:
    return yaml.safe_load((DIALPLANS / "centre.yaml").read_text(encoding="utf-8"))[
        "published_waits"]


@pytest.mark.parametrize("day", [MONDAY, MONDAY + timedelta(days=5), MONDAY + timedelta(days=6)])
def test_bands_are_the_published_waits_of_centre_yaml(day):
    centre = load_centre(DIALPLANS / "centre.yaml")
    expected = {h: (b["minutes"][0] * 60, b["minutes"][1] * 60) for b in published()
                if DAYS[day.weekday()] in b["days"] for h in range(*b["hours"])}
    assert bands_for(day, centre) == expected


def test_no_band_on_a_public_holiday():
    centre = load_centre(DIALPLANS / "centre.yaml")
    holiday = min(centre.holidays)  # 2026-01-01, a Thursday: a working weekday otherwise
    assert bands_for(holiday, centre) == {}


def test_week_forecast_is_read_at_the_days_hours_and_the_groups_column():
    skills = ["documents", "tax"]
    week = [[float(wh * 10 + col) for col in range(3)] for wh in range(168)]
    raw = {"skills": skills, "mean": {"asa": week, "sl": week, "abandon_rate": week}}
    tue = MONDAY + timedelta(days=1)
    got = normalise_forecast(raw, tue, "tax")
    assert got[9]["mean_wait_s"] == (24 + 9) * 10 + 1
    assert normalise_forecast(raw, tue, None)[9]["service_level"] == (24 + 9) * 10 + 2
    rows = [{"hour": 9, "asa": 120.0, "sl": 0.8, "abandon_rate": 0.05}]
    assert normalise_forecast(rows, tue, None)[9] == {
        "mean_wait_s": 120.0, "service_level": 0.8, "abandon_rate": 0.05}
    assert call_provider(lambda: rows, tue) == rows  # serve's week provider takes no date
    assert call_provider(lambda d: [d], tue) == [tue]


def _call(i: int, at: datetime, outcome: str, wait_s: float | None) -> Call:
    answered = at + timedelta(seconds=wait_s) if outcome == "answered" else None
    return Call(call_id=f"t{i}", line="federal", region="all", skill="documents",
                outcome=outcome, started_at=at, answered_at=answered,
                ended_at=at + timedelta(seconds=300))


def test_api_hourly_counts_todays_calls_beside_forecast_and_band(client, web_db):
    at = datetime(2026, 11, 23, 10, 5, tzinfo=MSK)
    engine = make_engine(web_db)
    with session_factory(engine).begin() as db:
        db.add_all([_call(1, at, "answered", 10), _call(2, at, "answered", 50),
                    _call(3, at, "abandoned", None), _call(4, at + timedelta(hours=1),
                                                         "answered", 100)])
    engine.dispose()
    login(client, "sup")
    data = client.get("/api/hourly?date=2026-11-23&skill=documents").json()
    by_hour = {r["hour"]: r for r in data["rows"]}
    ten = by_hour[10]["actual"]
    assert (ten["answered"], ten["abandoned"]) == (2, 1)
    assert ten["mean_wait_s"] == 30 and ten["abandon_rate"] == pytest.approx(1 / 3)
    assert ten["service_level"] == pytest.approx(1 / 3)  # 10 s within 20 s; 3 offered
    assert by_hour[10]["band_s"] == list(bands_for(MONDAY, load_centre(
        DIALPLANS / "centre.yaml"))[10])
    assert by_hour[11]["actual"]["answered"] == 1
    page = client.get("/hourly?date=2026-11-23&skill=documents")
    assert page.status_code == 200
    assert page.text.count('class="band"') == len(bands_for(MONDAY, load_centre(
        DIALPLANS / "centre.yaml")))
    assert page.text.count('class="actual"') == 2 * 3  # two hours × three charts
