"""ledger: a record of every loan pay-out, append-only like the repayments

Revision ID: 0018m_loan_disbursements
Revises: 0018l_ledger_shards
Create Date: 2026-12-06

Repayments have their fact table (``loan_repayments``); a pay-out had only its journal
entry and the loan row's figures. ``loan_disbursements`` records each one: the loan (one
pay-out per loan), principal paid and fee charged in fen, value date, the journal entry
and who paid it out. Like ``loan_repayments`` it refuses UPDATE and DELETE (and TRUNCATE
on PostgreSQL), and ``trellis ledger check`` reconciles it with the journal. Loans paid
out before this migration get their record from their pay-out entry.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018m_loan_disbursements'
down_revision = '0018l_ledger_shards'
branch_labels = None
depends_on = None

BACKFILL = (
    "INSERT INTO loan_disbursements (loan_id, amount_fen, fee_fen, disbursed_on, entry_id, "
    "recorded_at, recorded_by_id) "
    "SELECT l.id, l.amount_fen, l.fee_fen, e.value_date, e.id, e.posted_at, e.posted_by_id "
    "FROM journal_entries e JOIN loans l ON l.id = e.loan_id "
    "WHERE e.kind = 'disbursement' ORDER BY e.id")


def upgrade() -> None:
    op.create_table(
        'loan_disbursements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('fee_fen', sa.BigInteger(), nullable=False),
        sa.Column('disbursed_on', sa.Date(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount_fen > 0', name=op.f('ck_loan_disbursements_amount_pos')),
        sa.CheckConstraint('fee_fen >= 0', name=op.f('ck_loan_disbursements_fee_nonneg')),
        sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'],
                                name=op.f('fk_loan_disbursements_entry_id_journal_entries')),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'],
                                name=op.f('fk_loan_disbursements_loan_id_loans')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_loan_disbursements_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_disbursements')),
        sa.UniqueConstraint('entry_id', name=op.f('uq_loan_disbursements_entry_id')),
        sa.UniqueConstraint('loan_id', name=op.f('uq_loan_disbursements_loan_id')),
    )
    op.execute(sa.text(BACKFILL))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # ledger_refuse_fact_change() is migration 0011c's, written for loan_repayments
        op.execute("CREATE TRIGGER trg_loan_disbursements_append_only BEFORE UPDATE OR "
                   "DELETE ON loan_disbursements FOR EACH ROW EXECUTE FUNCTION "
                   "ledger_refuse_fact_change()")
        op.execute("CREATE TRIGGER trg_loan_disbursements_no_truncate BEFORE TRUNCATE ON "
                   "loan_disbursements FOR EACH STATEMENT EXECUTE FUNCTION "
                   "ledger_refuse_fact_change()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER trg_loan_disbursements_no_{verb.lower()} BEFORE "
                       f"{verb} ON loan_disbursements BEGIN SELECT RAISE(ABORT, 'loan "
                       f"pay-outs are facts: {verb} on loan_disbursements refused; record a "
                       "correction instead'); END")


def downgrade() -> None:
    # dropping the table drops its triggers on both databases
    op.drop_table('loan_disbursements')
