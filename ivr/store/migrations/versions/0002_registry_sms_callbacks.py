"""registry, otp codes, sms outbox, callbacks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('skill', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('line', sa.String(length=32), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_call_id'), ['call_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_callbacks_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_skill'), ['skill'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_status'), ['status'], unique=False)

    op.create_table('citizens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('snils_hash', sa.String(length=64), nullable=True),
    sa.Column('passport_hash', sa.String(length=64), nullable=True),
    sa.Column('inn_hash', sa.String(length=64), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizens')),
    sa.UniqueConstraint('inn_hash', name=op.f('uq_citizens_inn_hash')),
    sa.UniqueConstraint('passport_hash', name=op.f('uq_citizens_passport_hash')),
    sa.UniqueConstraint('snils_hash', name=op.f('uq_citizens_snils_hash'))
    )
    op.create_table('sms_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('to_masked', sa.String(length=32), nullable=False),
    sa.Column('text_masked', sa.Text(), nullable=False),
    sa.Column('dev_code', sa.String(length=12), nullable=True),
    sa.Column('dev_code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox'))
    )
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_outbox_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_outbox_created_at'), ['created_at'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('expected_on', sa.Date(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('принято', 'в работе', 'завершено', 'отклонено')", name=op.f('ck_applications_status')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_applications_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('number', name=op.f('uq_applications_number'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_citizen_id'), ['citizen_id'], unique=False)

    op.create_table('ident_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_ident_attempts_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ident_attempts'))
    )
    with op.batch_alter_table('ident_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ident_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ident_attempts_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ident_attempts_citizen_id'), ['citizen_id'], unique=False)

    op.create_table('otp_codes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('code_hmac', sa.String(length=64), nullable=False),
    sa.Column('send_no', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_otp_codes_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_otp_codes'))
    )
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_otp_codes_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_otp_codes_citizen_id'), ['citizen_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('otp_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_otp_codes_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_otp_codes_call_id'))

    op.drop_table('otp_codes')
    with op.batch_alter_table('ident_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ident_attempts_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_ident_attempts_call_id'))
        batch_op.drop_index(batch_op.f('ix_ident_attempts_at'))

    op.drop_table('ident_attempts')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_citizen_id'))

    op.drop_table('applications')
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_outbox_created_at'))
        batch_op.drop_index(batch_op.f('ix_sms_outbox_call_id'))

    op.drop_table('sms_outbox')
    op.drop_table('citizens')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_status'))
        batch_op.drop_index(batch_op.f('ix_callbacks_skill'))
        batch_op.drop_index(batch_op.f('ix_callbacks_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_callbacks_due_at'))
        batch_op.drop_index(batch_op.f('ix_callbacks_call_id'))

    op.drop_table('callbacks')
