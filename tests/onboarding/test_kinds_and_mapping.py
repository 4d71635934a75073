"""Column mapping (aliases, fuzzy proposals, saved per source, unknown columns listed),
derived payment references, and the import kinds beyond trade documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.onboarding.test_importer import csv_bytes
from trellis.onboarding import mapping as colmap
from trellis.onboarding import templates
from trellis.onboarding.errors import ImportRefused
from trellis.onboarding.importer import Policy, import_file
from trellis.onboarding.kinds import CellError, parse_month, parse_period
from trellis.trade.models import (
    CreditNote,
    Delivery,
    HeadcountRecord,
    Invoice,
    LoanOutcome,
    Payment,
    PurchaseOrder,
    TaxFiling,
    UtilityReading,
)

TODAY = date(2026, 11, 30)


def test_every_template_imports_in_order(session, make_cluster):
    c = make_cluster()
    for kind in templates.IMPORT_ORDER:
        result = import_file(session=session, cluster_id=c.id, kind=kind,
                             data=templates.template_csv(kind), today=TODAY)
        assert result.created + result.updated + result.unchanged == result.rows, kind
        assert result.unmapped == [], kind
        english = import_file(session=session, cluster_id=c.id, kind=kind,
                              data=templates.template_csv(kind, "en"), today=TODAY)
        assert english.created == 0, kind  # the same rows again change nothing
    assert session.scalar(select(func.count()).select_from(Delivery)) == 1
    assert session.scalar(select(func.count()).select_from(CreditNote)) == 1
    assert session.scalar(select(func.count()).select_from(TaxFiling)) == 2
    assert session.scalar(select(func.count()).select_from(LoanOutcome)) == 2
    assert session.scalar(select(func.count()).select_from(UtilityReading)) == 2
    assert session.scalar(select(func.count()).select_from(HeadcountRecord)) == 2
    order = session.execute(select(PurchaseOrder).where(PurchaseOrder.number == "PO-2026-0002")
                            ).scalar_one()
    assert order.status == "rejected" and order.reject_reason == "数量不符"


@pytest.mark.parametrize("kind, header, expected", [
    ("invoices", ["invoice_no", "date", "seller", "buyer", "amount", "due"],
     {"invoice_no": "number", "date": "issue_date", "seller": "seller_uscc"}),
    ("invoices", ["发票号码", "开票日期", "order_no"],
     {"发票号码": "number", "开票日期": "issue_date", "order_no": "order_number"}),
    ("orders", ["order_no", "date"], {"order_no": "number", "date": "order_date"}),
    ("payments", ["Payer", "PAYEE", "Value Date"], {"Payer": "payer_uscc",
                                                    "PAYEE": "payee_uscc",
                                                    "Value Date": "paid_on"}),
])
def test_aliases_in_chinese_and_english(kind, header, expected):
    p = colmap.propose(kind, header)
    for h, key in expected.items():
        assert p.fields[h] == key, (h, p.how[h])


def test_fuzzy_match_is_proposed_and_strangers_listed():
    p = colmap.propose("invoices", ["invoice_numbr", "issue_dat", "remarks"])
    assert (p.fields["invoice_numbr"], p.how["invoice_numbr"]) == ("number", "fuzzy")
    assert p.fields["issue_dat"] == "issue_date"
    assert p.unmapped == ["remarks"]
    assert {"seller_uscc", "buyer_uscc", "amount"} <= set(p.missing)


def test_saved_mapping_wins_and_is_per_source(session, make_cluster):
    c = make_cluster()
    colmap.save(session=session, cluster_id=c.id, source="bank", kind="invoices",
                mapping={"票号": "number", "备注": ""})
    got = colmap.saved(session=session, cluster_id=c.id, source="bank", kind="invoices")
    p = colmap.propose("invoices", ["票号", "备注"], got)
    assert p.fields == {"票号": "number", "备注": ""} and p.how["票号"] == "saved"
    assert colmap.saved(session=session, cluster_id=c.id, source="erp", kind="invoices") is None
    with pytest.raises(Exception, match="Not fields"):
        colmap.save(session=session, cluster_id=c.id, source="bank", kind="invoices",
                    mapping={"x": "nonsense"})


def _firms(session, c):
    import_file(session=session, cluster_id=c.id, kind="firms",
                data=templates.template_csv("firms"), today=TODAY)


def test_unknown_columns_are_listed_not_dropped(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1
    c = make_cluster()
    _firms(session, c)
    data = csv_bytes(["seller", "buyer", "invoice_no", "amount", "date", "due", "po_ref"],
                     [[EX_VENDOR_1, EX_ANCHOR, "A1", "100.00", "2026-01-02", "2026-02-02",
                       "PO-1"]])
    result = import_file(session=session, cluster_id=c.id, kind="invoices", data=data,
                         today=TODAY)
    assert result.created == 1 and result.unmapped == ["po_ref"]
    assert result.mapping["po_ref"] == ""


def test_confirmed_mapping_reads_any_headers_and_refuses_bad_ones(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1
    c = make_cluster()
    _firms(session, c)
    data = csv_bytes(["卖方", "买方", "票", "钱", "日", "到期"],
                     [[EX_VENDOR_1, EX_ANCHOR, "B1", "100.00", "2026-01-02", "2026-02-02"]])
    mapping = {"卖方": "seller_uscc", "买方": "buyer_uscc", "票": "number", "钱": "amount",
               "日": "issue_date", "到期": "due_date"}
    assert import_file(session=session, cluster_id=c.id, kind="invoices", data=data,
                       today=TODAY, mapping=mapping).created == 1
    with pytest.raises(ImportRefused) as exc:
        import_file(session=session, cluster_id=c.id, kind="invoices", data=data,
                    today=TODAY, mapping={**mapping, "到期": "", "日": "issue_date"})
    assert "due_date" in str(exc.value.errors[0])
    with pytest.raises(ImportRefused):
        import_file(session=session, cluster_id=c.id, kind="invoices", data=data,
                    today=TODAY, mapping={**mapping, "到期": "issue_date"})


def test_payments_without_reference_get_a_deterministic_one(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1
    c = make_cluster()
    _firms(session, c)
    rows = [[EX_ANCHOR, EX_VENDOR_1, "500.00", "2026-03-01"],
            [EX_ANCHOR, EX_VENDOR_1, "500.00", "2026-03-01"],  # two equal payments stay two
            [EX_ANCHOR, EX_VENDOR_1, "700.00", "2026-03-02"]]
    data = csv_bytes(["payer", "payee", "amount", "date"], rows)
    assert import_file(session=session, cluster_id=c.id, kind="payments", data=data,
                       today=TODAY).created == 3
    again = import_file(session=session, cluster_id=c.id, kind="payments", data=data,
                        today=TODAY)
    assert (again.created, again.unchanged) == (0, 3)
    refs = session.execute(select(Payment.reference)).scalars().all()
    assert len(set(refs)) == 3 and all(r.startswith("AUTO-") for r in refs)


@pytest.mark.parametrize("raw, expected", [
    ("2025", (date(2025, 1, 1), date(2025, 12, 31))),
    ("2025Q4", (date(2025, 10, 1), date(2025, 12, 31))),
    ("2025年第2季度", (date(2025, 4, 1), date(2025, 6, 30))),
    ("2025H2", (date(2025, 7, 1), date(2025, 12, 31))),
    ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
    ("2025-01-01~2025-03-31", (date(2025, 1, 1), date(2025, 3, 31)))])
def test_tax_periods(raw, expected):
    assert parse_period(raw) == expected


@pytest.mark.parametrize("raw", ["2025Q5", "25年", "2025-13", "later"])
def test_bad_periods_are_refused(raw):
    with pytest.raises(CellError):
        parse_period(raw)


def test_months():
    assert parse_month("2026年3月") == parse_month("202603") == parse_month("2026-03-17") \
        == date(2026, 3, 1)
    with pytest.raises(CellError):
        parse_month("2026-13")


def test_readings_and_headcount_update_on_a_corrected_file(session, make_cluster):
    from trellis.onboarding.kinds import EX_VENDOR_1
    c = make_cluster()
    _firms(session, c)
    data = csv_bytes(["uscc", "month", "kwh"], [[EX_VENDOR_1, "2026-01", "1000.5"]])
    import_file(session=session, cluster_id=c.id, kind="utility_readings", data=data,
                today=TODAY)
    fixed = csv_bytes(["uscc", "month", "kwh"], [[EX_VENDOR_1, "2026-01", "1200"]])
    result = import_file(session=session, cluster_id=c.id, kind="utility_readings",
                         data=fixed, today=TODAY)
    assert result.updated == 1
    assert session.execute(select(UtilityReading.quantity)).scalar_one() == Decimal("1200")
    with pytest.raises(ImportRefused):
        import_file(session=session, cluster_id=c.id, kind="headcount", today=TODAY,
                    data=csv_bytes(["uscc", "month", "人数"], [[EX_VENDOR_1, "2027-01", "3"]]))


def test_confirmation_of_an_unknown_invoice_is_refused(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1
    c = make_cluster()
    _firms(session, c)
    with pytest.raises(ImportRefused) as exc:
        import_file(session=session, cluster_id=c.id, kind="confirmations", today=TODAY,
                    data=csv_bytes(["seller", "buyer", "invoice_no", "status"],
                                   [[EX_VENDOR_1, EX_ANCHOR, "NOPE", "已确权"]]))
    assert exc.value.errors[0].column == "number"


def test_seller_is_me_policy(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1, EX_VENDOR_2
    c = make_cluster()
    _firms(session, c)
    me = Policy(seller_is=EX_VENDOR_1)
    data = csv_bytes(["buyer", "invoice_no", "amount", "date", "due"],
                     [[EX_ANCHOR, "V1", "100.00", "2026-01-02", "2026-02-02"]])
    assert import_file(session=session, cluster_id=c.id, kind="invoices", data=data,
                       today=TODAY, policy=me).created == 1
    inv = session.execute(select(Invoice).where(Invoice.number == "V1")).scalar_one()
    assert inv.status == "pending"
    other = csv_bytes(["seller", "buyer", "invoice_no", "amount", "date", "due", "status"],
                      [[EX_VENDOR_2, EX_ANCHOR, "V2", "1.00", "2026-01-02", "2026-02-02", ""],
                       [EX_VENDOR_1, EX_ANCHOR, "V3", "1.00", "2026-01-02", "2026-02-02",
                        "confirmed"]])
    with pytest.raises(ImportRefused) as exc:
        import_file(session=session, cluster_id=c.id, kind="invoices", data=other,
                    today=TODAY, policy=me)
    assert {e.column for e in exc.value.errors} == {"seller_uscc", "status"}
    with pytest.raises(ImportRefused):
        import_file(session=session, cluster_id=c.id, kind="firms", today=TODAY,
                    data=templates.template_csv("firms"), policy=me)


def test_missing_due_date_follows_the_pairs_payment_terms(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1, EX_VENDOR_2
    c = make_cluster()
    _firms(session, c)
    import_file(session=session, cluster_id=c.id, kind="relationships", today=TODAY,
                data=csv_bytes(["supplier", "buyer", "since", "terms"],
                               [[EX_VENDOR_1, EX_ANCHOR, "2025-01-01", "45"]]))
    data = csv_bytes(["seller", "buyer", "invoice_no", "amount", "date"],
                     [[EX_VENDOR_1, EX_ANCHOR, "D1", "10.00", "2026-01-10"],
                      [EX_VENDOR_2, EX_ANCHOR, "D2", "10.00", "2026-01-10"]])
    import_file(session=session, cluster_id=c.id, kind="invoices", data=data, today=TODAY)
    due = dict(session.execute(select(Invoice.number, Invoice.due_date)).all())
    assert due == {"D1": date(2026, 2, 24), "D2": date(2026, 3, 11)}  # 45 days; default 60


def test_an_order_missing_from_a_bank_export_keeps_the_invoice(session, make_cluster):
    from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1
    c = make_cluster()
    _firms(session, c)
    data = csv_bytes(["seller", "buyer", "invoice_no", "amount", "date", "order_no"],
                     [[EX_VENDOR_1, EX_ANCHOR, "E1", "10.00", "2026-01-10", "PO-GONE"]])
    result = import_file(session=session, cluster_id=c.id, kind="invoices", data=data,
                         today=TODAY)
    assert result.created == 1 and result.warnings[0].column == "order_number"
    assert session.execute(select(Invoice.order_id)).scalar_one() is None
    mine = csv_bytes(["buyer", "invoice_no", "amount", "date", "order_no"],
                     [[EX_ANCHOR, "E2", "10.00", "2026-01-10", "PO-GONE"]])
    with pytest.raises(ImportRefused):  # a vendor must record the order first
        import_file(session=session, cluster_id=c.id, kind="invoices", data=mine,
                    today=TODAY, policy=Policy(seller_is=EX_VENDOR_1))


def test_nil_tax_return_and_gb_industry_names(session, make_cluster):
    from trellis.onboarding.kinds import EX_VENDOR_1, parse_industry
    c = make_cluster()
    _firms(session, c)
    import_file(session=session, cluster_id=c.id, kind="tax_filings", today=TODAY,
                data=csv_bytes(["uscc", "所属期起", "所属期止", "销售额", "应纳税额"],
                               [[EX_VENDOR_1, "2025-01-01", "2025-03-31", "0.00", "0"]]))
    assert session.execute(select(TaxFiling.vat_sales_fen)).scalar_one() == 0
    assert parse_industry("计算机、通信和其他电子设备制造业") == "manufacturing"
    assert parse_industry("批发和零售业") == "wholesale_retail"
    assert parse_industry("软件和信息技术服务业") == "other"
