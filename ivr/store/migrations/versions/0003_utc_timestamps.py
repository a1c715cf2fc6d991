"""one time convention: every timestamp is UTC

Before this revision the `calls` table of an SQLite database held the wall clock of the time
passed in: Moscow time for calls placed by the console driver (call ids are bare UUIDs), UTC for
calls of the AMI bridge and its dialler (call ids `<server-id>:<Uniqueid>`), while `sms_outbox`,
`otp_codes`, `callbacks`, `citizens` and `audit_log` already held UTC. This revision rewrites the
console calls' times as UTC (Europe/Moscow, the dialplan's zone, through zoneinfo), so every
column means the same thing; from now on `ivr.store.timestamps.UtcDateTime` converts on write.
PostgreSQL stored `timestamptz` all along (the instant was right): nothing to convert there.
Downgrade restores Moscow wall clock for the same rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

MOSCOW = ZoneInfo("Europe/Moscow")
COLUMNS = ("started_at", "answered_at", "ended_at")


def _rewrite(convert) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    calls = sa.table("calls", sa.column("id", sa.Integer), sa.column("call_id", sa.String),
                     *(sa.column(c, sa.String) for c in COLUMNS))
    rows = bind.execute(sa.select(calls).where(~calls.c.call_id.contains(":"))).mappings().all()
    for row in rows:
        values = {c: convert(row[c]) for c in COLUMNS if row[c] is not None}
        if values:
            bind.execute(sa.update(calls).where(calls.c.id == row["id"]).values(**values))


def _text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME storage format


def upgrade() -> None:
    _rewrite(lambda s: _text(datetime.fromisoformat(s).replace(tzinfo=MOSCOW)
                             .astimezone(UTC)))


def downgrade() -> None:
    _rewrite(lambda s: _text(datetime.fromisoformat(s).replace(tzinfo=UTC)
                             .astimezone(MOSCOW)))
