"""ledger: the facts a replay reads are append-only

Revision ID: 0011c_ledger_facts_append_only
Revises: 0011b_first_loan_unique
Create Date: 2026-12-06

A replay of a loan reads its terms and its payments. Deleting one ``loan_repayments``
row once passed ``check`` and the next back-dated payment silently reversed its receipt;
``rate_micro`` and ``amount_fen`` could be edited without anyone noticing. Now, on
SQLite and PostgreSQL alike, triggers refuse UPDATE and DELETE of ``loan_repayments`` and
any change of a paid-out loan's terms (amount, rates, fee, day count, dates, cooling-off,
waterfall, firm, product). A correction is a new fact (a reversing entry, a refund), as
in the journal. ``trellis ledger check`` reconciles both with the journal as well.
"""
from alembic import op

revision = '0011c_ledger_facts_append_only'
down_revision = '0011b_first_loan_unique'
branch_labels = None
depends_on = None

TERMS = ("amount_fen", "rate_micro", "penalty_rate_micro", "fee_fen", "day_count",
         "disbursed_on", "due_date", "first_loan", "cooling_off_days", "firm_id",
         "product_id")

PG_FUNCTIONS = """
CREATE FUNCTION ledger_refuse_fact_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'loan payments are facts: % on % refused; record a correction instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION ledger_refuse_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.disbursed_on IS NOT NULL AND ({changed}) THEN
        RAISE EXCEPTION 'loan % was paid out: its terms cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
""".format(changed=" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in TERMS)
           + " OR NEW.waterfall::text IS DISTINCT FROM OLD.waterfall::text")

SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in TERMS + ("waterfall",))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        op.execute("CREATE TRIGGER trg_loan_repayments_append_only BEFORE UPDATE OR DELETE "
                   "ON loan_repayments FOR EACH ROW EXECUTE FUNCTION "
                   "ledger_refuse_fact_change()")
        op.execute("CREATE TRIGGER trg_loan_repayments_no_truncate BEFORE TRUNCATE ON "
                   "loan_repayments FOR EACH STATEMENT EXECUTE FUNCTION "
                   "ledger_refuse_fact_change()")
        op.execute("CREATE TRIGGER trg_loans_terms_fixed BEFORE UPDATE ON loans FOR EACH ROW "
                   "EXECUTE FUNCTION ledger_refuse_terms_change()")
    elif bind.dialect.name == "sqlite":
        for op_name in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER trg_loan_repayments_no_{op_name.lower()} BEFORE "
                       f"{op_name} ON loan_repayments BEGIN SELECT RAISE(ABORT, 'loan "
                       f"payments are facts: {op_name} on loan_repayments refused; record a "
                       f"correction instead'); END")
        op.execute("CREATE TRIGGER trg_loans_terms_fixed BEFORE UPDATE ON loans FOR EACH ROW "
                   f"WHEN OLD.disbursed_on IS NOT NULL AND ({SQLITE_CHANGED}) BEGIN "
                   "SELECT RAISE(ABORT, 'the loan was paid out: its terms cannot change'); "
                   "END")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_loans_terms_fixed ON loans")
        op.execute("DROP TRIGGER IF EXISTS trg_loan_repayments_no_truncate ON loan_repayments")
        op.execute("DROP TRIGGER IF EXISTS trg_loan_repayments_append_only ON loan_repayments")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_terms_change()")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_fact_change()")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_loans_terms_fixed")
        for op_name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_loan_repayments_no_{op_name}")
