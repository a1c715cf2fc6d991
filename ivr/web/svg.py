"""Hour-by-hour charts as inline SVG: actual (bars), forecast (dashed line), band (shaded).

Drawn on the server from the same rows ``/api/hourly`` returns, so the page needs no chart
library (works offline, nothing to vendor) and a wall screen scales it without blur.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any

W, H = 980, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 40


def _hours(rows: list[dict[str, Any]]) -> list[int]:
    hs = [r["hour"] for r in rows]
    lo, hi = (min(hs), max(hs)) if hs else (8, 19)
    return list(range(lo, hi + 1))


def chart(title: str, rows: list[dict[str, Any]], key: str, fmt: Callable[[float], str], *,
          scale: float = 1.0, band: bool = False, cap: float | None = None,
          chart_id: str = "") -> str:
    """One metric (``key`` of ``actual``/``forecast``) by hour; ``scale`` converts units
    (seconds → minutes: 1/60); ``band`` draws ``band_s``; ``cap`` fixes the top (1.0 for %)."""
    hours = _hours(rows)
    by_hour = {r["hour"]: r for r in rows}

    def val(r: dict | None, side: str) -> float | None:
        part = (r or {}).get(side) or {}
        v = part.get(key)
        return None if v is None else float(v) * scale

    vals = [v for h in hours for side in ("actual", "forecast")
            if (v := val(by_hour.get(h), side)) is not None]
    if band:
        vals += [b * scale for h in hours for b in (by_hour.get(h, {}).get("band_s") or [])]
    top, step = (cap, cap / 4) if cap is not None else nice_axis(max(vals + [0.0]) * 1.05)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = pw / max(len(hours), 1)

    def x(i: int) -> float:
        return LEFT + i * slot

    def y(v: float) -> float:
        return TOP + ph - min(v, top) / top * ph

    head = (f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {W} {H}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">')
    out = [head,
           f'<title>{escape(title)}</title>',
           f'<text x="{LEFT}" y="24" class="ct">{escape(title)}</text>']
    for k in range(round(top / step) + 1):  # grid and y labels
        v = step * k
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'class="grid"/><text x="{LEFT - 8}" y="{y(v) + 5:.1f}" class="yl" '
                   f'text-anchor="end">{escape(fmt(v))}</text>')
    for i, h in enumerate(hours):
        r = by_hour.get(h)
        if band and r and r.get("band_s"):
            lo, hi = (b * scale for b in r["band_s"])
            out.append(f'<rect class="band" x="{x(i):.1f}" y="{y(hi):.1f}" width="{slot:.1f}" '
                       f'height="{max(y(lo) - y(hi), 1):.1f}"><title>{h}:00 '
                       f'{escape(fmt(lo))}–{escape(fmt(hi))}</title></rect>')
        a = val(r, "actual")
        if a is not None:
            out.append(f'<rect class="actual" x="{x(i) + slot * 0.2:.1f}" y="{y(a):.1f}" '
                       f'width="{slot * 0.6:.1f}" height="{TOP + ph - y(a):.1f}">'
                       f'<title>{h}:00 {escape(fmt(a))}</title></rect>')
        out.append(f'<text x="{x(i) + slot / 2:.1f}" y="{H - 14}" class="xl" '
                   f'text-anchor="middle">{h:02d}</text>')
    pts = [(x(i) + slot / 2, y(v)) for i, h in enumerate(hours)
           if (v := val(by_hour.get(h), "forecast")) is not None]
    if pts:
        out.append('<polyline class="forecast" points="'
                   + " ".join(f"{px:.1f},{py:.1f}" for px, py in pts) + '"/>')
        out += [f'<circle class="forecast-pt" cx="{px:.1f}" cy="{py:.1f}" r="5"/>'
                for px, py in pts]
    out.append("</svg>")
    return "".join(out)


def nice_axis(vmax: float) -> tuple[float, float]:
    """(top, step): about four steps of 1, 2, 2.5 or 5 × 10^k covering ``vmax``."""
    if vmax <= 0:
        return 1.0, 0.25
    raw = vmax / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return step * math.ceil(vmax / step - 1e-9), step


def minutes(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == 0 else f"{v:.1f}"


def percent(v: float) -> str:
    return f"{100 * v:.0f}%"
