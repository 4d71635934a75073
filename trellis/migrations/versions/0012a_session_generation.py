"""accounts: a per-user session generation, so that logout ends sessions

Revision ID: 0012a_session_generation
Revises: 0001_foundation
Create Date: 2026-12-06

``users.session_generation``: a signed session cookie is accepted only while it carries
the user's current generation; logout, a password change and an administrator's "sign
out everywhere" raise it, which ends every cookie issued before.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012a_session_generation'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False,
                                      server_default=sa.text('0')))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_generation')
