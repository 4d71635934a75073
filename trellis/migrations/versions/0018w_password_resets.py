"""accounts: password reset requests (forgot password), with hashed one-time tokens

Revision ID: 0018w_password_resets
Revises: 0012c_totp
Create Date: 2026-12-06

One row per request, for a known e-mail or not (throttling counts both alike); a request
for an active account gets the SHA-256 of its token, an expiry and, once used, used_at.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0018w_password_resets'
down_revision = '0012c_totp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'password_resets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('remote_addr', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('processed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_password_resets_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash')),
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index('ix_password_resets_email_at', ['email', 'requested_at'],
                              unique=False)
        batch_op.create_index('ix_password_resets_addr_at', ['remote_addr', 'requested_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_password_resets_user_id'), ['user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_user_id'))
        batch_op.drop_index('ix_password_resets_addr_at')
        batch_op.drop_index('ix_password_resets_email_at')
    op.drop_table('password_resets')
