"""Today's figures per hour beside the forecast and the published bands (SPEC §3).

The page and ``/api/hourly`` show :func:`queue_engine.report.hourly` — the same function as
``hotline report hourly``, so a supervisor reads the same figures in both: actual calls from
the ``calls`` table (``ivr.store.call_records.read_calls``: counted in the hour they joined
the agent queue), the forecast ``hotline serve`` hands the app, and the bands of
``published_waits`` in ``dialplans/centre.yaml``. The wait compared with a band is the
band's own definition, the mean wait of answered calls (ASA).

A forecast is the service's week forecast ``{"skills", "mean": {metric: [H][G+1]}}`` or a
:class:`queue_engine.forecast.Forecast`; hour of week = weekday·24 + hour.
"""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

#: calls that started this long before midnight may join the queue after it
EARLY_START = timedelta(hours=1)


def call_provider(provider: Callable[..., Any] | None, day: date) -> Any:
    """``forecast_provider(date)``; a provider taking no argument (the week) is accepted too."""
    if provider is None:
        return None
    try:
        takes_day = bool(inspect.signature(provider).parameters)
    except (TypeError, ValueError):
        takes_day = True
    return provider(day) if takes_day else provider()


def report(factory: Any, day: date, centre: Any, forecast: Any,
           skill: str | None) -> dict[str, Any]:
    """The day's hourly report; ``factory`` None = no calls (a forecast alone). Blocking: the
    app runs it in a worker thread."""
    from queue_engine.records import CallRecords
    from queue_engine.report import hourly

    if factory is None:
        rec = CallRecords.from_rows([])
    else:
        from ivr.store.call_records import read_calls

        start = datetime.combine(day, time(0), ZoneInfo(centre.timezone))
        with factory() as db:
            rec = read_calls(db, start - EARLY_START, start + timedelta(days=1), skill)
    return hourly(rec, day, centre, forecast or None, skill)


def compare(new: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """What-if rows: the what-if forecast as ``actual`` beside the rostered ``forecast``."""
    by_hour = {r["hour"]: r.get("forecast") for r in base["rows"]}
    return [{"hour": r["hour"], "actual": r.get("forecast"), "forecast": by_hour.get(r["hour"]),
             "band_s": r.get("band_s")} for r in new["rows"] if r.get("forecast")]


async def hourly_payload(st: Any, day: date, skill: str | None) -> dict[str, Any]:
    """:func:`ivr.web.hourly.report` for ``day`` (worker thread) plus where the parts came
    from."""
    raw = call_provider(st.forecast_provider, day)
    if asyncio.iscoroutine(raw):
        raw = await raw
    rep = await asyncio.to_thread(report, st.factory, day, st.centre, raw, skill)
    return {**rep, "forecast_ready": raw is not None,
            "bands_from": "dialplans/centre.yaml published_waits",
            "sl_definition": "answered within "
            f"{getattr(st.centre, 'service_level_seconds', 20):g} s / answered"}
