"""calls.queued_at: when the IVR handed the caller to the queue (issue 11: one source of truth)

queue_engine.records reads the wait from it instead of parsing "after W s" out of ``detail``;
rows written before this column keep it NULL and are still read the old way.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("queued_at")
