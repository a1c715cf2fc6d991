"""Expected wait for an agent, as the IVR announces it before queueing.

The IVR codes against :class:`WaitEstimator` only. The queue engine's live estimate (queue
length, agents on duty, Erlang) plugs in here when it lands; until then
:class:`PublishedWaits` answers with the waits the hotline itself publishes (SPEC §3, chosen
profile: document 000), so the announcement and the "> 10 min → callback" offer already behave
like the real service at each hour of the week.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol
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


class FixedWait:
    """Always the same wait — for tests, demos (``hotline call --wait``) and benchmarks."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        return self.seconds
