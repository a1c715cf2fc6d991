"""web users (argon2 hashes, roles) and wallboard API tokens (issue 12)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_users"),
        sa.UniqueConstraint("name", name="uq_web_users_name"),
    )
    op.create_table(
        "web_tokens",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ),
        sa.ForeignKeyConstraint(["user_id"], ["web_users.id"],
                                name="fk_web_tokens_user_id_web_users"),
        sa.PrimaryKeyConstraint("id", name="pk_web_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_web_tokens_token_hash"),
    )
    op.create_index("ix_web_tokens_user_id", "web_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("web_tokens")
    op.drop_table("web_users")
