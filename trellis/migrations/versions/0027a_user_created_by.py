"""accounts: who created a user (users.created_by_id)

The administrator who created the account on /admin/users; empty for accounts made by
registration, an invitation, the command line or the demo (and for every existing one).
The settlement account's four-eyes rule refuses an approver created by the proposer.

Revision ID: 0027a_user_created_by
Revises: 0018w_password_resets
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0027a_user_created_by'
down_revision = '0018w_password_resets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_users_created_by_id_users'), 'users',
                                    ['created_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint(op.f('fk_users_created_by_id_users'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
