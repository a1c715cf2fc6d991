"""HTML pages: login/logout, the live board, the hourly view, the what-if form."""
from __future__ import annotations

import asyncio
import inspect
import math
import secrets
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ivr.web import auth, svg
from ivr.web.context import audit_event, gate, render, web
from ivr.web.hourly import call_provider, compare, hourly_payload, report

WHATIF_TIMEOUT_S = 300.0
LINE_ROWS = 6  # line × region rows on the board (the rest: /api/queues, hotline stats)


# ---- formatting (Jinja filters; one place for how a figure reads on the wall) --------------
def secs(v: Any) -> str:
    if v is None:
        return "—"
    v = float(v)
    return f"{v:.0f} с" if v < 90 else f"{v / 60:.1f} мин".replace(".", ",")


def pct(v: Any) -> str:
    return "—" if v is None else f"{100 * float(v):.0f} %"


def add_filters(env: Any) -> None:
    env.filters.update(secs=secs, pct=pct)


def safe_next(value: Any) -> str | None:
    """Only a local path (``/x``), never ``//host`` or a scheme: no open redirect."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") \
            and "\\" not in value:
        return value
    return None


# ---- login ---------------------------------------------------------------------------------
async def login_form(request: Request) -> Response:
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next")),
                                          "error": None})


async def login(request: Request) -> Response:
    st = web(request)
    form = await request.form()
    name = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    nxt = safe_next(form.get("next"))
    ctx: dict[str, Any] = {"next": nxt, "username": name}
    if not auth.csrf_ok(request, form.get("csrf")):
        await audit_event(request, name or "-", "web_login_failed", {"reason": "csrf"})
        return render(request, "login.html", {**ctx, "error": "Форма устарела — обновите "
                                              "страницу (form expired)"}, 403)
    keys = (f"user:{name.casefold()}", f"ip:{auth.client_addr(request)}")
    wait = st.throttle.retry_after(*keys)
    if wait > 0:
        await audit_event(request, name or "-", "web_login_throttled",
                          {"retry_after_s": math.ceil(wait)})
        resp = render(request, "login.html", {**ctx, "error": "Слишком много неудачных попыток; "
                      f"повторите через {math.ceil(wait / 60)} мин (too many attempts)"}, 429)
        resp.headers["Retry-After"] = str(math.ceil(wait))
        return resp

    def check() -> tuple[str, str] | None:
        from ivr.web.users import check_password

        with st.factory.begin() as db:
            user = check_password(db, name, password)
            return (user.name, user.role) if user else None

    found = await asyncio.to_thread(check)
    if found is None:
        st.throttle.failed(*keys)
        await audit_event(request, name or "-", "web_login_failed", {"reason": "password"})
        return render(request, "login.html", {**ctx, "error": "Неверное имя или пароль "
                                              "(wrong name or password)"}, 401)
    st.throttle.succeeded(keys[0])
    await audit_event(request, found[0], "web_login", {"role": found[1]})
    request.session.clear()  # a fresh session and CSRF token: no fixation across the login
    request.session.update(user=found[0], role=found[1], csrf=secrets.token_urlsafe(24))
    home = "/records" if found[1] in auth.RECORDS_ROLES else "/"
    return RedirectResponse(nxt or home, 303)


async def logout(request: Request) -> Response:
    form = await request.form()
    p = auth.from_session(request)
    if not auth.csrf_ok(request, form.get("csrf")):
        return Response("CSRF token missing or wrong", 403)
    if p is not None:
        await audit_event(request, p.name, "web_logout")
    request.session.clear()
    return RedirectResponse("/login", 303)


# ---- live board ----------------------------------------------------------------------------
def board_fragment(request: Request, snap: dict[str, Any]) -> str:
    """The board's HTML for ``snap``, rendered once per snapshot for every open stream (the
    board hands all subscribers the same snapshot; equal snapshots are not rendered twice)."""
    st = web(request)
    cached = st.fragment
    if cached is not None and (cached[0] is snap or cached[0] == snap):
        return cached[1]
    lines = snap.get("lines", [])
    if len(lines) > LINE_ROWS:  # a wall screen does not scroll: the busiest rows, in order
        busy = sorted(lines, key=lambda r: -(r["in_ivr"] + r["queued"]))[:LINE_ROWS]
        lines = [r for r in lines if any(r is b for b in busy)]
    html = st.templates.env.get_template("_board.html").render(
        snap=snap, lines=lines, hidden=len(snap.get("lines", [])) - len(lines),
        names=st.skill_names(),
        ewt_alarm=float(getattr(st.centre, "callback_offer_above", 600)))
    st.fragment = (snap, html)
    return html


async def board(request: Request) -> Response:
    p = await gate(request, auth.STATS_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)
    snap = st.live.snapshot() if st.live is not None else None
    return render(request, "board.html", {
        "user": p, "fragment": board_fragment(request, snap) if snap else None, "page": "board"})


# ---- hourly --------------------------------------------------------------------------------
def _day(value: str | None, st: Any) -> date:
    if value:
        return date.fromisoformat(value)
    return st.today()


def charts(rows: list[dict[str, Any]], *, band: bool = True) -> list[str]:
    return [
        svg.chart("Среднее ожидание ответивших, мин (mean wait of answered calls, ASA)", rows,
                  "asa", svg.minutes, scale=1 / 60, band=band, chart_id="chart-wait"),
        svg.chart("Уровень обслуживания (service level)", rows, "sl", svg.percent,
                  cap=1.0, chart_id="chart-sl"),
        svg.chart("Доля брошенных (abandonment)", rows, "abandon_rate", svg.percent,
                  chart_id="chart-ab"),
    ]


async def hourly(request: Request) -> Response:
    p = await gate(request, auth.STATS_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)
    skill = request.query_params.get("skill") or None
    try:
        day = _day(request.query_params.get("date"), st)
    except ValueError:
        day = st.today()
    data = await hourly_payload(st, day, skill)
    return render(request, "hourly.html", {
        "user": p, "page": "hourly", "day": day, "skill": skill, "data": data,
        "skills": st.skill_names(), "charts": charts(data["rows"])})


# ---- what-if -------------------------------------------------------------------------------
def _hours_open(st: Any) -> list[int]:
    spans = [h for h in (getattr(st.centre, "hours", {}) or {}).values() if h]
    if not spans:
        return list(range(8, 20))
    return list(range(min(s[0] for s in spans), max(s[1] for s in spans)))


async def whatif_form(request: Request, *, result: dict[str, Any] | None = None,
                      status: int = 200) -> Response:
    p = await gate(request, auth.STATS_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)
    return render(request, "whatif.html", {
        "user": p, "page": "whatif", "available": st.whatif is not None,
        "skills": st.skill_names(), "hours": _hours_open(st), "result": result,
        "day": st.today()}, status)


async def whatif_run(request: Request) -> Response:
    p = await gate(request, auth.STATS_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)
    form = await request.form()
    if not auth.csrf_ok(request, form.get("csrf")):
        return Response("CSRF token missing or wrong", 403)
    skill = str(form.get("skill", ""))
    if skill not in st.skill_names() or st.whatif is None:
        return await whatif_form(request, result={"error": "Неизвестная группа или расчёт "
                                                  "недоступен (unknown group)"}, status=400)
    agents: dict[int, int] = {}
    for h in _hours_open(st):
        raw = str(form.get(f"h{h}", "")).strip()
        if raw:
            if not raw.isdigit() or int(raw) > 10_000:
                return await whatif_form(request, result={
                    "error": f"{h}:00 — нужно целое число операторов (whole number)"}, status=400)
            agents[h] = int(raw)
    try:
        day = date.fromisoformat(str(form.get("date", ""))) if form.get("date") else st.today()
    except ValueError:
        day = st.today()
    pending = st.whatif(skill, agents)
    try:
        got = await asyncio.wait_for(pending, WHATIF_TIMEOUT_S) if inspect.isawaitable(
            pending) else pending
    except Exception as exc:  # noqa: BLE001 - the form shows why; the service carries on
        return await whatif_form(request, result={"error": f"Расчёт не удался: {exc}"[:300]},
                                 status=502)
    base = call_provider(st.forecast_provider, day)
    if inspect.isawaitable(base):
        base = await base
    new_rep, base_rep = await asyncio.gather(
        asyncio.to_thread(report, None, day, st.centre, got, skill),
        asyncio.to_thread(report, None, day, st.centre, base, skill))
    rows = compare(new_rep, base_rep)
    return await whatif_form(request, result={"skill": skill, "agents": agents, "rows": rows,
                                              "charts": charts(rows, band=False)})
