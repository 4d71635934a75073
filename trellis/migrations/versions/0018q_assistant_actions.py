"""assistant: actions proposed in a conversation, done only after the user confirms

Revision ID: 0018q_assistant_actions
Revises: 0016a_assistant
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0018q_assistant_actions'
down_revision = '0016a_assistant'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'assistant_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind in ('apply', 'repay', 'withdraw_consent')", name='kind'),
        sa.CheckConstraint("status in ('proposed', 'confirming', 'done', 'failed', "
                           "'cancelled', 'expired')", name='status'),
        sa.ForeignKeyConstraint(['conversation_id'], ['assistant_conversations.id']),
        sa.ForeignKeyConstraint(['message_id'], ['assistant_messages.id']),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_assistant_actions_conversation_id'), 'assistant_actions',
                    ['conversation_id'], unique=False)
    op.create_index(op.f('ix_assistant_actions_firm_id'), 'assistant_actions', ['firm_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_assistant_actions_firm_id'), table_name='assistant_actions')
    op.drop_index(op.f('ix_assistant_actions_conversation_id'), table_name='assistant_actions')
    op.drop_table('assistant_actions')
