"""Today's figures per hour beside the forecast and the published bands (SPEC §3).

Three sources meet here, none computed by the web app itself:

* actual — :mod:`queue_engine.report` (the hourly report from the call records) when it is
  installed; until then a stopgap from the ``calls`` table (``_actual_from_calls``, marked
  ``"source": "calls (approximate)"``);
* forecast — whatever ``hotline serve`` hands the app (``forecast_provider(date)``): either a
  list of per-hour dicts or the service's week forecast ``{"skills", "mean": {metric: [H][G+1]}}``;
* bands — ``published_waits`` of ``dialplans/centre.yaml`` (``Centre.bands()``), so a
  supervisor changes them in YAML, not here.

The wait compared with a band is the band's own definition: the mean wait for an agent of
*answered* calls (ASA).
"""
from __future__ import annotations

import importlib.util
import inspect
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

HOURS = range(24)
METRICS = ("mean_wait_s", "service_level", "abandon_rate")


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def bands_for(day: date, centre: Any) -> dict[int, tuple[float, float]]:
    """Hour of ``day`` → published (low, high) mean wait in seconds; none on holidays."""
    if centre is None or day in getattr(centre, "holidays", ()):
        return {}
    week = centre.bands()
    base = day.weekday() * 24
    return {h: week[base + h] for h in HOURS if base + h in week}


def normalise_forecast(raw: Any, day: date, skill: str | None) -> dict[int, dict[str, Any]]:
    """Either forecast shape → {hour: {mean_wait_s, service_level, abandon_rate}}."""
    if not raw:
        return {}
    if isinstance(raw, dict) and "mean" in raw and "skills" in raw:
        skills = list(raw["skills"])
        col = skills.index(skill) if skill in skills else len(skills)
        mean = raw["mean"]
        out: dict[int, dict[str, Any]] = {}
        for h in HOURS:
            wh = day.weekday() * 24 + h

            def pick(key: str, wh: int = wh) -> float | None:
                rows = mean.get(key)
                if rows is None or not len(rows):
                    return None
                row = rows[wh % len(rows)]
                return _num(row[col]) if col < len(row) else None

            out[h] = {"mean_wait_s": pick("asa"), "service_level": pick("sl"),
                      "abandon_rate": pick("abandon_rate")}
        return out
    rows = raw.values() if isinstance(raw, dict) else raw
    out = {}
    for r in rows:
        if not isinstance(r, dict) or "hour" not in r:
            continue
        if skill and r.get("skill") not in (None, skill, "all"):
            continue
        out[int(r["hour"])] = {
            "mean_wait_s": _num(r.get("mean_wait_s", r.get("asa", r.get("mean_wait")))),
            "service_level": _num(r.get("service_level", r.get("sl"))),
            "abandon_rate": _num(r.get("abandon_rate"))}
    return out


def call_provider(provider: Callable[..., Any] | None, day: date) -> Any:
    """``forecast_provider(date)``; a provider taking no argument (the week) is accepted too."""
    if provider is None:
        return None
    try:
        params = inspect.signature(provider).parameters
    except (TypeError, ValueError):
        params = {"day": None}  # type: ignore[assignment]
    return provider(day) if params else provider()


def report_available() -> bool:
    return importlib.util.find_spec("queue_engine.report") is not None


def actual_hours(factory: Any, day: date, tz: ZoneInfo, skill: str | None,
                 threshold_s: float = 20.0) -> tuple[str, dict[int, dict[str, Any]]]:
    """(source, {hour: figures}) for ``day``; blocking (run it in a worker thread)."""
    if report_available():
        found = _actual_from_report(factory, day, tz, skill)
        if found is not None:
            return "queue_engine.report", found
    return "calls (approximate)", _actual_from_calls(factory, day, tz, skill, threshold_s)


def _actual_from_report(factory: Any, day: date, tz: ZoneInfo,
                        skill: str | None) -> dict[int, dict[str, Any]] | None:
    """The seam for :mod:`queue_engine.report` (the hourly report helper's function).

    Expected: ``hourly(...)`` rows with ``hour`` and ``mean_wait``/``asa``, ``service_level``/
    ``sl``, ``abandon_rate``. Anything else falls back to the calls table."""
    try:
        from queue_engine import report  # type: ignore[attr-defined]

        fn = getattr(report, "hourly", None) or getattr(report, "hourly_report", None)
        if fn is None:
            return None
        with factory() as db:
            rows = fn(db, day, tz=tz, skill=skill)
    except Exception:  # noqa: BLE001 - an unexpected report API must not take the page down
        return None
    got = normalise_forecast(list(rows.get("rows", rows) if isinstance(rows, dict) else rows),
                             day, skill)
    return got or None


def _actual_from_calls(factory: Any, day: date, tz: ZoneInfo, skill: str | None,
                       threshold_s: float) -> dict[int, dict[str, Any]]:
    """Stopgap: queued calls of ``day`` by local hour of arrival. The wait is answered_at −
    started_at (it includes the IVR, so it overstates the queue wait by the menu's length)."""
    from sqlalchemy import select

    from ivr.store.models import Call
    from ivr.store.timestamps import aware

    start = datetime.combine(day, time(0), tz)
    end = start + timedelta(days=1)
    q = select(Call.started_at, Call.answered_at, Call.ended_at, Call.outcome).where(
        Call.started_at >= start, Call.started_at < end, Call.skill.is_not(None),
        Call.outcome.in_(("answered", "abandoned")))
    if skill:
        q = q.where(Call.skill == skill)
    acc: dict[int, list[float]] = {}
    with factory() as db:
        for started, answered, ended, outcome in db.execute(q):
            h = aware(started).astimezone(tz).hour  # type: ignore[union-attr]
            a = acc.setdefault(h, [0, 0, 0.0, 0])  # answered, abandoned, wait sum, within T
            if outcome == "answered" and answered is not None:
                wait = (aware(answered) - aware(started)).total_seconds()  # type: ignore[operator]
                a[0] += 1
                a[2] += wait
                a[3] += wait <= threshold_s
            elif outcome == "abandoned":
                a[1] += 1
    out = {}
    for h, (ans, ab, wsum, within) in acc.items():
        offered = ans + ab
        out[h] = {"mean_wait_s": wsum / ans if ans else None,
                  "service_level": within / offered if offered else None,
                  "abandon_rate": ab / offered if offered else None,
                  "answered": ans, "abandoned": ab}
    return out


def hourly_rows(day: date, actual: dict[int, dict[str, Any]],
                forecast: dict[int, dict[str, Any]],
                bands: dict[int, tuple[float, float]]) -> list[dict[str, Any]]:
    """One JSON-able row per hour that has anything to show."""
    rows = []
    for h in HOURS:
        a, f, b = actual.get(h), forecast.get(h), bands.get(h)
        if not a and not b and not (f and any(v is not None for v in f.values())):
            continue
        rows.append({"date": day.isoformat(), "hour": h,
                     "actual": {k: (a or {}).get(k) for k in (*METRICS, "answered",
                                                               "abandoned")} if a else None,
                     "forecast": {k: (f or {}).get(k) for k in METRICS} if f else None,
                     "band_s": list(b) if b else None,
                     "in_band": None if not b or not a or a.get("mean_wait_s") is None
                     else b[0] <= a["mean_wait_s"] <= b[1]})
    return rows
