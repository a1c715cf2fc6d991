"""The supervisor web app (Starlette): ``create_app(db_url, live, ...)`` → ASGI app.

Why Starlette and not FastAPI: a dozen routes, HTML first, JSON for two wallboard endpoints —
FastAPI's value (request models, OpenAPI) buys little here and its dependency-injection layer
would sit between us and the plain functions (ARCHITECTURE: a thin web layer over plain
functions). Starlette gives routing, signed-cookie sessions (itsdangerous), streaming responses
for server-sent events and static files, and nothing else.

Routes: ``/login`` ``/logout`` · supervisor/admin: ``/`` (live board), ``/events`` (SSE),
``/hourly``, ``/whatif`` · auditor: ``/records``, ``/audit`` (``ivr.web.records``) ·
session or bearer token: ``/api/queues``, ``/api/hourly?date=…``, ``/metrics`` · open:
``/healthz``, ``/static/…`` (every CSS/JS file is served from the package — no network).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ivr.web import auth
from ivr.web.auth import Principal
from ivr.web.live import LiveSource

HERE = Path(__file__).resolve().parent


@dataclass
class WebState:
    """What every handler needs; one per app (``request.app.state.web``)."""

    factory: Any
    live: LiveSource | None
    forecast_provider: Any
    whatif: Any
    centre: Any
    tz: ZoneInfo
    templates: Jinja2Templates
    throttle: auth.LoginThrottle = field(default_factory=auth.LoginThrottle)
    registry: Any = None
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    stream_max_s: float = 300.0
    fragment: tuple[dict, str] | None = None  # the last rendered board (snapshot, html)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """The board's day (the demo's clock may run ahead of the wall clock)."""
        if self.live is not None:
            try:
                return datetime.fromisoformat(self.live.snapshot()["at"]).date()
            except (KeyError, TypeError, ValueError):
                pass
        return datetime.now(self.tz).date()

    def skill_names(self) -> dict[str, tuple[str, str]]:
        skills = getattr(self.centre, "skills", {}) or {}
        return {k: (s.name, getattr(s, "name_en", "") or "") for k, s in skills.items()}


def web(request: Request) -> WebState:
    return request.app.state.web


async def who(request: Request) -> Principal | None:
    """The session's user, else the bearer token's (looked up in a worker thread)."""
    p = auth.from_session(request)
    if p is not None:
        return p
    token = auth.bearer(request)
    if not token:
        return None
    st = web(request)

    def lookup() -> Principal | None:
        from ivr.web.users import user_for_token

        with st.factory.begin() as db:
            user = user_for_token(db, token, st.now())
            return Principal(user.name, user.role, "token") if user else None

    return await asyncio.to_thread(lookup)


async def gate(request: Request, roles: frozenset[str], *, api: bool = False
               ) -> Principal | Response:
    """The principal if allowed; else 401 (API) / redirect to login (page) / 403."""
    p = await who(request)
    if p is None:
        if api:
            return JSONResponse({"error": "authentication required (session or bearer token)"},
                                401, headers={"WWW-Authenticate": 'Bearer realm="hotline"'})
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(nxt)}", 303)
    if p.role not in roles:
        await audit_event(request, p.name, "web_forbidden", {"path": request.url.path,
                                                             "role": p.role})
        if api:
            return JSONResponse({"error": f"role {p.role} may not use this"}, 403)
        return render(request, "forbidden.html", {"user": p}, status=403)
    return p


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


async def audit_event(request: Request, actor: str, action: str,
                      detail: dict[str, Any] | None = None) -> None:
    """One audit row (worker thread): every login, success and failure, and every refusal."""
    st = web(request)

    def write() -> None:
        from ivr.store import audit

        with st.factory.begin() as db:
            audit.record(db, at=st.now(), actor=actor[:64], action=action,
                         subject=f"web_user:{actor[:48]}",
                         detail={"ip": auth.client_addr(request), **(detail or {})})

    await asyncio.to_thread(write)


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    st = web(request)
    base = {"csrf": auth.csrf_token(request), "user": auth.from_session(request),
            "sl_definition": None}
    resp = st.templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


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
               secret_key: str | None = None, https_only: bool | None = None) -> Any:
    """The dashboard as an ASGI app. ``forecast_provider(date)`` → per-hour forecast;
    ``whatif(skill, agents_by_hour)`` → awaitable forecast (run off the loop by the caller;
    None = :class:`ivr.web.whatif.WhatIf` over ``scenario`` in a spawned worker process,
    False = no what-if). ``dialplans`` is the folder of ``centre.yaml`` (SL threshold,
    published bands, names)."""
    from ivr.store.base import make_engine, session_factory
    from ivr.web import api, pages, records
    from ivr.web.metrics import registry_for
    from queue_engine.scenario import DIALPLANS, load_centre

    if secret_key is None:
        from ivr.citizens.secret import server_secret

        secret_key = auth.session_key(server_secret())
    centre = load_centre(Path(dialplans) / "centre.yaml" if dialplans else DIALPLANS / "centre.yaml")
    state = WebState(factory=session_factory(make_engine(db_url)), live=live,
                     forecast_provider=forecast_provider, whatif=whatif, centre=centre,
                     tz=ZoneInfo(getattr(centre, "timezone", None) or "Europe/Moscow"),
                     templates=Jinja2Templates(directory=str(HERE / "templates")))
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
