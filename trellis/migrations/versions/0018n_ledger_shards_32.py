"""ledger: 32 shards on PostgreSQL (was 8)

Revision ID: 0018n_ledger_shards_32
Revises: 0018m_loan_disbursements
Create Date: 2026-12-06

Each shard's head row serialises the postings of its loans until their transaction
commits. With 8 heads, 16 concurrent repayments of random loans met on the same head
most of the time (bench/ledger_posting.py, bench/RESULTS.md, issue 11, fourth pass); 32
heads roughly doubled the 16-client throughput. The heads are added as
:func:`trellis.ledger.posting.set_shard_count` adds them (sequence 0, the genesis hash);
nothing already written moves, each chain stays whole, loans move to their new shard
(``loan_id mod 32``) with their next entry. SQLite keeps one shard.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018n_ledger_shards_32'
down_revision = '0018m_loan_disbursements'
branch_labels = None
depends_on = None

#: Shards a PostgreSQL ledger has after this migration; the previous count.
SHARDS, BEFORE = 32, 8


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text(
        "INSERT INTO ledger_heads (currency, shard, seq, hash) "
        "SELECT h.currency, s, 0, repeat('0', 64) FROM ledger_heads h, "
        f"generate_series(0, {SHARDS - 1}) AS s WHERE h.shard = 0 "
        "ON CONFLICT DO NOTHING"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    moved = bind.execute(sa.text(
        f"SELECT count(*) FROM journal_entries WHERE shard >= {BEFORE}")).scalar()
    if moved:
        raise RuntimeError(f"{moved} journal entries belong to shards {BEFORE} and above; "
                           "their chains cannot be dropped")
    op.execute(sa.text(f"DELETE FROM ledger_heads WHERE shard >= {BEFORE}"))
