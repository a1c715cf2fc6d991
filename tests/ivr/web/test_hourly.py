"""The hourly view: queue_engine.report.hourly over the call records (the same figures as
``hotline report hourly``), the service's week forecast, the published bands of
dialplans/centre.yaml (checked here against the YAML itself, not against code)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from ivr.store.base import make_engine, session_factory
from ivr.store.models import Call
from ivr.web.hourly import call_provider, report
from queue_engine.scenario import DAYS, DIALPLANS, load_centre
from tests.ivr.web.conftest import login

pytestmark = pytest.mark.timeout(60)
MSK = ZoneInfo("Europe/Moscow")
MONDAY = date(2026, 11, 23)


def centre():
    return load_centre(DIALPLANS / "centre.yaml")


def yaml_bands(day: date) -> dict[int, list[int]]:
    waits = yaml.safe_load((DIALPLANS / "centre.yaml").read_text(encoding="utf-8"))[
        "published_waits"]
    return {h: [b["minutes"][0] * 60, b["minutes"][1] * 60] for b in waits
            if DAYS[day.weekday()] in b["days"] for h in range(*b["hours"])}


def week(skills: list[str]) -> dict:
    """A week forecast whose every figure names its week hour and column."""
    rows = [[float(wh * 10 + col) for col in range(len(skills) + 1)] for wh in range(168)]
    return {"skills": skills, "mean": {k: rows for k in ("offered", "asa", "sl",
                                                          "abandon_rate")}}


@pytest.mark.parametrize("day", [MONDAY, MONDAY + timedelta(days=5), MONDAY + timedelta(days=6)])
def test_bands_are_the_published_waits_of_centre_yaml(day):
    rep = report(None, day, centre(), None, None)
    assert {r["hour"]: r["band_s"] for r in rep["rows"] if r["band_s"]} == yaml_bands(day)


def test_the_week_forecast_is_read_at_the_days_hours_and_the_groups_column():
    skills = list(centre().skills)
    tue = MONDAY + timedelta(days=1)
    rep = report(None, tue, centre(), week(skills), "tax")
    nine = next(r for r in rep["rows"] if r["hour"] == 9)
    assert nine["forecast"]["asa"] == (24 + 9) * 10 + skills.index("tax")
    holiday = min(centre().holidays)  # 2026-01-01, a Thursday: a working weekday otherwise
    assert report(None, holiday, centre(), week(skills), None)["rows"] == []
    assert call_provider(lambda: "week", tue) == "week"  # serve's provider takes no date
    assert call_provider(lambda d: d, tue) == tue


def _call(i: int, at: datetime, outcome: str, wait_s: float) -> Call:
    answered = at + timedelta(seconds=60) if outcome == "answered" else None
    ended = at + timedelta(seconds=60 + (300 if answered else 0))
    return Call(call_id=f"t{i}", line="federal", region="all", skill="documents",
                outcome=outcome, started_at=at, answered_at=answered, ended_at=ended,
                detail=f"{outcome} after {wait_s:g} s in queue documents")


def test_api_hourly_counts_the_days_calls_beside_the_band(client, web_db):
    at = datetime(2026, 11, 23, 10, 5, tzinfo=MSK)
    engine = make_engine(web_db)
    with session_factory(engine).begin() as db:
        db.add_all([_call(1, at, "answered", 10), _call(2, at, "answered", 50),
                    _call(3, at, "abandoned", 30),
                    _call(4, at + timedelta(hours=1), "answered", 100)])
    engine.dispose()
    login(client, "sup")
    data = client.get("/api/hourly?date=2026-11-23&skill=documents").json()
    by_hour = {r["hour"]: r for r in data["rows"]}
    ten = by_hour[10]["actual"]
    assert (ten["offered"], ten["answered"], ten["abandoned"]) == (3, 2, 1)
    assert ten["asa"] == 30 and ten["sl"] == 0.5  # 10 s within 20 s; of 2 answered
    assert ten["abandon_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert by_hour[10]["band_s"] == yaml_bands(MONDAY)[10] and by_hour[10]["in_band"] is False
    assert by_hour[11]["actual"]["answered"] == 1
    page = client.get("/hourly?date=2026-11-23&skill=documents")
    assert page.status_code == 200
    assert page.text.count('class="band"') == len(yaml_bands(MONDAY))
    assert page.text.count('class="actual"') == 2 * 3  # two hours × three charts
