"""journeys: vouchers (multi-tier digital payables) and vendor protection

Revision ID: 0006_journeys
Revises: 0001_foundation
Create Date: 2026-11-30

Tables of trellis.vouchers.models and trellis.protection.models, the triggers that keep a
voucher's parts summing to the whole (SQLite and PostgreSQL), and the seeded policies and
fraud warnings (data the risk team edits afterwards).
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006_journeys'
down_revision = '0001_foundation'
branch_labels = ('journeys',)
depends_on = None


def upgrade() -> None:
    op.create_table('bank_account_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('old_account', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('new_account', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('account_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('bank_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('effective_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('applied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status in ('pending', 'applied', 'cancelled')", name=op.f('ck_bank_account_changes_status')),
    sa.CheckConstraint('effective_at > requested_at', name=op.f('ck_bank_account_changes_delayed')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_bank_account_changes_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_bank_account_changes_firm_id_firms')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_bank_account_changes_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_account_changes'))
    )
    with op.batch_alter_table('bank_account_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_account_changes_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index('ix_bank_account_changes_status_at', ['status', 'effective_at'], unique=False)

    op.create_table('fraud_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('moment', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('age_band', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('firm_age', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('title_en', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('title_zh', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_zh', sa.Text(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("age_band in ('any', 'young', 'middle', 'senior')", name=op.f('ck_fraud_warnings_age_band')),
    sa.CheckConstraint("firm_age in ('any', 'new', 'established')", name=op.f('ck_fraud_warnings_firm_age')),
    sa.CheckConstraint("moment in ('registration', 'offer', 'repayment', 'bank_change')", name=op.f('ck_fraud_warnings_moment')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_fraud_warnings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_warnings')),
    sa.UniqueConstraint('code', name=op.f('uq_fraud_warnings_code'))
    )
    with op.batch_alter_table('fraud_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_fraud_warnings_moment', ['moment', 'active'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('message_en', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('message_zh', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_notifications_firm_id_firms')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('protection_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_change_delay_hours', sa.Integer(), nullable=False),
    sa.Column('young_below_age', sa.Integer(), nullable=False),
    sa.Column('senior_from_age', sa.Integer(), nullable=False),
    sa.Column('new_firm_months', sa.Integer(), nullable=False),
    sa.Column('settlement_account', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('settlement_account_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('bank_change_delay_hours between 1 and 720', name=op.f('ck_protection_policy_delay')),
    sa.CheckConstraint('new_firm_months between 1 and 120', name=op.f('ck_protection_policy_new_firm')),
    sa.CheckConstraint('young_below_age between 18 and 60 and senior_from_age between young_below_age and 100', name=op.f('ck_protection_policy_ages')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_protection_policy_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_policy'))
    )
    op.create_table('voucher_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('max_tenor_months', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('max_tenor_months between 1 and 12', name=op.f('ck_voucher_policy_tenor_months')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_voucher_policy_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_policy'))
    )
    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('face_fen', sa.BigInteger(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('tenor_days', sa.Integer(), nullable=False),
    sa.Column('maturity_date', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status in ('active', 'settled')", name=op.f('ck_vouchers_status')),
    sa.CheckConstraint('face_fen > 0', name=op.f('ck_vouchers_face_pos')),
    sa.CheckConstraint('maturity_date > issued_on', name=op.f('ck_vouchers_maturity_after_issue')),
    sa.CheckConstraint('tenor_days between 1 and 366', name=op.f('ck_vouchers_tenor_days')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_vouchers_created_by_id_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_vouchers_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['issuer_id'], ['firms.id'], name=op.f('fk_vouchers_issuer_id_firms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_vouchers_code')),
    sa.UniqueConstraint('invoice_id', name=op.f('uq_vouchers_invoice_id'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vouchers_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vouchers_maturity_date'), ['maturity_date'], unique=False)

    op.create_table('voucher_fragments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('loan_id', sa.BigInteger(), nullable=True),
    sa.Column('application_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status in ('held', 'financed', 'split', 'transferred', 'settled')", name=op.f('ck_voucher_fragments_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_voucher_fragments_amount_pos')),
    sa.CheckConstraint('parent_id is null or parent_id <> id', name=op.f('ck_voucher_fragments_not_own_parent')),
    sa.ForeignKeyConstraint(['holder_id'], ['firms.id'], name=op.f('fk_voucher_fragments_holder_id_firms')),
    sa.ForeignKeyConstraint(['parent_id'], ['voucher_fragments.id'], name=op.f('fk_voucher_fragments_parent_id_voucher_fragments')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_fragments_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_fragments'))
    )
    with op.batch_alter_table('voucher_fragments', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_fragments_holder_status', ['holder_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_fragments_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_fragments_voucher_id'), ['voucher_id'], unique=False)

    op.create_table('voucher_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('fragment_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('document_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind in ('issue', 'split', 'transfer', 'finance', 'settle')", name=op.f('ck_voucher_events_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_voucher_events_actor_id_users')),
    sa.ForeignKeyConstraint(['fragment_id'], ['voucher_fragments.id'], name=op.f('fk_voucher_events_fragment_id_voucher_fragments')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_events_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_events'))
    )
    with op.batch_alter_table('voucher_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_events_voucher_id'), ['voucher_id'], unique=False)

    _create_triggers()
    _seed()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table('voucher_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_events_voucher_id'))

    op.drop_table('voucher_events')
    with op.batch_alter_table('voucher_fragments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_fragments_voucher_id'))
        batch_op.drop_index(batch_op.f('ix_voucher_fragments_parent_id'))
        batch_op.drop_index('ix_voucher_fragments_holder_status')

    op.drop_table('voucher_fragments')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vouchers_maturity_date'))
        batch_op.drop_index(batch_op.f('ix_vouchers_issuer_id'))

    op.drop_table('vouchers')
    op.drop_table('voucher_policy')
    op.drop_table('protection_policy')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')

    op.drop_table('notifications')
    with op.batch_alter_table('fraud_warnings', schema=None) as batch_op:
        batch_op.drop_index('ix_fraud_warnings_moment')

    op.drop_table('fraud_warnings')
    with op.batch_alter_table('bank_account_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_account_changes_status_at')
        batch_op.drop_index(batch_op.f('ix_bank_account_changes_firm_id'))

    op.drop_table('bank_account_changes')


# --- voucher invariants -------------------------------------------------------------------
# A root fragment equals the voucher's face value (one root per voucher); a part is added
# only under a fragment that is still held, and never beyond the parent's amount; a
# fragment is closed as split/transferred only when its parts sum to it exactly, and is
# financed or settled only while it has no parts; amounts, holders and parents never change;
# fragments are never deleted. Hence the live fragments of a voucher sum to its face value.

_SQLITE_TRIGGERS = {
    "trg_voucher_fragments_root": """
