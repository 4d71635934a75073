"""accounts: TOTP multi-factor login with recovery codes

Revision ID: 0012c_totp
Revises: 0012b_firm_registration
Create Date: 2026-12-06

``users.totp_secret`` (base32), ``users.totp_last_step`` (the last accepted 30-second
step, refusing replays) and ``users.mfa_recovery`` (SHA-256 digests of unused recovery
codes).
"""
import sqlalchemy as sa
from alembic import op

revision = '0012c_totp'
down_revision = '0012b_firm_registration'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('mfa_recovery', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('mfa_recovery')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
