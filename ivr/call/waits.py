"""Expected wait for an agent, as the IVR announces it before queueing.

The IVR codes against :class:`WaitEstimator` only. Three answers, from best to simplest:

* :class:`LiveWaits` — the queue engine's live ACD state (``queue_engine.live.LiveCentre``,
  fed by the bridge's queue events): who is waiting now, agents on duty.
* :class:`ForecastWaits` — the queue engine's week forecast for the hour (no live state; the
  default of ``hotline call`` and of a bridge without queue events).
* :class:`PublishedWaits` — the waits the hotline publishes (SPEC §3, document 000), for when
  the queue engine is not installed; also a stable figure for tests.

A skill the queue engine does not know gets None (no announcement) rather than an error: the
caller is still queued.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo


class WaitEstimator(Protocol):
    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        """Seconds a caller queued now for ``skill`` will wait; None when unknown."""
        ...


# (first hour, end hour, mean minutes) on weekdays; midpoints of the published ranges.
WEEKDAY_BANDS: tuple[tuple[int, int, float], ...] = (
    (8, 12, 3.0), (12, 15, 6.5), (15, 18, 3.0), (18, 20, 4.0),
)
WEEKEND_MINUTES = 9.5


class PublishedWaits:
    """SPEC §3 (document 000): weekdays 08–12 and 15–18 2–4 min, 12–15 5–8, 18–20 3–5,
    weekends 7–12. Outside those bands (agents off duty) the answer is None."""

    def __init__(self, tz: str = "Europe/Moscow",
                 bands: tuple[tuple[int, int, float], ...] = WEEKDAY_BANDS,
                 weekend_minutes: float = WEEKEND_MINUTES, scale: float = 1.0) -> None:
        self.tz = ZoneInfo(tz)
        self.bands = bands
        self.weekend_minutes = weekend_minutes
        self.scale = scale

    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        local = at.astimezone(self.tz)
        if local.weekday() >= 5:
            minutes: float | None = self.weekend_minutes
        else:
            minutes = next((m for lo, hi, m in self.bands if lo <= local.hour < hi), None)
        if minutes is None:
            return None
        if priority > 0:  # served ahead of the ordinary queue
            minutes /= 1 + priority
        return minutes * 60.0 * self.scale


class ForecastWaits:
    """``queue_engine.live.expected_wait_at``: the forecast mean wait of that hour."""

    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        from queue_engine.live import expected_wait_at

        try:
            return expected_wait_at(skill, at)
        except ValueError:  # a skill the queue engine's scenario lacks
            return None


class LiveWaits:
    """A ``queue_engine.live.LiveCentre`` shared with the driver that feeds it queue events."""

    def __init__(self, centre: Any) -> None:
        self.centre = centre

    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        if skill not in self.centre.queues:
            return None
        return float(self.centre.expected_wait_new(skill, at.timestamp(), priority))


def default_waits(tz: str = "Europe/Moscow") -> WaitEstimator:
    """The queue engine's forecast when it is installed, else the published waits."""
    import importlib.util

    if importlib.util.find_spec("queue_engine.live") is not None:
        return ForecastWaits()
    return PublishedWaits(tz)


class FixedWait:
    """Always the same wait — for tests, demos (``hotline call --wait``) and benchmarks."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        return self.seconds
