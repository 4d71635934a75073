"""notifications: a message may go to one person rather than a firm (firm_id may be null)

Revision ID: 0018x_notifications_to_a_person
Revises: 0015a_notifications
Create Date: 2026-12-06

A password reset link goes to one user of any role, staff included, who has no firm.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018x_notifications_to_a_person'
down_revision = '0015a_notifications'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.alter_column('firm_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Messages to a person (no firm) cannot stay once firm_id is required again.
    op.execute("delete from notification_outbox where event_id in "
               "(select id from notification_events where firm_id is null)")
    op.execute("delete from notification_events where firm_id is null")
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.alter_column('firm_id', existing_type=sa.Integer(), nullable=False)
