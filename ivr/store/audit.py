"""The audit log made tamper-evident: every row carries an HMAC hash chain.

Row *n* stores ``seq = n``, ``prev_hash`` (row *n-1*'s ``row_hash``, or 64 zeros) and
``row_hash = HMAC(key, prev_hash | canonical(seq, at, actor, action, subject, detail))``. The key
is a non-rotating key of the keyring (:func:`ivr.store.crypto.mac_key`), so someone who can
write to the database but does not hold the keyring cannot re-forge the chain after editing,
inserting or deleting a row; :func:`verify` names the first row that does not fit.

The database triggers of migration 0001 keep refusing UPDATE and DELETE; the chain is what
catches whoever drops them. Appends are serialised by a one-row head table (``audit_chain``):
the first statement of an append is an UPDATE of that row, which takes SQLite's write lock or
PostgreSQL's row lock before the previous hash is read, so two servers never fork the chain.
The head also holds the newest ``seq``/hash, so a truncated tail is caught too; print it with
``hotline audit verify`` and keep it elsewhere to anchor the chain in time.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Integer,
    String,
    column,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.store.base import Base
from ivr.store.crypto import mac_key
from ivr.store.timestamps import UtcDateTime, aware, utc

GENESIS = "0" * 64
# audit_log as Core sees it (the ORM model in ivr.store.models imports this module)
LOG = table("audit_log", column("id", Integer), column("at", UtcDateTime()),
            column("actor", String), column("action", String), column("subject", String),
            column("detail", JSON), column("seq", Integer), column("prev_hash", String),
            column("row_hash", String))


class AuditChain(Base):
    """The chain's head: one row (id 1) with the newest ``seq`` and ``row_hash``."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def canonical(seq: int, at: datetime, actor: str, action: str, subject: str | None,
              detail: Any) -> bytes:
    """The bytes a row's hash covers: one JSON array, sorted keys, UTC microseconds."""
    when = utc(aware(at)).isoformat(timespec="microseconds")  # type: ignore[arg-type]
    return json.dumps([seq, when, actor, action, subject, detail], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"), default=str).encode()


def row_hash(prev: str, body: bytes, key: bytes | None = None) -> str:
    return hmac.new(key or mac_key("audit"), prev.encode() + b"|" + body,
                    hashlib.sha256).hexdigest()


def _advance(conn: Connection) -> tuple[int, str]:
    """Lock the head (UPDATE first), then read it: the next ``seq`` and the previous hash."""
    bumped = conn.execute(text("UPDATE audit_chain SET seq = seq + 1 WHERE id = 1")).rowcount
    if not bumped:
        conn.execute(insert(AuditChain).values(id=1, seq=1, last_hash=GENESIS))
    seq, last = conn.execute(text("SELECT seq, last_hash FROM audit_chain WHERE id = 1")).one()
    return int(seq), str(last)


def seal(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus ``seq``/``prev_hash``/``row_hash``; moves the head in ``conn``'s
    transaction (so a rolled-back append leaves the head where it was)."""
    seq, prev = _advance(conn)
    body = canonical(seq, values["at"], values["actor"], values["action"],
                     values.get("subject"), values.get("detail"))
    digest = row_hash(prev, body)
    conn.execute(text("UPDATE audit_chain SET last_hash = :h WHERE id = 1"), {"h": digest})
    return {**values, "seq": seq, "prev_hash": prev, "row_hash": digest}


def record(db: Session, *, at: datetime, actor: str, action: str, subject: str | None = None,
           detail: dict[str, Any] | None = None) -> int:
    """Append one audit row in ``db``'s transaction; returns its ``seq``. Never put a personal
    value in ``detail`` or ``subject`` (ids only: ``citizen:12``, ``call:…``)."""
    conn = db.connection()
    values = seal(conn, {"at": utc(at), "actor": actor, "action": action, "subject": subject,
                         "detail": detail})
    conn.execute(insert(LOG).values(**values))
    return values["seq"]


@dataclass(frozen=True)
class Verdict:
    """``ok``; else ``row_id``/``seq`` of the first row that breaks the chain, and why."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    row_id: int | None = None
    seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return (f"audit log intact: {self.rows} rows, head seq {self.head_seq} "
                    f"hash {self.head_hash}")
        return f"audit log BROKEN at row id {self.row_id} (seq {self.seq}): {self.reason}"


def _rows(engine: Engine, batch: int) -> Iterator[Any]:
    last = -1
    with engine.connect() as conn:
        while True:
            chunk = conn.execute(select(LOG).where(LOG.c.seq > last)
                                 .order_by(LOG.c.seq).limit(batch)).all()
            if not chunk:
                return
            yield from chunk
            last = chunk[-1].seq


def verify(engine: Engine, *, batch: int = 5000) -> Verdict:
    """Walk the chain in ``seq`` order; the first gap, edited row or bad link is named."""
    key = mac_key("audit")
    with engine.connect() as conn:
        head = conn.execute(text("SELECT seq, last_hash FROM audit_chain WHERE id = 1")).first()
        unsealed = conn.execute(select(LOG.c.id).where(LOG.c.seq.is_(None))
                                .order_by(LOG.c.id).limit(1)).scalar()
    head_seq, head_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS)
    if unsealed is not None:
        return Verdict(False, 0, head_seq, head_hash, unsealed, None,
                       "row has no place in the chain (written around the audit API)")
    prev, expected, n = GENESIS, 1, 0
    for row in _rows(engine, batch):
        n += 1
        bad = ""
        if row.seq != expected:
            bad = f"seq {expected} is missing (a row was deleted)"
        elif row.prev_hash != prev:
            bad = "link to the previous row does not match (a row was removed or inserted)"
        elif row.row_hash != row_hash(prev, canonical(row.seq, row.at, row.actor, row.action,
                                                      row.subject, row.detail), key):
            bad = "row content does not match its hash (the row was edited)"
        if bad:
            return Verdict(False, n, head_seq, head_hash, row.id, row.seq, bad)
        prev, expected = row.row_hash, expected + 1
    if expected - 1 != head_seq or prev != head_hash:
        return Verdict(False, n, head_seq, head_hash, None, expected,
                       f"chain ends at seq {expected - 1} but its head says {head_seq} "
                       "(rows at the end were removed)")
    return Verdict(True, n, head_seq, head_hash)
