"""records that keep the law: personal fields encrypted, audit hash chain, recordings, tickets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:  # filled in by the next commit (issue 9)
    pass


def downgrade() -> None:
    pass
