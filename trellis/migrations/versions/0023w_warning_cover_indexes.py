"""scoring, trade: the anchor's early warning read from two covering indexes

The early warning of the 10,000-firm cluster's anchor reads the relationships of the
anchor and of its 1,733 direct suppliers (3,619 rows) and the scores of its 3,217
suppliers (firm, date, score, grade): through the single-column indexes each row was
looked up in its table, a score record's row holding some 70 features as JSON. With
``relationships (buyer_id, supplier_id)`` and ``score_results (firm_id, as_of,
computed_at, score, grade)`` both are read from the index alone: 19.4 -> 12.3 ms CPU a
request on the seeded cluster, and the scores' statement 62 -> 17 ms once the cluster is
scored three times (bench/RESULTS.md, ninth pass). The single-column indexes stay (other
readers and the foreign keys use them).

Revision ID: 0023w_warning_cover_indexes
Revises: 0022l_loan_fragment_once
Create Date: 2026-12-07
"""
from alembic import op

revision = '0023w_warning_cover_indexes'
down_revision = '0022l_loan_fragment_once'
branch_labels = None
# the indexed tables' own migrations: without them alembic may order this revision
# before the scoring branch when the heads are many (found when 0024c and 0024t added two)
depends_on = ('0002_network', '0004_scoring')


def upgrade() -> None:
    op.create_index('ix_relationships_buyer_supplier', 'relationships',
                    ['buyer_id', 'supplier_id'], unique=False)
    op.create_index('ix_score_results_firm_asof_score', 'score_results',
                    ['firm_id', 'as_of', 'computed_at', 'score', 'grade'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_score_results_firm_asof_score', table_name='score_results')
    op.drop_index('ix_relationships_buyer_supplier', table_name='relationships')
