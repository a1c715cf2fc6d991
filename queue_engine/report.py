"""Forecast against actual, hour by hour: the records of a day beside the forecast and band.

One pure function, :func:`hourly`, over :class:`queue_engine.records.CallRecords` and a
forecast; ``hotline report hourly`` and the dashboard's hourly view both call it, so a
supervisor sees the same figures in both.  Definitions are :mod:`queue_engine.stats`'s
(the forecast's): calls count in the hour they joined the agent queue; ``offered`` = live
callers who reached the queue (callbacks the centre dialled are not demand); ``asa`` =
mean wait of answered calls (what the published bands state); ``mean_wait`` also counts
abandoned callers up to their hang-up; ``sl`` = answered within the service-level
threshold / answered; ``abandon_rate`` = abandoned / (answered + abandoned).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from queue_engine.fit import local_time
from queue_engine.records import CallRecords
from queue_engine.scenario import Centre

__all__ = ["FIELDS", "actual_by_hour", "hourly", "plot_hourly", "to_csv"]

FIELDS = ("offered", "answered", "abandoned", "mean_wait", "asa", "sl", "abandon_rate")
_FC = {"offered": "offered", "answered": "answered", "abandoned": "abandoned",
       "mean_wait": "mean_wait", "asa": "asa", "sl": "sl", "abandon_rate": "abandon_rate"}


def actual_by_hour(rec: CallRecords, day: dt.date, centre: Centre,
                   skill: str | None = None) -> dict[int, dict[str, float | None]]:
    """Local hour of ``day`` -> the records' figures (hours without callers left out)."""
    live = ~rec.outbound & np.isfinite(rec.queued)
    if skill:
        live &= rec.skill == skill
    dno, _, hr = local_time(rec.queued, centre.timezone)
    m = live & (dno == (day - dt.date(1970, 1, 1)).days)
    w = rec.wait
    thr = centre.service_level_seconds
    out: dict[int, dict[str, float | None]] = {}
    for h in np.unique(hr[m]).tolist():
        k = m & (hr == h)
        ans = k & (rec.outcome == "answered")
        ab = k & (rec.outcome == "abandoned")
        n_ans, n_ab = int(ans.sum()), int(ab.sum())
        wa = w[ans][np.isfinite(w[ans])]
        wb = w[ans | ab][np.isfinite(w[ans | ab])]
        out[int(h)] = {
            "offered": int(k.sum()), "answered": n_ans, "abandoned": n_ab,
            "mean_wait": _f(wb.mean()) if wb.size else None,
            "asa": _f(wa.mean()) if wa.size else None,
            "sl": _f((wa <= thr).sum() / wa.size) if wa.size else None,
            "abandon_rate": _f(n_ab / (n_ans + n_ab)) if n_ans + n_ab else None,
        }
    return out


def _f(x: float) -> float | None:
    x = float(x)
    return round(x, 4) if math.isfinite(x) else None


def _forecast_hour(forecast: Any, week_hour: int, col: int) -> dict[str, float | None] | None:
    """One hour of a :class:`queue_engine.forecast.Forecast` or of its plain form
    ``{"skills": [...], "mean": {metric: [H][G+1]}, "half": {...}}`` (the live service's)."""
    if forecast is None:
        return None
    if hasattr(forecast, "summary"):
        mean, half = forecast.summary.mean, forecast.summary.half
    else:
        mean, half = forecast.get("mean", {}), forecast.get("half", {})
    out: dict[str, float | None] = {}
    for k, src in _FC.items():
        rows = mean.get(src)
        if rows is None or not len(rows):
            out[k] = None
            continue
        out[k] = _f(np.asarray(rows[week_hour % len(rows)])[col])
        hrows = half.get(src) if half else None
        if hrows is not None and len(hrows):
            out[k + "_ci"] = _f(np.asarray(hrows[week_hour % len(hrows)])[col])
    return out


