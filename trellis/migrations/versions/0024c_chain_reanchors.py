"""chain: every re-anchoring of a lost root recorded for the auditor (issue 15, F20)

A root the chain lost (a reorg, a rewound or restarted chain, another registry) went back
to ``pending`` and was anchored again with only ``anchor_count`` going up: the auditor could
not see what was re-anchored, when, why, nor the old and new transactions. Each such event
is now a row of ``chain_reanchors``.

Revision ID: 0024c_chain_reanchors
Revises: 0010a_chain_resilience (the chain area's branch)
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0024c_chain_reanchors"
down_revision = "0010a_chain_resilience"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_reanchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("root", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("lost_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("old_chain_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "old_contract_address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True
        ),
        sa.Column("old_tx_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("old_block_number", sa.BigInteger(), nullable=True),
        sa.Column("old_block_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("reanchored_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("new_chain_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "new_contract_address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True
        ),
        sa.Column("new_tx_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("new_block_number", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["chain_batches.id"],
            name=op.f("fk_chain_reanchors_batch_id_chain_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_reanchors")),
    )
    op.create_index(
        op.f("ix_chain_reanchors_batch_id"), "chain_reanchors", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_chain_reanchors_lost_at"), "chain_reanchors", ["lost_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chain_reanchors_lost_at"), table_name="chain_reanchors")
    op.drop_index(op.f("ix_chain_reanchors_batch_id"), table_name="chain_reanchors")
    op.drop_table("chain_reanchors")
