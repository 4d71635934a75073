"""onboarding a real park: clusters archived, data bases, mappings, more data kinds

Revision ID: 0013a_onboarding
Revises: 0002_network
Depends on: 0004_scoring
Create Date: 2026-12-06

- ``clusters.archived_at``: an archived cluster is kept but no longer listed or imported to.
- ``data_bases``: the data-sharing agreement a cluster's data came under (pre-assessment).
- ``import_mappings``: saved header -> field mappings per cluster, source and kind.
- ``import_runs``: the source, mapping and unmapped headers of a run; the new kinds; the
  status ``mapping`` (waiting for the RM to confirm the column mapping).
- ``utility_readings``, ``headcount_records``, ``tax_filings``: new data kinds.
- ``score_results.basis`` and ``not_assessable``: pre-assessment marker; screens that
  could not run for want of a data kind.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013a_onboarding'
down_revision = '0002_network'
branch_labels = None
depends_on = ('0004_scoring',)

OLD_KINDS = "'firms', 'relationships', 'orders', 'invoices', 'payments'"
STATUSES = "'queued', 'running', 'succeeded', 'refused', 'failed'"
NEW_KINDS = OLD_KINDS + (", 'deliveries', 'credit_notes', 'confirmations', 'tax_filings', "
                         "'loans', 'utility_readings', 'headcount'")


def upgrade() -> None:
    with op.batch_alter_table('clusters') as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('import_runs') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=120), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('mapping', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('unmapped', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.drop_constraint(op.f('ck_import_runs_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind in ({NEW_KINDS})")
        batch_op.drop_constraint(op.f('ck_import_runs_status'), type_='check')
        batch_op.create_check_constraint('status', f"status in ('mapping', {STATUSES})")
    with op.batch_alter_table('score_results') as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=16), nullable=False,
                                      server_default='consent'))
        batch_op.add_column(sa.Column('not_assessable', sa.JSON(), nullable=False,
                                      server_default='[]'))
    op.create_table('data_bases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('expires_on >= valid_from',
                       name=op.f('ck_data_bases_expiry_after_start')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'],
                            name=op.f('fk_data_bases_cluster_id_clusters')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                            name=op.f('fk_data_bases_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_bases'))
    )
    op.create_index(op.f('ix_data_bases_cluster_id'), 'data_bases', ['cluster_id'])
    op.create_table('import_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'],
                            name=op.f('fk_import_mappings_cluster_id_clusters')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                            name=op.f('fk_import_mappings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mappings')),
    sa.UniqueConstraint('cluster_id', 'source', 'kind',
                        name=op.f('uq_import_mappings_cluster_id_source_kind'))
    )
    op.create_index(op.f('ix_import_mappings_cluster_id'), 'import_mappings', ['cluster_id'])
    op.create_table('utility_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('utility', sa.String(length=12), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=16, scale=3), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_utility_readings_quantity_nonneg')),
    sa.CheckConstraint("utility in ('electricity', 'water', 'gas')",
                       name=op.f('ck_utility_readings_utility')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                            name=op.f('fk_utility_readings_firm_id_firms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_utility_readings')),
    sa.UniqueConstraint('firm_id', 'utility', 'month',
                        name=op.f('uq_utility_readings_firm_id_utility_month'))
    )
    op.create_index(op.f('ix_utility_readings_firm_id'), 'utility_readings', ['firm_id'])
    op.create_table('headcount_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.CheckConstraint('headcount >= 0', name=op.f('ck_headcount_records_headcount_nonneg')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'],
                            name=op.f('fk_headcount_records_firm_id_firms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_headcount_records')),
    sa.UniqueConstraint('firm_id', 'month', name=op.f('uq_headcount_records_firm_id_month'))
    )
    op.create_index(op.f('ix_headcount_records_firm_id'), 'headcount_records', ['firm_id'])
    op.create_table('tax_filings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('vat_sales_fen', sa.BigInteger(), nullable=False),
    sa.Column('tax_paid_fen', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_tax_filings_period_order')),
    sa.CheckConstraint('vat_sales_fen >= 0', name=op.f('ck_tax_filings_sales_nonneg')),
    sa.CheckConstraint('tax_paid_fen is null or tax_paid_fen >= 0',
                       name=op.f('ck_tax_filings_paid_nonneg')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_tax_filings_firm_id_firms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_filings')),
    sa.UniqueConstraint('firm_id', 'period_start', 'period_end',
                        name=op.f('uq_tax_filings_firm_id_period_start_period_end'))
    )
    op.create_index(op.f('ix_tax_filings_firm_id'), 'tax_filings', ['firm_id'])


def downgrade() -> None:
    for table in ('tax_filings', 'headcount_records', 'utility_readings', 'import_mappings',
                  'data_bases'):
        op.drop_index(op.f(f'ix_{table}_' + ('cluster_id' if table in (
            'import_mappings', 'data_bases') else 'firm_id')), table_name=table)
        op.drop_table(table)
    with op.batch_alter_table('score_results') as batch_op:
        batch_op.drop_column('not_assessable')
        batch_op.drop_column('basis')
    op.execute(f"delete from import_run_errors where run_id in (select id from import_runs "
               f"where kind not in ({OLD_KINDS}))")
    op.execute(f"delete from import_files where run_id in (select id from import_runs "
               f"where kind not in ({OLD_KINDS}))")
    op.execute(f"delete from import_runs where kind not in ({OLD_KINDS})")
    op.execute("update import_runs set status = 'failed' where status = 'mapping'")
    with op.batch_alter_table('import_runs') as batch_op:
        batch_op.drop_constraint(op.f('ck_import_runs_status'), type_='check')
        batch_op.create_check_constraint('status', f"status in ({STATUSES})")
        batch_op.drop_constraint(op.f('ck_import_runs_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind in ({OLD_KINDS})")
        batch_op.drop_column('unmapped')
        batch_op.drop_column('mapping')
        batch_op.drop_column('source')
    with op.batch_alter_table('clusters') as batch_op:
        batch_op.drop_column('archived_at')
