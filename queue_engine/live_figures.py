"""Today's queue figures of the live ACD: one set of definitions for the dashboard and stats.

Counts go into one-minute buckets (a ring of 25 hours), so a figure "since local midnight" and
one "over the last 60 minutes" are both a sum over buckets — no per-call list to scan, no
second notion of "answered" or "service level" anywhere else (ARCHITECTURE rule 8). The
definitions are those of :mod:`queue_engine.stats` (ASA = mean wait of answered calls;
occupancy = busy agent time / staffed agent time of the teams qualified for the skill), with
the service-level formula chosen by name (``dialplans/dashboard.yaml``):

* ``answered_of_offered`` (default): answered within T / (answered + abandoned − short
  abandons) — abandons count against the service level, as the industry advises;
* ``asterisk_perf``: answered within T / answered — Asterisk's ``QUEUESRVLEVELPERF``
  (``SL`` in the forecast); it ignores abandons;
* ``asterisk_sl2``: (answered + abandoned within T) / (answered + abandoned) — Asterisk's
  ``SL2``.

A *short abandon* hangs up within ``short_abandon_s`` of queueing (a misdial or a caller who
changed his mind): shown apart and left out of the abandonment rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SL_FORMULAS", "FigureRules", "LiveFigures"]

SL_FORMULAS = {
    "answered_of_offered": "answered within {t} s / (answered + abandoned - short abandons)",
    "asterisk_perf": "answered within {t} s / answered (Asterisk QUEUESRVLEVELPERF; "
                     "ignores abandons)",
    "asterisk_sl2": "(answered + abandoned within {t} s) / (answered + abandoned) (Asterisk SL2)",
}
OFF, ANS, ABN, SHORT, ANS_IN, ABN_IN, WAIT, HANDLE = range(8)
K = 8
RING = 25 * 60  # minutes kept: a day plus an hour of sliding window


@dataclass(frozen=True)
class FigureRules:
    threshold_s: float = 20.0
    formula: str = "answered_of_offered"
    short_abandon_s: float = 5.0
    window_s: float = 3600.0  # "today" of a 24/7 group: this sliding window

    def __post_init__(self) -> None:
        if self.formula not in SL_FORMULAS:
            raise ValueError(f"unknown service level formula {self.formula!r}; "
                             f"one of {', '.join(SL_FORMULAS)}")

    @property
    def definition(self) -> str:
        return SL_FORMULAS[self.formula].format(t=f"{self.threshold_s:g}")


class LiveFigures:
    """Minute buckets per skill (calls) and per team (busy / staffed agent-seconds)."""

    def __init__(self, model: Any, rules: FigureRules | None = None) -> None:
        self.rules = rules or FigureRules(threshold_s=float(model.sl_threshold))
        G, T = len(model.skills), len(model.teams)
        self.qual = (np.asarray(model.prof) > 0).astype(float)  # [T, G]
        self.calls = np.zeros((RING, G, K))
        self.teams = np.zeros((RING, T, 2))  # busy s, staffed s
        self.stamp = np.full(RING, -1, dtype=np.int64)
        self._last: float | None = None

    def _slot(self, now: float) -> int:
        minute = int(now // 60)
        slot = minute % RING
        if self.stamp[slot] != minute:
            self.calls[slot] = 0.0
            self.teams[slot] = 0.0
            self.stamp[slot] = minute
        return slot

    def offered(self, g: int, now: float) -> None:
        self.calls[self._slot(now), g, OFF] += 1

    def answered(self, g: int, now: float, wait: float, handle: float) -> None:
        row = self.calls[self._slot(now), g]
        row[ANS] += 1
        row[WAIT] += wait
        row[HANDLE] += handle
        if wait <= self.rules.threshold_s:
            row[ANS_IN] += 1

    def abandoned(self, g: int, now: float, wait: float) -> None:
        row = self.calls[self._slot(now), g]
        row[ABN] += 1
        if wait < self.rules.short_abandon_s:
            row[SHORT] += 1
        if wait <= self.rules.threshold_s:
            row[ABN_IN] += 1

    def flush(self, now: float, acd: Any) -> None:
        """Add agent time since the last flush (busy = on a call or in wrap-up)."""
        last, self._last = self._last, now
        if last is None or now <= last:
            return
        dt = now - last
        slot = self._slot(now)
        busy = np.zeros(len(acd.present))
        for agent in acd.agents.values():
            if agent.state:
                busy[agent.team] += 1
        self.teams[slot, :, 0] += busy * dt
        self.teams[slot, :, 1] += np.asarray(acd.present, dtype=float) * dt

    def totals(self, now: float, since: float) -> tuple[np.ndarray, np.ndarray]:
        """([G, K] call counts, [G, 2] busy/staffed s of qualified teams) from ``since``."""
        minute = int(now // 60)
        lo = int(since // 60)
        mask = (self.stamp >= lo) & (self.stamp <= minute)
        calls = self.calls[mask].sum(axis=0)
        teams = self.teams[mask].sum(axis=0)  # [T, 2]
        return calls, self.qual.T @ teams

    def group(self, calls: np.ndarray, agent_time: np.ndarray) -> dict[str, Any]:
        """The dashboard's figures of one group from its totals (None where undefined)."""
        r = self.rules
        ans, abn, short = calls[ANS], calls[ABN], calls[SHORT]
        if r.formula == "answered_of_offered":
            num, den = calls[ANS_IN], ans + abn - short
        elif r.formula == "asterisk_perf":
            num, den = calls[ANS_IN], ans
        else:
            num, den = calls[ANS_IN] + calls[ABN_IN], ans + abn

        def ratio(a: float, b: float) -> float | None:
            return round(float(a / b), 4) if b > 0 else None

        return {"offered": int(calls[OFF]), "answered": int(ans), "abandoned": int(abn),
                "short_abandoned": int(short), "service_level": ratio(num, den),
                "asa_s": ratio(calls[WAIT], ans), "aht_s": ratio(calls[HANDLE], ans),
                "abandon_rate": ratio(abn - short, ans + abn - short),
                "occupancy": ratio(min(agent_time[0], agent_time[1]), agent_time[1])}
