"""The supervisor web app (Starlette): ``create_app(db_url, live, ...)`` → ASGI app.

Why Starlette and not FastAPI: a dozen routes, HTML first, JSON for two wallboard endpoints —
FastAPI's value (request models, OpenAPI) buys little here and its dependency-injection layer
would sit between us and the plain functions (ARCHITECTURE: a thin web layer over plain
functions). Starlette gives routing, signed-cookie sessions (itsdangerous), streaming responses
for server-sent events and static files, and nothing else.

Routes: ``/login`` ``/logout`` · supervisor/admin: ``/`` (live board), ``/events`` (SSE),
``/hourly``, ``/whatif`` · auditor: ``/records``, ``/audit`` (``ivr.web.records``) ·
agent/supervisor: ``POST /api/calls/{id}/transfer``, ``/calls/{id}`` (``ivr.web.transfers``) ·
session or bearer token: ``/api/queues``, ``/api/hourly?date=…``, ``/metrics`` · open:
``/healthz``, ``/static/…`` (every CSS/JS file is served from the package — no network).
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ivr.web import api, auth, pages, records, transfers
from ivr.web.context import WebState
from ivr.web.live import LiveSource

HERE = Path(__file__).resolve().parent


CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       b"frame-ancestors 'none'; form-action 'self'")


class SecurityHeaders:
    """Pages are framed by nobody and load nothing from elsewhere (CSP: self only)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with(msg: dict) -> None:
            if msg["type"] == "http.response.start":
                msg = {**msg, "headers": [*msg.get("headers", []),
                                          (b"content-security-policy", CSP),
                                          (b"x-content-type-options", b"nosniff"),
                                          (b"referrer-policy", b"same-origin")]}
            await send(msg)

        await self.app(scope, receive, send_with)


def stop_streams(app: Any) -> None:
    """End every open event stream within a second (call before asking uvicorn to exit, so
    its graceful shutdown does not wait on endless responses). Lifespan shutdown does it too,
    but uvicorn runs that only after the connections have closed."""
    app.state.web.closing.set()


def create_app(db_url: str, live: LiveSource | None, *, forecast_provider: Any = None,
               whatif: Any = None, dialplans: str | None = None, scenario: str | None = None,
               secret_key: str | None = None, https_only: bool | None = None,
               transfer: Any = None) -> Any:
    """The dashboard as an ASGI app. ``forecast_provider(date)`` → per-hour forecast;
    ``whatif(skill, agents_by_hour)`` → awaitable forecast (run off the loop by the caller;
    None = :class:`ivr.web.whatif.WhatIf` over ``scenario`` in a spawned worker process,
    False = no what-if). ``transfer``: the running ACD's (``POST /api/calls/{id}/transfer``,
    :mod:`ivr.web.transfers`). ``dialplans`` is the folder of ``centre.yaml`` (SL threshold,
    published bands, names)."""
    from ivr.store.base import make_engine, session_factory
    from ivr.web.metrics import registry_for
    from queue_engine.scenario import DIALPLANS, load_centre

    if secret_key is None:
        from ivr.citizens.secret import server_secret

        secret_key = auth.session_key(server_secret())
    centre = load_centre(Path(dialplans) / "centre.yaml" if dialplans else DIALPLANS / "centre.yaml")
    state = WebState(factory=session_factory(make_engine(db_url)), live=live,
                     forecast_provider=forecast_provider, whatif=whatif, centre=centre,
                     tz=ZoneInfo(getattr(centre, "timezone", None) or "Europe/Moscow"),
                     templates=Jinja2Templates(directory=str(HERE / "templates")),
                     transfer=transfer)
    pages.add_filters(state.templates.env)
    own_whatif = None
    if whatif is None:
        from ivr.web.whatif import WhatIf

        state.whatif = own_whatif = WhatIf(scenario, day=state.today)
    elif whatif is False:
        state.whatif = None
    state.registry = registry_for(live)
    if https_only is None:
        https_only = os.environ.get("HOTLINE_WEB_HTTPS", "") in ("1", "true", "yes")
    routes = [
        Route("/healthz", lambda r: PlainTextResponse("ok")),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/", pages.board, methods=["GET"]),
        Route("/events", api.events, methods=["GET"]),
        Route("/hourly", pages.hourly, methods=["GET"]),
        Route("/whatif", pages.whatif_form, methods=["GET"]),
        Route("/whatif", pages.whatif_run, methods=["POST"]),
        Route("/api/queues", api.queues, methods=["GET"]),
        Route("/api/hourly", api.hourly, methods=["GET"]),
        Route("/metrics", api.metrics, methods=["GET"]),
        *records.routes(),
        *transfers.routes(),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        yield
        state.closing.set()  # open event streams end
        if own_whatif is not None:
            own_whatif.close()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret_key, session_cookie=auth.SESSION_COOKIE,
                   max_age=auth.SESSION_MAX_AGE, same_site="strict", https_only=https_only)])
    app.state.web = state
    return app
