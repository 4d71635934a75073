"""notification events (one per thing a firm is told) and the outbox that delivers them

Revision ID: 0015a_notifications
Revises: 0001_foundation
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015a_notifications'
down_revision = '0001_foundation'
branch_labels = ('notifications',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notification_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('message', sa.JSON(), nullable=False),
        sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                                name=op.f('fk_notification_events_firm_id_firms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_events')),
        sa.UniqueConstraint('key', name=op.f('uq_notification_events_key')),
    )
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.create_index('ix_notification_events_firm_created', ['firm_id', 'created_at'],
                              unique=False)
    op.create_table(
        'notification_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("state in ('queued', 'sent', 'failed')",
                           name=op.f('ck_notification_outbox_state')),
        sa.CheckConstraint('attempts >= 0',
                           name=op.f('ck_notification_outbox_attempts_not_negative')),
        sa.ForeignKeyConstraint(['event_id'], ['notification_events.id'],
                                name=op.f('fk_notification_outbox_event_id_notification_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
        sa.UniqueConstraint('event_id', 'channel', 'address',
                            name=op.f('uq_notification_outbox_event_id_channel_address')),
    )
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_outbox_event_id'),
                              ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_outbox_state'), ['state'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_outbox_state'))
        batch_op.drop_index(batch_op.f('ix_notification_outbox_event_id'))
    op.drop_table('notification_outbox')
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_events_firm_created')
    op.drop_table('notification_events')
