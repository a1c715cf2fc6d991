"""control questions (answers as keyed hashes) and e-mail confirmation requests (SPEC §5)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "control_answers",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("citizen_id", sa.Integer, nullable=False),
        sa.Column("question", sa.String(32), nullable=False),
        sa.Column("answer_hash", sa.String(64), nullable=False),
        sa.Column("set_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"],
                                name="fk_control_answers_citizen_id_citizens"),
        sa.PrimaryKeyConstraint("id", name="pk_control_answers"),
    )
    op.create_index("ix_control_answers_citizen_id", "control_answers", ["citizen_id"])
    op.create_table(
        "email_requests",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("citizen_id", sa.Integer, nullable=False),
        sa.Column("call_id", sa.String(64)),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"],
                                name="fk_email_requests_citizen_id_citizens"),
        sa.PrimaryKeyConstraint("id", name="pk_email_requests"),
    )
    for col in ("citizen_id", "call_id", "status"):
        op.create_index(f"ix_email_requests_{col}", "email_requests", [col])


def downgrade() -> None:
    op.drop_table("email_requests")
    op.drop_table("control_answers")
