"""ledger: the same two checks, cheaper for the server on every repayment (PostgreSQL)

Revision ID: 0019l_ledger_cheaper_checks
Revises: 0018n_ledger_shards_32
Create Date: 2026-12-06

Issue 11: PostgreSQL's own CPU per repayment was about twice a TPC-B transaction's. Two
triggers of the hot path did more work than their check needs (measured with ``perf``
on the backend and bench/ledger_posting.py, bench/RESULTS.md):

- ``ledger_entry_balanced`` (deferred, one call per entry at commit) read the entry's
  postings twice: once for their count and sum, once more grouped by value date. It now
  reads them once, grouped by value date, and derives the count, the sum and the dates
  that do not balance from that one pass. The same conditions raise the same errors.
- ``trg_loans_terms_fixed`` (before every UPDATE of a loan) called its PL/pgSQL function
  for every update of a loan's running figures, which compares eleven columns and the
  waterfall's text. It now fires only for an UPDATE that sets one of the terms' columns
  (``BEFORE UPDATE OF ...``: a column no UPDATE names cannot change, and no other trigger
  of ``loans`` sets one) of a loan already paid out (``WHEN``, as the function's own
  first test), so the hot path's update of the balances skips it; any change of a term
  is refused as before. SQLite's triggers are unchanged (its trigger already has the
  ``WHEN`` test, evaluated without a function call).
"""
from alembic import op

revision = '0019l_ledger_cheaper_checks'
down_revision = '0018n_ledger_shards_32'
branch_labels = None
depends_on = None

#: The terms of a paid-out loan (migration 0011c), the columns the trigger watches.
TERMS = ("amount_fen", "rate_micro", "penalty_rate_micro", "fee_fen", "day_count",
         "disbursed_on", "due_date", "first_loan", "cooling_off_days", "firm_id",
         "product_id", "waterfall")

BALANCED_ONE_PASS = """
CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; total numeric; off_dates bigint;
BEGIN
    SELECT coalesce(sum(d.n), 0), coalesce(sum(d.total), 0),
           count(*) FILTER (WHERE d.total <> 0)
      INTO n, total, off_dates
      FROM (SELECT count(*) AS n, sum(amount_fen) AS total FROM journal_postings
             WHERE entry_id = NEW.id GROUP BY value_date) AS d;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'journal entry % (%) does not balance: % postings summing to %',
            NEW.seq, NEW.idempotency_key, n, total USING ERRCODE = 'check_violation';
    END IF;
    IF off_dates > 0 THEN
        RAISE EXCEPTION 'journal entry % (%) does not balance on every value date',
            NEW.seq, NEW.idempotency_key USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""

#: As migration 0005 made it.
BALANCED_TWO_PASSES = """
CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; total numeric;
BEGIN
    SELECT count(*), coalesce(sum(amount_fen), 0) INTO n, total
      FROM journal_postings WHERE entry_id = NEW.id;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'journal entry % (%) does not balance: % postings summing to %',
            NEW.seq, NEW.idempotency_key, n, total USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM journal_postings WHERE entry_id = NEW.id
               GROUP BY value_date HAVING sum(amount_fen) <> 0) THEN
        RAISE EXCEPTION 'journal entry % (%) does not balance on every value date',
            NEW.seq, NEW.idempotency_key USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(BALANCED_ONE_PASS)
    op.execute("DROP TRIGGER trg_loans_terms_fixed ON loans")
    op.execute(f"CREATE TRIGGER trg_loans_terms_fixed BEFORE UPDATE OF {', '.join(TERMS)} "
               "ON loans FOR EACH ROW WHEN (OLD.disbursed_on IS NOT NULL) "
               "EXECUTE FUNCTION ledger_refuse_terms_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER trg_loans_terms_fixed ON loans")
    op.execute("CREATE TRIGGER trg_loans_terms_fixed BEFORE UPDATE ON loans FOR EACH ROW "
               "EXECUTE FUNCTION ledger_refuse_terms_change()")
    op.execute(BALANCED_TWO_PASSES)
