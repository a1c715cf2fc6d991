"""What every handler shares: the app's state, who is asking, the role gate, audit, render.

Kept apart from :mod:`ivr.web.app` (which assembles the routes) so the page modules import
this and the app imports them — one direction, no circle.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from ivr.web import auth
from ivr.web.auth import Principal
from ivr.web.live import LiveSource


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
    transfer: Any = None  # the running ACD's transfer(call_id, to, by=, via=, priority=)

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