CREATE TRIGGER trg_voucher_fragments_root BEFORE INSERT ON voucher_fragments
WHEN NEW.parent_id IS NULL
BEGIN
  SELECT RAISE(ABORT, 'voucher fragments: a root fragment must equal the face value')
  WHERE NEW.amount_fen IS NOT (SELECT face_fen FROM vouchers WHERE id = NEW.voucher_id);
  SELECT RAISE(ABORT, 'voucher fragments: a voucher has only one root')
  WHERE EXISTS (SELECT 1 FROM voucher_fragments
                WHERE voucher_id = NEW.voucher_id AND parent_id IS NULL);
END""",
    "trg_voucher_fragments_part": """
CREATE TRIGGER trg_voucher_fragments_part BEFORE INSERT ON voucher_fragments
WHEN NEW.parent_id IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'voucher fragments: parts go only under a held fragment of the same voucher')
  WHERE NOT EXISTS (SELECT 1 FROM voucher_fragments p WHERE p.id = NEW.parent_id
                    AND p.voucher_id = NEW.voucher_id AND p.status = 'held');
  SELECT RAISE(ABORT, 'voucher fragments: the parts exceed the whole')
  WHERE (SELECT coalesce(sum(amount_fen), 0) FROM voucher_fragments
         WHERE parent_id = NEW.parent_id) + NEW.amount_fen
        > (SELECT amount_fen FROM voucher_fragments WHERE id = NEW.parent_id);
END""",
    "trg_voucher_fragments_fixed": """
