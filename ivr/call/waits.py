"""Expected wait for an agent, as the IVR announces it before queueing.

The IVR codes against :class:`WaitEstimator` only. Three answers, from best to simplest:

* :class:`LiveWaits` — the queue engine's live ACD state (``queue_engine.live.LiveCentre``,
  fed by the bridge's queue events): who is waiting now, agents on duty.
* :class:`ForecastWaits` — the queue engine's week forecast for the hour (no live state; the
  default of ``hotline call`` and of a bridge without queue events).
* :class:`PublishedWaits` — the waits the hotline publishes (``published_waits`` of
  ``dialplans/centre.yaml``, read by the one centre loader the dashboard's hourly view and
  ``hotline report hourly`` use too); a stable figure for tests and benchmarks.

A skill the queue engine does not know gets None (no announcement) rather than an error: the
caller is still queued.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo


class WaitEstimator(Protocol):
    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        """Seconds a caller queued now for ``skill`` will wait; None when unknown."""
        ...


class PublishedWaits:
    """The midpoint of the published band of the caller's local hour (``published_waits`` of
    ``centre.yaml``, hours local in its ``timezone``); None outside every band (agents off
    duty, or a day the centre publishes no wait for).

    ``centre``: a ``queue_engine.scenario.Centre`` or a path to its YAML (default
    ``dialplans/centre.yaml``); a bad file is refused as ``file:line: key.path: message``
    (``queue_engine.scenario.ScenarioError``). ``tz`` overrides the centre's zone."""

    def __init__(self, tz: str | None = None, *, centre: Any = None,
                 scale: float = 1.0) -> None:
        from queue_engine.scenario import load_centre

        c = load_centre(centre) if centre is None or isinstance(centre, str | Path) else centre
        self.tz = ZoneInfo(tz or c.timezone)
        #: week hour (Monday 00–01 = 0) -> (low, high) seconds, as the hourly report has them
        self.bands: dict[int, tuple[float, float]] = c.bands()
        self.scale = scale

    def expected_wait(self, skill: str, at: datetime, priority: int = 0) -> float | None:
        local = at.astimezone(self.tz)
        band = self.bands.get(local.weekday() * 24 + local.hour)
        if band is None:
            return None
        seconds = (band[0] + band[1]) / 2
        if priority > 0:  # served ahead of the ordinary queue
            seconds /= 1 + priority
        return seconds * self.scale


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


def default_waits(tz: str | None = None) -> WaitEstimator:
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
