"""records that keep the law: personal fields encrypted, audit hash chain, recordings, tickets

Personal columns become AES-GCM text (ivr.store.crypto) and the rows already there are
encrypted here, in batches, with the keyring's current key: citizens.full_name, birth_date,
mobile; calls.caller_number (+ caller_hash, the keyed lookup hash); callbacks.number
(+ number_hash). The audit log gains its hash chain (seq, prev_hash, row_hash and the one-row
head audit_chain); existing rows are chained in id order, with the append-only triggers lifted
for that moment only. New tables: recordings, tickets; calls.consent. Re-running on an already
encrypted value leaves it alone. Downgrade decrypts back into clear columns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
# table, column, old type, nullable, keyed-hash column (or None); the context is table.column
ENCRYPTED = (
    ("citizens", "full_name", sa.String(200), False, None),
    ("citizens", "birth_date", sa.Date(), False, None),
    ("citizens", "mobile", sa.String(32), True, None),
    ("calls", "caller_number", sa.String(32), True, "caller_hash"),
    ("callbacks", "number", sa.String(32), True, "number_hash"),
)
BATCH = 500


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"




def _triggers(on: bool) -> None:
    if _sqlite():
        for verb in ("UPDATE", "DELETE"):
            if on:
                op.execute(f"""
                    CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
    else:
        op.execute(f"ALTER TABLE audit_log {'ENABLE' if on else 'DISABLE'} "
                   "TRIGGER audit_log_no_change")


def _retype(table: str, column: str, new, nullable: bool, using: str | None = None) -> None:
    """Change a column's type. SQLite: add the new column, copy, drop the old, rename — not a
    batch rebuild, which would drop ``citizens`` under the rows that reference it."""
    if _sqlite():
        tmp = f"{column}__new"
        kind = new.compile(dialect=op.get_bind().dialect)
        op.execute(f"ALTER TABLE {table} ADD COLUMN {tmp} {kind}"
                   + ("" if nullable else " NOT NULL DEFAULT ''"))
        op.execute(f"UPDATE {table} SET {tmp} = {column}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {tmp} TO {column}")
        return
    op.alter_column(table, column, type_=new, existing_nullable=nullable,
                    postgresql_using=using or f"{column}::{new.compile(dialect=op.get_bind().dialect)}")


def _convert(table: str, column: str, fn, hash_col: str | None = None, hash_fn=None) -> None:
    bind = op.get_bind()
    cols = [sa.column("id", sa.Integer), sa.column(column, sa.Text)]
    if hash_col:
        cols.append(sa.column(hash_col, sa.String))
    t = sa.table(table, *cols)
    last = 0
    while True:
        rows = bind.execute(sa.select(t.c.id, t.c[column]).where(t.c.id > last)
                            .order_by(t.c.id).limit(BATCH)).all()
        if not rows:
            return
        for rid, value in rows:
            if value is None:
                continue
            new = fn(str(value))
            if new is None:
                continue
            values = {column: new}
            if hash_col and hash_fn:
                values[hash_col] = hash_fn(str(value))
            bind.execute(sa.update(t).where(t.c.id == rid).values(**values))
        last = rows[-1][0]


def upgrade() -> None:
    from ivr.store import crypto
    from ivr.store.audit import GENESIS, canonical, row_hash
    from ivr.store.timestamps import aware

    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
    )
    op.add_column("audit_log", sa.Column("seq", sa.Integer))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(64)))
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)

    with op.batch_alter_table("calls") as b:
        b.add_column(sa.Column("caller_hash", sa.String(64)))
        b.add_column(sa.Column("consent", sa.String(8)))
        b.create_index("ix_calls_caller_hash", ["caller_hash"])
    with op.batch_alter_table("callbacks") as b:
        b.add_column(sa.Column("number_hash", sa.String(64)))
        b.create_index("ix_callbacks_number_hash", ["number_hash"])
    for table, column, _old, nullable, _h in ENCRYPTED:
        _retype(table, column, sa.Text(), nullable)

    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("seconds", sa.Float),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("deleted_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"], unique=True)
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"])
    op.create_index("ix_recordings_state", "recordings", ["state"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("call_id", sa.String(64)),
        sa.Column("citizen_id", sa.Integer),
        sa.Column("caller_hash", sa.String(64)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("escalate_at", TZ),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("reopened", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
    )
    for col, unique in (("number", True), ("call_id", False), ("citizen_id", False),
                        ("caller_hash", False), ("opened_at", False), ("status", False)):
        op.create_index(f"ix_tickets_{col}", "tickets", [col], unique=unique)

    # ---- data: encrypt what is there --------------------------------------------------------
    ring = crypto.keyring()

    def enc(context):
        def fn(value: str):
            if crypto.key_id_of(value) in ring.data and crypto.SEP in value:
                return None  # already encrypted (a re-run)
            return crypto.encrypt(value[:10] if context.endswith("birth_date") else value,
                                  context, ring)
        return fn

    for table, column, _old, _nullable, hash_col in ENCRYPTED:
        _convert(table, column, enc(f"{table}.{column}"), hash_col,
                 lambda v: crypto.blind_index("phone", v, ring))

    # ---- data: chain the audit rows already written ------------------------------------------
    bind = op.get_bind()
    log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("at", TZ),
                   sa.column("actor", sa.String), sa.column("action", sa.String),
                   sa.column("subject", sa.String), sa.column("detail", sa.JSON),
                   sa.column("seq", sa.Integer), sa.column("prev_hash", sa.String),
                   sa.column("row_hash", sa.String))
    _triggers(False)
    prev, seq = GENESIS, 0
    key = crypto.mac_key("audit")
    for row in bind.execute(sa.select(log).order_by(log.c.id)).all():
        seq += 1
        at = datetime.fromisoformat(row.at) if isinstance(row.at, str) else row.at
        digest = row_hash(prev, canonical(seq, aware(at), row.actor, row.action, row.subject,
                                          row.detail), key)
        bind.execute(sa.update(log).where(log.c.id == row.id)
                     .values(seq=seq, prev_hash=prev, row_hash=digest))
        prev = digest
    _triggers(True)
    bind.execute(sa.text("INSERT INTO audit_chain (id, seq, last_hash) VALUES (1, :s, :h)"),
                 {"s": seq, "h": prev})


def downgrade() -> None:
    from ivr.store import crypto

    for table, column, old, nullable, _h in ENCRYPTED:
        ctx = f"{table}.{column}"
        _convert(table, column, lambda v, ctx=ctx: crypto.decrypt(v, ctx)
                 if crypto.SEP in v else None)
        _retype(table, column, old, nullable)
    op.drop_table("tickets")
    op.drop_table("recordings")
    with op.batch_alter_table("callbacks") as b:
        b.drop_index("ix_callbacks_number_hash")
        b.drop_column("number_hash")
    with op.batch_alter_table("calls") as b:
        b.drop_index("ix_calls_caller_hash")
        b.drop_column("consent")
        b.drop_column("caller_hash")
    _triggers(False)
    op.drop_index("ix_audit_log_seq", "audit_log")
    with op.batch_alter_table("audit_log") as b:
        b.drop_column("row_hash")
        b.drop_column("prev_hash")
        b.drop_column("seq")
    _triggers(True)
    op.drop_table("audit_chain")