CREATE TRIGGER trg_voucher_fragments_fixed
BEFORE UPDATE OF voucher_id, parent_id, holder_id, amount_fen ON voucher_fragments
WHEN NEW.voucher_id IS NOT OLD.voucher_id OR NEW.parent_id IS NOT OLD.parent_id
  OR NEW.holder_id IS NOT OLD.holder_id OR NEW.amount_fen IS NOT OLD.amount_fen
BEGIN
  SELECT RAISE(ABORT, 'voucher fragments: amount, holder and parent never change');
END""",
    "trg_voucher_fragments_status": """
CREATE TRIGGER trg_voucher_fragments_status BEFORE UPDATE OF status ON voucher_fragments
WHEN NEW.status IS NOT OLD.status
BEGIN
  SELECT RAISE(ABORT, 'voucher fragments: illegal status change')
  WHERE NOT ((OLD.status = 'held'
              AND NEW.status IN ('split', 'transferred', 'financed', 'settled'))
             OR (OLD.status = 'financed' AND NEW.status = 'settled'));
  SELECT RAISE(ABORT, 'voucher fragments: the parts must sum to the whole')
  WHERE NEW.status IN ('split', 'transferred')
    AND (SELECT coalesce(sum(amount_fen), 0) FROM voucher_fragments
         WHERE parent_id = NEW.id) <> NEW.amount_fen;
  SELECT RAISE(ABORT, 'voucher fragments: a fragment with parts cannot be financed or settled')
  WHERE NEW.status IN ('financed', 'settled')
    AND EXISTS (SELECT 1 FROM voucher_fragments WHERE parent_id = NEW.id);
END""",
    "trg_voucher_fragments_keep": """
CREATE TRIGGER trg_voucher_fragments_keep BEFORE DELETE ON voucher_fragments
BEGIN
  SELECT RAISE(ABORT, 'voucher fragments are never deleted');
