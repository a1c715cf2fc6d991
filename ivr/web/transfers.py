"""Escalation from the dashboard: ``POST /api/calls/{id}/transfer`` and a call's record page.

The API hands a connected call to a senior group through the running service's ACD
(``WebState.transfer`` — :meth:`ivr.service.acd.AcdService.transfer`, run on the event loop
like every ACD call). Body (JSON): ``{"to": "senior", "priority": 5}`` (priority optional).
Roles ``agent``/``supervisor``/``admin``; a session must send its CSRF token in
``X-CSRF-Token`` (a bearer token needs none — it is not sent by a browser on its own). Every
attempt, done or refused, is an audit row (``call_transfer``).

``GET /calls/{id}`` shows the call's record with its history — the IVR menu path, the
identification result, the first agent — and each transfer (who, when, to which group, the
senior who answered). Reading it is audited (``call_record_read``).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ivr.web import auth
from ivr.web.context import gate, render, web

TRANSFER_ROLES = frozenset({"agent", "supervisor", "admin"})
RECORD_ROLES = frozenset({"agent", "supervisor", "admin", "auditor"})
CALL_ID_MAX = 64


async def _audit(request: Request, actor: str, call_id: str, detail: dict[str, Any],
                 action: str = "call_transfer") -> None:
    st = web(request)

    def write() -> None:
        from ivr.store import audit

        with st.factory.begin() as db:
            audit.record(db, at=st.now(), actor=actor[:64], action=action,
                         subject=f"call:{call_id[:CALL_ID_MAX]}",
                         detail={"ip": auth.client_addr(request), **detail})

    await asyncio.to_thread(write)


async def transfer(request: Request) -> Response:
    p = await gate(request, TRANSFER_ROLES, api=True)
    if isinstance(p, Response):
        return p
    call_id = request.path_params["call_id"][:CALL_ID_MAX]
    actor = f"web:{p.name}"
    if p.via == "session" and not auth.csrf_ok(request, request.headers.get("x-csrf-token")):
        await _audit(request, actor, call_id, {"result": "refused", "reason": "csrf"})
        return JSONResponse({"error": "CSRF token missing or wrong (X-CSRF-Token)"}, 403)
    try:
        body = json.loads(await request.body() or b"{}")
        to = body["to"]
        priority = body.get("priority")
        if not isinstance(to, str) or not (priority is None or (
                isinstance(priority, int) and 0 <= priority <= 100)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": 'body: {"to": GROUP, "priority": 0..100 (optional)}'},
                            400)
    st = web(request)
    if st.transfer is None:
        return JSONResponse({"error": "no running ACD here (embedded mode transfers; with "
                             "Asterisk the agent's phone transfers to hotline-senior)"}, 503)
    from ivr.records.transfers import TransferError, UnknownGroup

    try:
        st.transfer(call_id, to, by=actor, via="web", priority=priority)
    except UnknownGroup as exc:
        await _audit(request, actor, call_id, {"result": "refused", "to": to[:64]})
        return JSONResponse({"error": str(exc)}, 400)
    except TransferError as exc:
        await _audit(request, actor, call_id, {"result": "refused", "to": to})
        return JSONResponse({"error": str(exc)}, 409)
    await _audit(request, actor, call_id, {"result": "transferred", "to": to,
                                           "priority": priority})
    return JSONResponse({"call_id": call_id, "to": to, "queued": True})


async def call_record(request: Request) -> Response:
    p = await gate(request, RECORD_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)
    call_id = request.path_params["call_id"][:CALL_ID_MAX]

    def read() -> tuple[Any, list[Any]]:
        from sqlalchemy import select

        from ivr.records.transfers import transfers_of
        from ivr.store import audit
        from ivr.store.models import Call

        with st.factory.begin() as db:
            row = db.scalar(select(Call).where(Call.call_id == call_id))
            moves = transfers_of(db, call_id)
            audit.record(db, at=st.now(), actor=f"web:{p.name}", action="call_record_read",
                         subject=f"call:{call_id}", detail={"found": row is not None})
            if row is not None:
                db.expunge(row)
            for m in moves:
                db.expunge(m)
            return row, moves

    row, moves = await asyncio.to_thread(read)
    return render(request, "call.html", {"user": p, "page": "call", "call": row,
                                         "call_id": call_id, "transfers": moves, "tz": st.tz},
                  status=200 if row is not None else 404)


def routes() -> list[Route]:
    return [Route("/api/calls/{call_id}/transfer", transfer, methods=["POST"]),
            Route("/calls/{call_id}", call_record, methods=["GET"])]
