"""Writing call records: exactly once per call id, whatever driver or bridge writes it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.store.models import Call

_COLUMNS = {c.name for c in Call.__table__.columns} - {"id"}
# bounded text columns: an over-long value (a caller-controlled DID, a hostile caller id) is
# shortened, never allowed to fail the insert and lose the call (issue 13 item 9; PostgreSQL
# raises StringDataRightTruncation where SQLite would store it whole)
_LIMITS = {c.name: c.type.length for c in Call.__table__.columns
           if getattr(c.type, "length", None)}
_LIMITS["caller_number"] = 64  # encrypted (unbounded) column, but a number: a 100 kB caller id
# from a hostile client is cut here, not stored whole
MAX_TEXT = 4000  # unbounded text fields (detail, caller number) are kept to a sane size


def clamp(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every string cut to its column's size."""
    out = dict(row)
    for key, value in row.items():
        if isinstance(value, str):
            limit = _LIMITS.get(key, MAX_TEXT)
            if len(value) > limit:
                out[key] = value[:limit]
    return out


def record_call(session: Session, row: dict[str, Any]) -> bool:
    """Insert the call's record; a second write for the same ``call_id`` is a no-op.

    Returns True when this call inserted the row. Unknown keys are refused loudly so a typo in a
    driver never silently drops a field.
    """
    unknown = set(row) - _COLUMNS
    if unknown:
        raise ValueError(f"unknown call record field(s): {', '.join(sorted(unknown))}")
    row = clamp(row)
    if row.get("caller_number"):  # the lookup hash of the encrypted number (ivr.store.crypto)
        row = {**row, "caller_hash": row["caller_number"]}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(Call).values(**row).on_conflict_do_nothing(index_elements=["call_id"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(Call).values(**row).on_conflict_do_nothing(index_elements=["call_id"])
    else:  # pragma: no cover - other backends: plain insert, duplicates raise
        stmt = insert(Call).values(**row)
    return session.execute(stmt.returning(Call.id)).first() is not None