END""",
}

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION voucher_fragments_guard() RETURNS trigger AS $$
DECLARE
  parent voucher_fragments%ROWTYPE;
  parts bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'voucher fragments are never deleted' USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.parent_id IS NULL THEN
      IF NEW.amount_fen IS DISTINCT FROM (SELECT face_fen FROM vouchers WHERE id = NEW.voucher_id) THEN
        RAISE EXCEPTION 'voucher fragments: a root fragment must equal the face value'
          USING ERRCODE = 'check_violation';
      END IF;
      PERFORM 1 FROM vouchers WHERE id = NEW.voucher_id FOR UPDATE;
      IF EXISTS (SELECT 1 FROM voucher_fragments
                 WHERE voucher_id = NEW.voucher_id AND parent_id IS NULL) THEN
        RAISE EXCEPTION 'voucher fragments: a voucher has only one root'
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END IF;
    SELECT * INTO parent FROM voucher_fragments WHERE id = NEW.parent_id FOR UPDATE;
    IF NOT FOUND OR parent.voucher_id <> NEW.voucher_id OR parent.status <> 'held' THEN
      RAISE EXCEPTION 'voucher fragments: parts go only under a held fragment of the same voucher'
        USING ERRCODE = 'check_violation';
    END IF;
    SELECT coalesce(sum(amount_fen), 0) INTO parts FROM voucher_fragments
      WHERE parent_id = NEW.parent_id;
    IF parts + NEW.amount_fen > parent.amount_fen THEN
      RAISE EXCEPTION 'voucher fragments: the parts exceed the whole'
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  -- UPDATE
  IF NEW.voucher_id IS DISTINCT FROM OLD.voucher_id OR NEW.parent_id IS DISTINCT FROM OLD.parent_id
     OR NEW.holder_id IS DISTINCT FROM OLD.holder_id OR NEW.amount_fen IS DISTINCT FROM OLD.amount_fen THEN
    RAISE EXCEPTION 'voucher fragments: amount, holder and parent never change'
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT ((OLD.status = 'held' AND NEW.status IN ('split', 'transferred', 'financed', 'settled'))
            OR (OLD.status = 'financed' AND NEW.status = 'settled')) THEN
      RAISE EXCEPTION 'voucher fragments: illegal status change'
        USING ERRCODE = 'check_violation';
    END IF;
    SELECT coalesce(sum(amount_fen), 0) INTO parts FROM voucher_fragments WHERE parent_id = NEW.id;
    IF NEW.status IN ('split', 'transferred') AND parts <> NEW.amount_fen THEN
      RAISE EXCEPTION 'voucher fragments: the parts must sum to the whole'
        USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status IN ('financed', 'settled') AND parts <> 0 THEN
      RAISE EXCEPTION 'voucher fragments: a fragment with parts cannot be financed or settled'
        USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def _create_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute("CREATE TRIGGER trg_voucher_fragments_guard BEFORE INSERT OR UPDATE OR "
                   "DELETE ON voucher_fragments FOR EACH ROW EXECUTE FUNCTION "
                   "voucher_fragments_guard()")
    else:
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)


def _drop_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_voucher_fragments_guard ON voucher_fragments")
        op.execute("DROP FUNCTION IF EXISTS voucher_fragments_guard()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


# --- seeded data ----------------------------------------------------------------------------
# (code, moment, age_band, firm_age, sort, title_en, title_zh, body_en, body_zh)
WARNINGS = [
    ("reg_password", "registration", "any", "any", 10,
     "Keep your password and codes to yourself", "密码和验证码只留给自己",
     "Trellis staff never ask for your password or a text-message code, by phone or in a chat.",
     "Trellis 工作人员不会通过电话或聊天索要您的密码或短信验证码。"),
    ("reg_senior_authority", "registration", "senior", "any", 5,
     "Police and courts never ask you to move money", "公检法不会让您转账",
     "A caller who says they are the police, a court or a prosecutor and asks you to move "
     "money to a 'safe account' is a fraudster. Hang up and call 110.",
     "自称公安、法院、检察院来电，要求您把钱转到“安全账户”的，都是骗子。请挂断电话并拨打110。"),
    ("reg_new_firm_deals", "registration", "any", "new", 6,
     "New business? Beware of 'sure-win' deals", "新开公司，警惕“稳赚”生意",
     "Big orders that need a deposit first, and investments that promise high returns, are "
     "common traps for new founders. Check the other side before you pay anything.",
     "先交保证金才给大订单、承诺高回报的投资，是新创业者常遇的骗局。付款前先核实对方。"),
    ("reg_young_credit_repair", "registration", "young", "any", 7,
     "Nobody can 'repair' your credit for a fee", "没有“花钱修复征信”这回事",
     "Offers to delete bad credit records or raise your limit for a fee are scams. Errors "
     "are corrected by the credit bureau, free of charge.",
     "声称收费就能消除不良记录、提高额度的都是骗局。征信异议由征信机构免费处理。"),
    ("offer_no_fee", "offer", "any", "any", 1,
     "Trellis never asks for a fee before a loan", "Trellis 放款前绝不收取任何费用",
     "If anyone asks you to pay a 'deposit', 'insurance', an 'unfreezing fee' or a "
     "'verification fee' before the money arrives, it is fraud. Every cost is on this offer.",
     "放款前要求您缴纳“保证金”“保险费”“解冻费”“验资费”的，都是诈骗。全部费用都列在本报价中。"),
    ("offer_young_fast_loan", "offer", "young", "any", 5,
     "'No checks, money in minutes' is a trap", "“不看征信、秒到账”是陷阱",
     "Loans that need no checks but an upfront payment are scams aimed at young borrowers.",
     "以“无需审核、先交费秒放款”为名的贷款，是专骗年轻人的骗局。"),
    ("offer_senior_time", "offer", "senior", "any", 5,
     "Take your time, ask someone you trust", "不着急，可以先问问家人",
     "Nobody at Trellis will rush you. Before you accept, talk it over with your family or "
     "call our service line.",
     "Trellis 不会催您签约。接受前可以和家人商量，或致电我们的客服。"),
    ("offer_new_firm_schemes", "offer", "any", "new", 6,
     "Borrow only for real orders", "只为真实订单借款",
     "Do not borrow to buy into an 'investment project' or a franchise scheme: the loan is "
     "repaid from your own sales.",
     "不要借钱投资“项目”或加盟“计划”，贷款要靠您自己的销售收入偿还。"),
    ("repay_only_platform", "repayment", "any", "any", 1,
     "Repay only to the Trellis settlement account", "只向 Trellis 结算专户还款",
     "The account on this page is the only one we use. If someone gives you another account, "
     "even 'to save fees', stop and call us.",
     "本页显示的账户是我们唯一的还款账户。若有人给您其他账户，即使说“可以省手续费”，也请停止并联系我们。"),
    ("repay_senior_impostor", "repayment", "senior", "any", 5,
     "A 'court' that collects repayments is a fraud", "“法院”代收还款是诈骗",
     "Courts and the police never collect loan repayments. Pay only as shown here.",
     "法院和公安不会代收贷款。请只按本页所示方式还款。"),
    ("repay_young_collector", "repayment", "young", "any", 5,
     "Beware of fake debt collectors", "谨防冒充催收",
     "Someone who threatens you to repay into a personal account is not Trellis. We only "
     "take repayments through this page.",
     "威胁您向个人账户还款的不是 Trellis。我们只通过本页接受还款。"),
    ("bank_change_any", "bank_change", "any", "any", 1,
     "Changing the payout account is the most common trick", "更改收款账户是最常见的诈骗手法",
     "If someone asked you to change your firm's account, stop. A change takes effect only "
     "after a waiting period, and everyone in your firm is told.",
     "如果是别人让您更改公司收款账户，请立即停止。更改要等待一段时间才生效，并会通知公司的其他联系人。"),
    ("bank_change_senior", "bank_change", "senior", "any", 5,
     "Nobody official asks you to change accounts", "官方不会要求您更改账户",
     "The police, courts, banks and Trellis never ask you to move your firm's money to a new "
     "account.",
     "公安、法院、银行和 Trellis 都不会要求您把公司资金转到新账户。"),
    ("bank_change_new_firm", "bank_change", "any", "new", 6,
     "A 'partner' who wants your loan in their account", "“合伙人”要求用他的账户收款",
     "A 'partner' or 'investor' who asks for your loan to be paid into their account is "
     "running a scam.",
     "“合伙人”或“投资人”要求把您的贷款打到他们账户的，是骗局。"),
]


def _seed() -> None:
    now = datetime.now(UTC)
    voucher_policy = sa.table("voucher_policy", sa.column("id", sa.Integer),
                              sa.column("max_tenor_months", sa.Integer),
                              sa.column("updated_at", sa.DateTime(timezone=True)))
    op.bulk_insert(voucher_policy, [{"id": 1, "max_tenor_months": 6, "updated_at": now}])
    protection_policy = sa.table(
        "protection_policy", sa.column("id", sa.Integer),
        sa.column("bank_change_delay_hours", sa.Integer), sa.column("young_below_age", sa.Integer),
        sa.column("senior_from_age", sa.Integer), sa.column("new_firm_months", sa.Integer),
        sa.column("settlement_account", sa.String), sa.column("settlement_account_name", sa.String),
        sa.column("updated_at", sa.DateTime(timezone=True)))
    op.bulk_insert(protection_policy, [{
        "id": 1, "bank_change_delay_hours": 24, "young_below_age": 35, "senior_from_age": 60,
        "new_firm_months": 24, "settlement_account": "6217 0000 0000 0000 888",
        "settlement_account_name": "Trellis 供应链金融结算专户", "updated_at": now}])
    fraud_warnings = sa.table(
        "fraud_warnings", sa.column("code", sa.String), sa.column("moment", sa.String),
        sa.column("age_band", sa.String), sa.column("firm_age", sa.String),
        sa.column("sort", sa.Integer), sa.column("title_en", sa.String),
        sa.column("title_zh", sa.String), sa.column("body_en", sa.Text),
        sa.column("body_zh", sa.Text), sa.column("active", sa.Boolean),
        sa.column("updated_at", sa.DateTime(timezone=True)))
    keys = ("code", "moment", "age_band", "firm_age", "sort", "title_en", "title_zh",
            "body_en", "body_zh")
    op.bulk_insert(fraud_warnings, [dict(zip(keys, row, strict=True), active=True,
                                         updated_at=now) for row in WARNINGS])
