"""assistant: conversations, messages and handover tickets

Revision ID: 0016a_assistant
Revises: 0001_foundation
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016a_assistant'
down_revision = '0001_foundation'
branch_labels = ('assistant',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'assistant_conversations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status in ('open', 'handed_over', 'closed')",
                           name=op.f('ck_assistant_conversations_status')),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                                name=op.f('fk_assistant_conversations_firm_id_firms')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_assistant_conversations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_conversations')),
    )
    with op.batch_alter_table('assistant_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_conversations_firm_id'), ['firm_id'],
                              unique=False)
    op.create_table(
        'assistant_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('intent', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('links', sa.JSON(), nullable=False),
        sa.Column('action', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("sender in ('user', 'assistant', 'rm')",
                           name=op.f('ck_assistant_messages_sender')),
        sa.ForeignKeyConstraint(['conversation_id'], ['assistant_conversations.id'],
                                name=op.f('fk_assistant_messages_conversation_id_assistant_conversations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_assistant_messages_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_messages')),
    )
    with op.batch_alter_table('assistant_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_messages_conversation_id'),
                              ['conversation_id'], unique=False)
    op.create_table(
        'assistant_tickets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('rm_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('first_response_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('open', 'answered', 'closed')",
                           name=op.f('ck_assistant_tickets_status')),
        sa.ForeignKeyConstraint(['conversation_id'], ['assistant_conversations.id'],
                                name=op.f('fk_assistant_tickets_conversation_id_assistant_conversations')),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                                name=op.f('fk_assistant_tickets_firm_id_firms')),
        sa.ForeignKeyConstraint(['rm_id'], ['users.id'],
                                name=op.f('fk_assistant_tickets_rm_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_tickets')),
    )
    with op.batch_alter_table('assistant_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_tickets_conversation_id'),
                              ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_tickets_firm_id'), ['firm_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_tickets_status'), ['status'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assistant_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_assistant_tickets_firm_id'))
        batch_op.drop_index(batch_op.f('ix_assistant_tickets_conversation_id'))
    op.drop_table('assistant_tickets')
    with op.batch_alter_table('assistant_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_messages_conversation_id'))
    op.drop_table('assistant_messages')
    with op.batch_alter_table('assistant_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_conversations_firm_id'))
    op.drop_table('assistant_conversations')
