"""call_transfers: an agent's transfer of a connected call to a senior group (issue 9, SPEC §4)

One row per transfer of a call (the ``calls`` row stays one per call): who transferred, when,
from which agent and group to which group, the senior agent who answered and when, and the
call's history as the senior saw it (IVR menu path, identification result, first agent).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "call_transfers",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("from_agent", sa.String(64)),
        sa.Column("from_skill", sa.String(32)),
        sa.Column("to_skill", sa.String(64), nullable=False),
        sa.Column("to_agent", sa.String(64)),
        sa.Column("answered_at", TZ),
        sa.Column("history", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_call_transfers"),
    )
    op.create_index("ix_call_transfers_call_id", "call_transfers", ["call_id"])


def downgrade() -> None:
    op.drop_table("call_transfers")
