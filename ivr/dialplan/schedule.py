"""Opening hours: when agents are on duty on a line, in the hotline's time zone.

Hours are written as supervisors write them ("08:00-20:00", "closed", several intervals with
commas, "24:00" as an end). A week is keyed by day names or ranges ("mon-fri", "daily");
``holidays`` hours replace the weekday's on public holidays; dated overrides beat both.
Everything here is a pure function of the configuration and the moment asked about.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
Interval = tuple[int, int]  # minutes from midnight, [start, end)
SEARCH_DAYS = 400  # a schedule that does not open within this horizon is "never opens"


def parse_hours(text: str) -> tuple[Interval, ...]:
    """``"08:00-12:00, 13:00-20:00"`` → ((480, 720), (780, 1200)); ``"closed"`` → ()."""
    text = str(text).strip()
    if text.lower() == "closed":
        return ()
    out: list[Interval] = []
    for part in text.split(","):
        m = _INTERVAL.match(part.strip())
        if not m:
            raise ValueError(f"hours must look like '08:00-20:00' or 'closed', got {part.strip()!r}")
        h1, m1, h2, m2 = map(int, m.groups())
        for h, mi in ((h1, m1), (h2, m2)):
            if mi > 59 or h > 24 or (h == 24 and mi):
                raise ValueError(f"no such time of day in {part.strip()!r}")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(f"impossible hours {part.strip()!r}: ends before it starts "
                             "(split a night shift at 24:00)")
        out.append((start, end))
    out.sort()
    for (_s1, e1), (s2, _e2) in pairwise(out):
        if s2 < e1:
            raise ValueError(f"overlapping intervals in {text!r}")
    return tuple(out)


def expand_days(key: str) -> list[int]:
    """``"mon-fri"`` → [0..4]; ``"daily"`` → [0..6]; ``"sat"`` → [5]."""
    key = key.strip().lower()
    if key == "daily":
        return list(range(7))
    if "-" in key:
        a, b = (k.strip() for k in key.split("-", 1))
        if a not in DAYS or b not in DAYS:
            raise ValueError(f"unknown day range {key!r} (days are {', '.join(DAYS)})")
        i, j = DAYS.index(a), DAYS.index(b)
        if j < i:
            raise ValueError(f"day range {key!r} runs backwards")
        return list(range(i, j + 1))
    if key not in DAYS:
        raise ValueError(f"unknown day {key!r} (days are {', '.join(DAYS)}, ranges, daily, holidays)")
    return [DAYS.index(key)]


@dataclass(frozen=True)
class Schedule:
    id: str
    week: tuple[tuple[Interval, ...], ...]  # 7 entries, Monday first
    holiday_hours: tuple[Interval, ...] | None = None  # None: holidays keep the weekday's hours
    overrides: dict[date, tuple[Interval, ...]] = field(default_factory=dict)

    def intervals_on(self, day: date, holidays: frozenset[date] | set[date]) -> tuple[Interval, ...]:
        if day in self.overrides:
            return self.overrides[day]
        if day in holidays and self.holiday_hours is not None:
            return self.holiday_hours
        return self.week[day.weekday()]

    def is_open(self, local: datetime, holidays) -> bool:
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.intervals_on(local.date(), holidays))

    def next_open(self, local: datetime, holidays) -> datetime | None:
        """First moment at or after ``local`` when agents are on duty (``local`` if open now)."""
        minute = local.hour * 60 + local.minute
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for s, e in self.intervals_on(day, holidays):
                if offset == 0 and e <= minute:
                    continue
                start = max(s, minute) if offset == 0 else s
                if offset == 0 and s <= minute:
                    return local
                return _at(day, start, local.tzinfo)
        return None

    def closes_at(self, local: datetime, holidays) -> datetime | None:
        """End of the open stretch containing ``local`` (None if closed now or never closes)."""
        if not self.is_open(local, holidays):
            return None
        day, minute = local.date(), local.hour * 60 + local.minute
        for _ in range(SEARCH_DAYS):
            ivs = self.intervals_on(day, holidays)
            cur = next(((s, e) for s, e in ivs if s <= minute < e), None)
            if cur is None:
                return _at(day, minute, local.tzinfo)
            if cur[1] < 1440:
                return _at(day, cur[1], local.tzinfo)
            day, minute = day + timedelta(days=1), 0
        return None

    def opens_ever(self) -> bool:
        return any(self.week) or bool(self.holiday_hours) or any(self.overrides.values())


def _at(day: date, minute: int, tz) -> datetime:
    if minute >= 1440:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


def to_local(at: datetime, tz: ZoneInfo) -> datetime:
    """A naive moment is taken as the hotline's local time; an aware one is converted."""
    return at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)


def iso_moment(text: str) -> datetime:
    """argparse type for ``--at``: an ISO time (Moscow time unless it carries an offset)."""
    import argparse

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r} "
                                         "(e.g. 2026-11-23T13:00)") from None
