"""ledger: one hash chain per shard of loans

Revision ID: 0018l_ledger_shards
Revises: 0011c_ledger_facts_append_only
Create Date: 2026-12-06

Every journal entry used to take the one chain head of its currency, so every posting in
the book waited on one row. Now an entry belongs to a shard (``journal_entries.shard``:
``loan_id mod N`` for an entry of one loan, 0 for entries of no or several loans), each
shard is its own hash chain with its own head (``ledger_heads`` keyed by currency and
shard) and sequence numbers, and N is the number of head rows a currency has.

PostgreSQL gets 8 shards (heads 1..7 added next to the existing head 0). SQLite keeps one
(it lets one writer in at a time anyway); its journal table is rebuilt to swap the
``(currency, seq)`` key for ``(currency, shard, seq)``, as SQLite cannot drop a unique
constraint in place.
Existing entries are shard 0, and shard 0 hashes exactly as before, so chains written
and anchored earlier still verify.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018l_ledger_shards'
down_revision = '0011c_ledger_facts_append_only'
branch_labels = None
depends_on = None

#: Shards a PostgreSQL ledger starts with (``trellis.ledger.posting`` takes N from the heads).
SHARDS = 8


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.add_column('journal_entries', sa.Column('shard', sa.Integer(), nullable=False,
                                                   server_default='0'))
        op.create_check_constraint('ck_journal_entries_shard_nonneg', 'journal_entries',
                                   'shard >= 0')
        op.drop_constraint('uq_journal_entries_currency_seq', 'journal_entries',
                           type_='unique')
        op.create_unique_constraint('uq_journal_entries_currency_shard_seq',
                                    'journal_entries', ['currency', 'shard', 'seq'])
        op.add_column('ledger_heads', sa.Column('shard', sa.Integer(), nullable=False,
                                                server_default='0'))
        op.create_check_constraint('ck_ledger_heads_shard_nonneg', 'ledger_heads',
                                   'shard >= 0')
        op.drop_constraint('pk_ledger_heads', 'ledger_heads', type_='primary')
        op.create_primary_key('pk_ledger_heads', 'ledger_heads', ['currency', 'shard'])
        op.execute(sa.text(
            "INSERT INTO ledger_heads (currency, shard, seq, hash) "
            "SELECT h.currency, s, 0, repeat('0', 64) FROM ledger_heads h, "
            f"generate_series(1, {SHARDS - 1}) AS s WHERE h.shard = 0"))
    else:
        _rebuild_journal(sharded=True)
        _rebuild_heads(['currency', 'shard'])


def downgrade() -> None:
    bind = op.get_bind()
    moved = bind.execute(sa.text("SELECT count(*) FROM journal_entries WHERE shard <> 0")
                         ).scalar()
    if moved:
        raise RuntimeError(f"{moved} journal entries belong to shards other than 0; one "
                           "chain cannot hold them without rewriting their hashes")
    op.execute(sa.text("DELETE FROM ledger_heads WHERE shard <> 0"))
    if bind.dialect.name == "postgresql":
        op.drop_constraint('pk_ledger_heads', 'ledger_heads', type_='primary')
        op.create_primary_key('pk_ledger_heads', 'ledger_heads', ['currency'])
        op.drop_constraint('ck_ledger_heads_shard_nonneg', 'ledger_heads', type_='check')
        op.drop_column('ledger_heads', 'shard')
        op.drop_constraint('uq_journal_entries_currency_shard_seq', 'journal_entries',
                           type_='unique')
        op.create_unique_constraint('uq_journal_entries_currency_seq', 'journal_entries',
                                    ['currency', 'seq'])
        op.drop_constraint('ck_journal_entries_shard_nonneg', 'journal_entries',
                           type_='check')
        op.drop_column('journal_entries', 'shard')
    else:
        _rebuild_heads(['currency'])
        _rebuild_journal(sharded=False)


def _rebuild_journal(*, sharded: bool) -> None:
    """SQLite: journal_entries rebuilt (SQLite cannot drop a unique constraint in place)
    with or without the shard column and its ``(currency, shard, seq)`` key. The rows are
    copied as they are; the append-only triggers are dropped for the copy and made again,
    and the journal's postings keep pointing at it (the migration environment switches
    foreign keys off for the rebuild and checks every one before it ends)."""
    for verb in ("update", "delete"):
        op.execute(sa.text(f"DROP TRIGGER IF EXISTS trg_journal_entries_no_{verb}"))
    with op.batch_alter_table('journal_entries', recreate='always') as batch:
        if sharded:
            batch.add_column(sa.Column('shard', sa.Integer(), nullable=False,
                                       server_default='0'))
            batch.create_check_constraint(op.f('ck_journal_entries_shard_nonneg'),
                                          'shard >= 0')
            batch.drop_constraint('uq_journal_entries_currency_seq', type_='unique')
            batch.create_unique_constraint('uq_journal_entries_currency_shard_seq',
                                           ['currency', 'shard', 'seq'])
        else:
            batch.drop_constraint('uq_journal_entries_currency_shard_seq', type_='unique')
            batch.drop_constraint(op.f('ck_journal_entries_shard_nonneg'), type_='check')
            batch.drop_column('shard')
            batch.create_unique_constraint('uq_journal_entries_currency_seq',
                                           ['currency', 'seq'])
    for verb in ("UPDATE", "DELETE"):
        op.execute(sa.text(
            f"CREATE TRIGGER trg_journal_entries_no_{verb.lower()} BEFORE {verb} ON "
            "journal_entries BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: "
            f"{verb} on journal_entries refused; post a reversing entry'); END"))


def _rebuild_heads(key: list[str]) -> None:
    """SQLite: ledger_heads again with primary key *key* (a few rows, nothing refers to
    them, no triggers), with or without the shard column."""
    sharded = 'shard' in key
    columns = [sa.Column('currency', sa.String(length=3), nullable=False)]
    checks = [sa.CheckConstraint('seq >= 0', name=op.f('ck_ledger_heads_seq_nonneg'))]
    if sharded:
        columns.append(sa.Column('shard', sa.Integer(), nullable=False, server_default='0'))
        checks.append(sa.CheckConstraint('shard >= 0',
                                         name=op.f('ck_ledger_heads_shard_nonneg')))
    op.create_table('ledger_heads_new', *columns,
                    sa.Column('seq', sa.BigInteger(), nullable=False),
                    sa.Column('hash', sa.String(length=64), nullable=False),
                    *checks, sa.PrimaryKeyConstraint(*key, name=op.f('pk_ledger_heads')))
    names = "currency, shard, seq, hash" if sharded else "currency, seq, hash"
    source = "currency, 0, seq, hash" if sharded else "currency, seq, hash"
    op.execute(sa.text(f"INSERT INTO ledger_heads_new ({names}) SELECT {source} "
                       "FROM ledger_heads"))
    op.drop_table('ledger_heads')
    op.rename_table('ledger_heads_new', 'ledger_heads')
