"""The published waits the IVR announces come from ``centre.yaml`` (issue 11: one source of
truth with the dashboard's hourly view and ``hotline report hourly``)."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.call.waits import PublishedWaits
from queue_engine.scenario import DIALPLANS, ScenarioError, load_centre

MSK = ZoneInfo("Europe/Moscow")


def _centre_copy(tmp_path: Path, edit) -> Path:
    for name in ("centre.yaml", "skills.yaml", "holidays.yaml"):
        shutil.copy(DIALPLANS / name, tmp_path / name)
    path = tmp_path / "centre.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def test_published_waits_are_the_centre_bands_midpoints():
    centre = load_centre()
    waits = PublishedWaits()
    for band in centre.published_waits:
        day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(band.days[0])
        at = datetime(2026, 11, 23 + day, band.hours[0], 30, tzinfo=MSK)
        mid = (band.minutes[0] + band.minutes[1]) * 30
        assert waits.expected_wait("tech", at) == pytest.approx(mid)
        assert waits.expected_wait("tech", at, priority=1) == pytest.approx(mid / 2)
    assert waits.expected_wait("tech", datetime(2026, 11, 29, 12, tzinfo=MSK)) is None  # Sunday


def test_an_edited_band_and_zone_change_what_is_announced(tmp_path):
    path = _centre_copy(tmp_path, lambda t: t.replace(
        "timezone: Europe/Moscow", "timezone: Asia/Vladivostok").replace(
        "hours: [12, 15], minutes: [5, 8]", "hours: [12, 15], minutes: [10, 20]"))
    waits = PublishedWaits(centre=path)
    vlad_13 = datetime(2026, 11, 23, 13, tzinfo=ZoneInfo("Asia/Vladivostok"))
    assert waits.expected_wait("tech", vlad_13) == pytest.approx(15 * 60)
    # the same instant is 06:00 in Moscow: a Moscow centre publishes nothing then
    assert PublishedWaits().expected_wait("tech", vlad_13) is None


def test_a_bad_band_is_refused_with_file_line_and_key(tmp_path):
    path = _centre_copy(tmp_path, lambda t: t.replace(
        "hours: [15, 18], minutes: [2, 4]", "hours: [15, 18], minutes: [4, 2]"))
    with pytest.raises(ScenarioError) as err:
        PublishedWaits(centre=path)
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "[4, 2]" in s)
    assert str(err.value).startswith(f"{path}:{line}: published_waits.2")
