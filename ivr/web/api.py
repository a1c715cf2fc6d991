"""Machine-facing endpoints: server-sent events, JSON for wallboards, Prometheus metrics.

All of them answer 401 without a session or a bearer token (``hotline user token NAME``).
``/metrics`` too: the figures are the centre's operational data, and Prometheus sends a
bearer token with ``authorization: {credentials_file: …}`` in its scrape config.
"""
from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ivr.web import auth
from ivr.web.context import gate, web
from ivr.web.hourly import hourly_payload
from ivr.web.pages import board_fragment


async def queues(request: Request) -> Response:
    p = await gate(request, auth.STATS_ROLES, api=True)
    if isinstance(p, Response):
        return p
    st = web(request)
    if st.live is None:
        return JSONResponse({"error": "live figures are not available (no running ACD)"}, 503)
    return JSONResponse(st.live.snapshot(), headers={"Cache-Control": "no-store"})


async def hourly(request: Request) -> Response:
    p = await gate(request, auth.STATS_ROLES, api=True)
    if isinstance(p, Response):
        return p
    st = web(request)
    raw = request.query_params.get("date")
    try:
        day = date.fromisoformat(raw) if raw else st.today()
    except ValueError:
        return JSONResponse({"error": "date must be YYYY-MM-DD"}, 400)
    skill = request.query_params.get("skill") or None
    if skill is not None and skill not in st.skill_names():
        return JSONResponse({"error": f"unknown skill {skill!r}"}, 400)
    return JSONResponse(await hourly_payload(st, day, skill))


async def metrics(request: Request) -> Response:
    p = await gate(request, auth.STATS_ROLES, api=True)
    if isinstance(p, Response):
        return p
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    body = generate_latest(web(request).registry)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def sse(event: str, data: str) -> str:
    """One server-sent event; every line of ``data`` gets its own ``data:`` field."""
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


async def events(request: Request) -> Response:
    """The board as server-sent events: a rendered fragment per snapshot (``board``) and the
    raw snapshot (``snapshot``, for wallboards). Ends after ``stream_max_s`` (the browser
    reconnects after 1 s) so a stopping server never waits on an endless response."""
    p = await gate(request, auth.STATS_ROLES, api=True)
    if isinstance(p, Response):
        return p
    st = web(request)
    if st.live is None:
        return JSONResponse({"error": "live figures are not available"}, 503)
    want_json = request.query_params.get("format") == "json"
    loop = asyncio.get_running_loop()

    async def stream() -> Any:
        yield "retry: 1000\n\n"
        end = loop.time() + st.stream_max_s
        feed = st.live.subscribe()
        try:
            async for snap in feed:
                if want_json:
                    yield sse("snapshot", json.dumps(snap, ensure_ascii=False))
                else:
                    yield sse("board", board_fragment(request, snap))
                if loop.time() > end or st.closing.is_set():
                    break
        finally:
            aclose = getattr(feed, "aclose", None)
            if aclose is not None:
                await aclose()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