def hourly(rec: CallRecords, day: dt.date, centre: Centre, forecast: Any = None,
           skill: str | None = None) -> dict[str, Any]:
    """The day's report: one row per hour with calls, a forecast or a published band.

    ``forecast`` covers the scenario's week (hour of week = weekday·24 + hour); on a public
    holiday the week's forecast and the bands do not apply and are left out.
    """
    actual = actual_by_hour(rec, day, centre, skill)
    holiday = day in centre.holidays
    bands = {} if holiday else {h - day.weekday() * 24: b for h, b in centre.bands().items()
                                if h // 24 == day.weekday()}
    skills = list(centre.skills)
    col = skills.index(skill) if skill else len(skills)
    if forecast is not None and not hasattr(forecast, "summary") and "skills" in forecast:
        fs = list(forecast["skills"])
        col = fs.index(skill) if skill in fs else len(fs)
    rows = []
    for h in range(24):
        a = actual.get(h)
        f = None if holiday else _forecast_hour(forecast, day.weekday() * 24 + h, col)
        b = bands.get(h)
        if not a and not b and not (f and (f.get("offered") or 0) > 0.5):
            continue
        asa = a.get("asa") if a else None
        rows.append({"hour": h, "actual": a, "forecast": f,
                     "band_s": list(b) if b else None,
                     "in_band": None if b is None or asa is None else b[0] <= asa <= b[1],
                     "volume_error": None if not (a and f and f.get("offered"))
                     else _f(a["offered"] - f["offered"])})
    return {"date": day.isoformat(), "skill": skill or "all", "timezone": centre.timezone,
            "holiday": holiday, "rows": rows}


def to_csv(report: dict[str, Any]) -> str:
    """One line per hour: actual and forecast side by side, the band, in band or not."""
    import csv
    import io

    buf = io.StringIO()
    wr = csv.writer(buf)
    head = ["date", "skill", "hour", *(f"actual_{k}" for k in FIELDS),
            *(f"forecast_{k}" for k in FIELDS), "forecast_asa_ci", "band_low_s",
            "band_high_s", "in_band"]
    wr.writerow(head)
    for r in report["rows"]:
        a, f, b = r["actual"] or {}, r["forecast"] or {}, r["band_s"] or [None, None]
        wr.writerow([report["date"], report["skill"], r["hour"],
                     *(_cell(a.get(k)) for k in FIELDS), *(_cell(f.get(k)) for k in FIELDS),
                     _cell(f.get("asa_ci")), _cell(b[0]), _cell(b[1]), _cell(r["in_band"])])
    return buf.getvalue()


def _cell(x: Any) -> str:
    return "" if x is None else str(x)


def plot_hourly(report: dict[str, Any], path: Any) -> None:
    """Actual ASA and volume against the forecast (with its CI) and the published band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    hrs = [r["hour"] for r in rows]

    def col(side: str, key: str, scale: float = 1.0) -> list[float]:
        return [((r[side] or {}).get(key) or math.nan) / scale for r in rows]

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for r in rows:
        if r["band_s"]:
            ax.fill_between([r["hour"] - 0.5, r["hour"] + 0.5], r["band_s"][0] / 60,
                            r["band_s"][1] / 60, color="tab:green", alpha=0.15, lw=0)
    ax.errorbar(hrs, col("forecast", "asa", 60), yerr=col("forecast", "asa_ci", 60),
                fmt="o--", label="forecast ASA (95 % CI)")
    ax.plot(hrs, col("actual", "asa", 60), "s-", label="actual ASA")
    ax.set_ylabel("mean wait, min")
    ax.legend()
    ax2.bar(hrs, col("actual", "offered"), alpha=0.5, label="actual calls")
    ax2.plot(hrs, col("forecast", "offered"), "o--", label="forecast calls")
    ax2.set_xlabel(f"hour ({ZoneInfo(report['timezone'])})")
    ax2.legend()
    fig.suptitle(f"{report['date']}, {report['skill']}: forecast against actual")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
