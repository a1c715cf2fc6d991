"""One clock for every part of a running hotline: real time, or accelerated for the demo.

The IVR machine, the live ACD and the figures take time as an argument (ARCHITECTURE rule 1);
this is the only place that reads the wall clock. With ``speed`` 60 a simulated minute passes
in a real second, starting at ``start`` (e.g. Monday 2026-11-23 08:00 Moscow time).
"""
from __future__ import annotations

import time
from datetime import datetime, tzinfo


class Clock:
    """``now()`` (aware datetime) and ``ts()`` (epoch seconds) on the simulated time line."""

    def __init__(self, tz: tzinfo, *, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.tz, self.speed = tz, float(speed)
        self._mono0 = time.monotonic()
        self._ts0 = (start.timestamp() if start is not None else time.time())

    def ts(self) -> float:
        return self._ts0 + (time.monotonic() - self._mono0) * self.speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ts(), self.tz)

    def move(self, sim_seconds: float) -> None:
        """Jump the simulated time line by ``sim_seconds`` (tests: "the clock moved to 03:00");
        every part reads the new time at its next look."""
        self._ts0 += sim_seconds

    def real(self, sim_seconds: float) -> float:
        """Real seconds that ``sim_seconds`` of simulated time take."""
        return max(0.0, sim_seconds / self.speed)

    def until(self, ts: float) -> float:
        """Real seconds from now until simulated moment ``ts`` (0 if past)."""
        return self.real(ts - self.ts())
