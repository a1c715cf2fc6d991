"""Auditor pages: recordings and the audit log (placeholders the records work replaces).

The role gate is here and in :mod:`ivr.records.access` (which audits every listing, granted
or refused). To grow these pages, keep ``routes()`` and the gate
``gate(request, auth.RECORDS_ROLES)``; add routes to the list it returns.
"""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ivr.web import auth
from ivr.web.context import gate, render, web

AUDIT_PAGE = 100


async def recordings(request: Request) -> Response:
    p = await gate(request, auth.RECORDS_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)

    def read() -> list[Any]:
        from ivr.records.access import list_recordings

        with st.factory.begin() as db:
            return list_recordings(db, actor=f"web:{p.name}", role=p.role, now=st.now())

    rows = await asyncio.to_thread(read)
    return render(request, "records.html", {"user": p, "page": "records", "rows": rows})


async def audit_log(request: Request) -> Response:
    p = await gate(request, auth.RECORDS_ROLES)
    if isinstance(p, Response):
        return p
    st = web(request)

    def read() -> list[Any]:
        from ivr.store import audit
        from ivr.store.models import AuditEntry

        with st.factory.begin() as db:
            rows = list(db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())
                                   .limit(AUDIT_PAGE)))
            audit.record(db, at=st.now(), actor=f"web:{p.name}", action="audit_log_read",
                         detail={"rows": len(rows)})
            return rows

    rows = await asyncio.to_thread(read)
    return render(request, "audit.html", {"user": p, "page": "audit", "rows": rows,
                                          "tz": st.tz})


def routes() -> list[Route]:
    return [Route("/records", recordings, methods=["GET"]),
            Route("/audit", audit_log, methods=["GET"])]
