"""protection: consented payout accounts, loans bound to one; settlement account maker-checker

- ``payout_accounts``: the account a firm declared for its pay-outs (bank, number,
  holder) with who consented and when; one in force per firm (partial unique index).
- ``loans.payout_account_id``: the account the vendor consented to for the loan.
- ``bank_account_changes.consented``: the requester consented to pay-outs into the new
  account (it becomes the payout account when applied).
- ``settlement_account_changes``: a proposed settlement account, applied on a second
  administrator's approval; ``protection_policy.settlement_bank`` and
  ``settlement_change_id`` (the approved proposal in force).
- The demo's placeholder settlement account ``6217 0000 0000 0000 888`` becomes a
  realistic-looking number labelled as a demo account.

On SQLite a column is added with ``ALTER TABLE ... ADD COLUMN`` (a batch rebuild of
``loans`` would drop its triggers); the downgrade rebuilds ``loans`` and restores them.

Revision ID: payout12_payout_accounts
Revises: 0024t_document_decided_via
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'payout12_payout_accounts'
down_revision = '0024t_document_decided_via'
branch_labels = None
# bank_account_changes and protection_policy
depends_on = ('0006_journeys',)

PLACEHOLDER = "6217 0000 0000 0000 888"
DEMO_ACCOUNT = "1109 0328 6910 602"
DEMO_NAME = "Trellis 供应链金融结算专户（演示账户，非真实）"
DEMO_BANK = "招商银行北京分行营业部（演示）"


def upgrade() -> None:
    op.create_table(
        'payout_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('bank_name', sa.String(length=120), nullable=False),
        sa.Column('account_number', sa.String(length=40), nullable=False),
        sa.Column('holder_name', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('consented_by_id', sa.Integer(), nullable=True),
        sa.Column('consented_at', sa.DateTime(), nullable=False),
        sa.Column('change_id', sa.Integer(), nullable=True),
        sa.Column('replaced_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("source in ('vendor', 'seed')", name=op.f('ck_payout_accounts_source')),
        sa.ForeignKeyConstraint(['change_id'], ['bank_account_changes.id'],
                                name=op.f('fk_payout_accounts_change_id_bank_account_changes')),
        sa.ForeignKeyConstraint(['consented_by_id'], ['users.id'],
                                name=op.f('fk_payout_accounts_consented_by_id_users')),
        sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                                name=op.f('fk_payout_accounts_firm_id_firms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_accounts')),
    )
    op.create_index(op.f('ix_payout_accounts_firm_id'), 'payout_accounts', ['firm_id'])
    op.create_index('uq_payout_accounts_current', 'payout_accounts', ['firm_id'], unique=True,
                    postgresql_where=sa.text('replaced_at IS NULL'),
                    sqlite_where=sa.text('replaced_at IS NULL'))
    op.create_table(
        'settlement_account_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=40), nullable=False),
        sa.Column('account_name', sa.String(length=120), nullable=False),
        sa.Column('bank_name', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('proposed_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status in ('proposed', 'approved', 'rejected')",
                           name=op.f('ck_settlement_account_changes_status')),
        sa.CheckConstraint('decided_by_id is null or decided_by_id <> proposed_by_id',
                           name=op.f('ck_settlement_account_changes_four_eyes')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_settlement_account_changes_decided_by_id_users')),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'],
                                name=op.f('fk_settlement_account_changes_proposed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_account_changes')),
    )
    op.add_column('protection_policy', sa.Column('settlement_bank', sa.String(length=120),
                                                 nullable=False, server_default=''))
    op.add_column('protection_policy', sa.Column('settlement_change_id', sa.Integer(),
                                                 nullable=True))
    op.add_column('bank_account_changes', sa.Column('consented', sa.Boolean(), nullable=False,
                                                    server_default=sa.false()))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE loans ADD COLUMN payout_account_id INTEGER CONSTRAINT "
                   "fk_loans_payout_account_id_payout_accounts REFERENCES payout_accounts (id)")
    else:
        op.add_column('loans', sa.Column('payout_account_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_loans_payout_account_id_payout_accounts'), 'loans',
                              'payout_accounts', ['payout_account_id'], ['id'])
    policy = sa.table('protection_policy', sa.column('settlement_account', sa.String),
                      sa.column('settlement_account_name', sa.String),
                      sa.column('settlement_bank', sa.String))
    op.execute(policy.update().where(policy.c.settlement_account == PLACEHOLDER)
               .values(settlement_account=DEMO_ACCOUNT, settlement_account_name=DEMO_NAME,
                       settlement_bank=DEMO_BANK))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # the rebuild drops the table's triggers: keep their SQL and create them again
        triggers = [row[0] for row in bind.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'loans'"))]
        with op.batch_alter_table('loans') as batch:
            batch.drop_column('payout_account_id')
        for sql in triggers:
            op.execute(sql)
    else:
        op.drop_constraint(op.f('fk_loans_payout_account_id_payout_accounts'), 'loans',
                           type_='foreignkey')
        op.drop_column('loans', 'payout_account_id')
    policy = sa.table('protection_policy', sa.column('settlement_account', sa.String),
                      sa.column('settlement_account_name', sa.String))
    op.execute(policy.update().where(policy.c.settlement_account == DEMO_ACCOUNT)
               .values(settlement_account=PLACEHOLDER,
                       settlement_account_name="Trellis 供应链金融结算专户"))
    with op.batch_alter_table('bank_account_changes') as batch:
        batch.drop_column('consented')
    with op.batch_alter_table('protection_policy') as batch:
        batch.drop_column('settlement_change_id')
        batch.drop_column('settlement_bank')
    op.drop_table('settlement_account_changes')
    op.drop_index('uq_payout_accounts_current', table_name='payout_accounts')
    op.drop_index(op.f('ix_payout_accounts_firm_id'), table_name='payout_accounts')
    op.drop_table('payout_accounts')
