"""Foundation: call detail records and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("caller_number", sa.String(32)),
        sa.Column("did", sa.String(32)),
        sa.Column("line", sa.String(32)),
        sa.Column("region", sa.String(64)),
        sa.Column("language", sa.String(8)),
        sa.Column("menu_path", sa.JSON),
        sa.Column("identification", sa.String(16), nullable=False, server_default="none"),
        sa.Column("skill", sa.String(32)),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("callback_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("outcome", sa.String(32)),
        sa.Column("detail", sa.Text),
        sa.Column("agent_id", sa.String(32)),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("answered_at", TZ),
        sa.Column("ended_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
    )
    op.create_index("ix_calls_call_id", "calls", ["call_id"], unique=True)
    op.create_index("ix_calls_line", "calls", ["line"])
    op.create_index("ix_calls_outcome", "calls", ["outcome"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128)),
        sa.Column("detail", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    # Append-only at the database level too, whatever client writes.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("calls")
