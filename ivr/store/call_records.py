"""The ``calls`` table read back as plain records for the queue engine (fit, hourly report).

Why here: ``queue_engine`` never touches the database (ARCHITECTURE rule 3); this reader
turns rows into :class:`queue_engine.records.CallRecords` and nothing else.  No personal
field is read: the caller is the keyed hash ``caller_hash`` (enough to link a retrial).

The queue join time is the ``queued_at`` column (migration 0007), which the live ACD and the
AMI bridge write with a final queue outcome.  Rows written before it lack it and are read as
before: ``detail`` "… after W s …" of a final queue outcome gives ``answered_at − W`` or
``ended_at − W``; a row still ``queued`` (or ``callback``: a callback taken instead of
waiting) joined at its ``ended_at`` (the IVR's hand-over).  Rows without either have no
queue wait (nan) and still count as calls.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ivr.store.models import Call
from ivr.store.timestamps import aware
from queue_engine.records import CallRecords

_WAITED = re.compile(r"\bafter (\d+(?:\.\d+)?) s\b")
_COLS = (Call.call_id, Call.caller_hash, Call.line, Call.region, Call.skill, Call.outcome,
         Call.menu_path, Call.callback_requested, Call.agent_id, Call.detail, Call.started_at,
         Call.answered_at, Call.ended_at, Call.queued_at)


def queued_at(row: dict[str, Any]) -> datetime | None:
    """When the caller joined the agent queue, from the row's own fields (see above)."""
    if "queued_at" in row and row["queued_at"] is not None:
        return aware(row["queued_at"])
    oc = row.get("outcome")
    if oc in ("queued", "callback"):  # still waiting / took a callback instead of waiting
        return aware(row.get("ended_at"))
    m = _WAITED.search(row.get("detail") or "")
    if m is None:
        return None
    from datetime import timedelta

    at = row.get("answered_at") if oc == "answered" else row.get("ended_at")
    return None if at is None else aware(at) - timedelta(seconds=float(m[1]))


def read_calls(db: Any, since: datetime | None = None, until: datetime | None = None,
               skill: str | None = None) -> CallRecords:
    """Calls started in [since, until) (aware datetimes) as records, oldest first."""
    q = select(*_COLS).order_by(Call.started_at)
    if since is not None:
        q = q.where(Call.started_at >= since)
    if until is not None:
        q = q.where(Call.started_at < until)
    if skill:
        q = q.where(Call.skill == skill)
    rows = []
    for r in db.execute(q).mappings():
        row = dict(r)
        row["queued_at"] = queued_at(row)
        rows.append(row)
    return CallRecords.from_rows(rows)
