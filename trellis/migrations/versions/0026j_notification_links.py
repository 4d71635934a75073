"""protection: an in-app message names the page of what it is about (notifications.link)

``notifications.link``: the path of the page the message is about (an application with
its offer, a loan, a document, a voucher), copied from its notification event; "" for a
message about nothing with a page. Opening that page marks the user's messages about it
read (reader 13: the offer's message stayed 新 after the vendor opened and signed the
offer). Messages written before keep "" and are marked read as before, by the Messages
page's button.

A plain ADD COLUMN / DROP COLUMN on both databases (SQLite 3.35+).

Revision ID: 0026j_notification_links
Revises: 0006_journeys
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0026j_notification_links'
down_revision = '0006_journeys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notifications', sa.Column('link', sa.String(length=200), nullable=False,
                                             server_default=''))


def downgrade() -> None:
    op.execute("ALTER TABLE notifications DROP COLUMN link")
