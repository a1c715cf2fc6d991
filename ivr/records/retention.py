"""Retention: expired audio and personal fields are deleted, statistics stay (SPEC §7).

Each kind of ``dialplans/retention.yaml`` is a :class:`Rule`: which rows are expired (older
than the kind's days, and still holding something to delete) and what deleting means — wiping
personal columns (a call keeps its times, line, skill and outcome for reports and forecasts),
deleting whole rows (codes, SMS), or deleting a recording's file. Work goes in batches; each
batch is ONE transaction that changes its rows and writes the audit row naming them, so a kill
at any moment leaves every row either untouched or fully done, and the log agrees with the data.
A run is idempotent: done rows no longer match. Audio is marked deleted in the transaction and
the files are unlinked after the commit; the next run first unlinks any file a killed run left
behind, so no live row ever points at a missing file.

:func:`daily` is what ``serve`` calls once a day (it also escalates overdue complaints).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, Table, and_, delete, null, or_, select, update

from ivr.store import audit
from ivr.store.base import Base, session_factory
from ivr.store.timestamps import utc


class RetentionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audio: int = Field(gt=0)
    call_record: int = Field(gt=0)
    ivr_inputs: int = Field(gt=0)
    otp_rows: int = Field(gt=0)
    sms: int = Field(gt=0)
    callbacks: int = Field(gt=0)
    tickets: int = Field(gt=0)
    daily_at: str = Field("03:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # local HH:MM


def _load(directory: str | Path) -> RetentionFile:
    from ivr.dialplan.yamlconf import load_yaml, validate

    return validate(load_yaml(Path(directory) / "retention.yaml"), RetentionFile)


def load_policy(directory: str | Path = "dialplans") -> dict[str, int]:
    """Kind -> days, validated (errors name ``retention.yaml``, the line and the key)."""
    return _load(directory).model_dump(exclude={"daily_at"})


def load_daily_at(directory: str | Path = "dialplans") -> tuple[int, int]:
    """``daily_at`` of ``retention.yaml``: the local (hour, minute) serve runs :func:`daily`."""
    hour, minute = _load(directory).daily_at.split(":")
    return int(hour), int(minute)


@dataclass(frozen=True)
class Rule:
    """``kind``'s rows of ``table``: expired by ``time_col``; ``pending`` = still holding
    something to delete; ``wipe`` = columns set to NULL (None: delete the row)."""

    kind: str
    table: str
    time_col: str
    pending: Callable[[Table], Any]
    wipe: tuple[str, ...] | None
    extra: Callable[[Table], Any] | None = None
    state: dict[str, Any] | None = None  # values set besides the wipe (e.g. state=deleted)


def _t(name: str) -> Table:
    import ivr.store.schema  # noqa: F401 - every table in the metadata

    return Base.metadata.tables[name]


RULES: tuple[Rule, ...] = (
    Rule("audio", "recordings", "started_at", lambda t: t.c.state != "deleted", (),
         state={"state": "deleted"}),
    Rule("call_record", "calls", "started_at",
         lambda t: or_(t.c.caller_number.is_not(None), t.c.caller_hash.is_not(None),
                       t.c.detail.is_not(None)), ("caller_number", "caller_hash", "detail")),
    Rule("ivr_inputs", "calls", "started_at", lambda t: t.c.menu_path.is_not(None),
         ("menu_path",)),
    Rule("ivr_inputs", "ident_attempts", "at", lambda t: t.c.id.is_not(None), None),
    Rule("otp_rows", "otp_codes", "created_at", lambda t: t.c.id.is_not(None), None),
    Rule("sms", "sms_outbox", "created_at", lambda t: t.c.id.is_not(None), None),
    Rule("callbacks", "callbacks", "requested_at",
         lambda t: or_(t.c.number.is_not(None), t.c.number_hash.is_not(None)),
         ("number", "number_hash"), extra=lambda t: t.c.status.in_(("done", "failed"))),
    Rule("tickets", "tickets", "updated_at", lambda t: t.c.summary.is_not(None), ("summary",),
         extra=lambda t: t.c.status.in_(("resolved", "closed"))),
)


@dataclass
class Report:
    done: dict[str, int] = field(default_factory=dict)
    files: int = 0
    batches: int = 0

    def __str__(self) -> str:
        parts = [f"{k}: {n}" for k, n in self.done.items() if n]
        return (f"retention: {', '.join(parts) or 'nothing expired'}; "
                f"{self.files} audio files removed, {self.batches} batches")


def _sweep_files(engine: Engine, root: Path) -> int:
    """Unlink files of rows already marked deleted (a run killed between commit and unlink)."""
    t = _t("recordings")
    n = 0
    with engine.connect() as conn:
        for (rel,) in conn.execute(select(t.c.path).where(t.c.state == "deleted")):
            p = root / rel
            if p.exists():
                p.unlink()
                n += 1
    return n


def run(engine: Engine, now: datetime, policy: dict[str, int], *,
        root: str | Path | None = None, batch: int = 200, pause: float = 0.0,
        actor: str = "retention", on_batch: Callable[[Report], None] | None = None) -> Report:
    """Delete everything older than its kind's retention at ``now``; see the module doc."""
    from ivr.records.recordings import root_dir

    now = utc(now)
    base = root_dir(root)
    report = Report()
    report.files += _sweep_files(engine, base)
    factory = session_factory(engine)
    for rule in RULES:
        t = _t(rule.table)
        cutoff = now - timedelta(days=policy[rule.kind])
        cond = and_(t.c[rule.time_col] < cutoff, rule.pending(t),
                    *( [rule.extra(t)] if rule.extra else []))
        while True:
            with factory.begin() as db:
                rows = db.execute(select(t.c.id, *([t.c.path] if rule.kind == "audio" else []))
                                  .where(cond).order_by(t.c.id).limit(batch)).all()
                if not rows:
                    break
                ids = [r[0] for r in rows]
                if rule.wipe is None:
                    db.execute(delete(t).where(t.c.id.in_(ids)))
                else:
                    values = {c: null() for c in rule.wipe} | (rule.state or {})  # SQL NULL,
                    # not JSON 'null' (calls.menu_path is a JSON column)
                    if rule.kind == "audio":
                        values["deleted_at"] = now
                    db.execute(update(t).where(t.c.id.in_(ids)).values(**values))
                audit.record(db, at=now, actor=actor, action="records_deleted",
                             subject=f"{rule.table}:{ids[0]}-{ids[-1]}",
                             detail={"kind": rule.kind, "table": rule.table, "count": len(ids),
                                     "ids": ids if len(ids) <= 50 else None,
                                     "older_than": cutoff.isoformat()})
            if rule.kind == "audio":  # after the commit: the rows already say "deleted"
                for r in rows:
                    (base / r[1]).unlink(missing_ok=True)
                    report.files += 1
            key = f"{rule.kind}:{rule.table}"
            report.done[key] = report.done.get(key, 0) + len(ids)
            report.batches += 1
            if on_batch:
                on_batch(report)
            if pause:
                time.sleep(pause)
    return report


def daily(engine: Engine, now: datetime, *, directory: str | Path = "dialplans",
          root: str | Path | None = None) -> Report:
    """The once-a-day job for ``serve``: retention, then complaint escalation."""
    from ivr.records import tickets

    report = run(engine, now, load_policy(directory), root=root)
    with session_factory(engine).begin() as db:
        report.done["tickets_escalated"] = tickets.escalate_due(db, now)
    return report


def next_daily_run(now: datetime, tz: Any, hour: int = 3, minute: int = 0) -> datetime:
    """The next ``hour``:``minute`` local (a quiet hour) after ``now``: when serve runs
    :func:`daily`. Wall-clock arithmetic, so a DST change keeps the local time."""
    local = now.astimezone(tz)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= local:
        at = (at.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
    return at
