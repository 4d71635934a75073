"""Bulk import: encodings, every validation rule with a bad file, idempotent re-import."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import next_uscc
from trellis.onboarding import importer
from trellis.onboarding.errors import FileTooLarge, ImportRefused, UnreadableFile
from trellis.trade.models import (
    Cluster,
    Firm,
    Invoice,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)
from trellis.trade.uscc import make

TODAY = date(2026, 11, 30)
TABLES = (Firm, Relationship, PurchaseOrder, Invoice, Payment, PaymentAllocation)


def csv_bytes(header, rows, encoding="utf-8"):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(header, rows):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def counts(session):
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m))
            for m in TABLES}


def run(session, cluster, kind, data, filename="file.csv", **kw):
    return importer.import_file(session=session, cluster_id=cluster.id, kind=kind,
                                data=data, filename=filename, today=TODAY, **kw)


@pytest.fixture
def park(make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id, name="示范核心企业")
    vendor = make_firm(cluster_id=cluster.id, name="小河五金")
    return cluster, anchor, vendor


FIRM_HEADER = ["统一社会信用代码", "企业名称", "角色", "行业", "联系电话"]


@pytest.mark.parametrize("fmt, encoding", [
    ("csv", "utf-8"), ("csv", "utf-8-sig"), ("csv", "gbk"), ("csv", "gb18030"),
    ("xlsx", None),
])
def test_firms_import_in_every_encoding_keeps_chinese_names(session, park, fmt, encoding):
    cluster = park[0]
    codes = [next_uscc(), next_uscc()]
    rows = [[codes[0], "杭州顺丰五金厂", "供应商", "制造业", "13800001111"],
            [codes[1], "余杭物流有限公司", "vendor", "transport_logistics", ""]]
    data = (xlsx_bytes(FIRM_HEADER, rows) if fmt == "xlsx"
            else csv_bytes(FIRM_HEADER, rows, encoding))
    result = run(session, cluster, "firms", data, f"firms.{fmt}")
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    firms = {f.uscc: f for f in session.scalars(select(Firm).where(Firm.uscc.in_(codes)))}
    assert firms[codes[0]].name == "杭州顺丰五金厂"
    assert firms[codes[0]].industry == "manufacturing"
    assert firms[codes[0]].phone == "13800001111"
    assert firms[codes[1]].industry == "transport_logistics"
    assert {f.cluster_id for f in firms.values()} == {cluster.id}


def _bad_check_character():
    good = next_uscc()
    wrong = "0" if good[-1] != "0" else "1"
    return good[:-1] + wrong


INV_HEADER = ["seller_uscc", "buyer_uscc", "number", "amount", "issue_date", "due_date"]


def _invoice_cases():
    """(kind, header, rows using {A}/{V} for anchor/vendor USCC, bad row, column, problem).

    Each file has a good first row, so a refused file proves the good row was not
    written either.
    """
    good = ["{V}", "{A}", "N-1", "100.00", "2026-06-01", "2026-08-01"]
    return [
        ("bad USCC check character", "invoices", INV_HEADER,
         [good, ["{BADCHECK}", "{A}", "N-2", "1", "2026-06-01", "2026-08-01"]],
         3, "seller_uscc", "check character"),
        ("unknown firm", "invoices", INV_HEADER,
         [good, [make("91330100MA9999999"), "{A}", "N-2", "1", "2026-06-01", "2026-08-01"]],
         3, "seller_uscc", "unknown firm"),
        ("negative amount", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-2", "-5.00", "2026-06-01", "2026-08-01"]],
         3, "amount", "negative"),
        ("non-numeric amount", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-2", "一百元", "2026-06-01", "2026-08-01"]],
         3, "amount", "not a number"),
        ("three decimals", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-2", "1.005", "2026-06-01", "2026-08-01"]],
         3, "amount", "two decimal places"),
        ("duplicate invoice number in the file", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-1", "200.00", "2026-06-02", "2026-08-01"]],
         3, "number", "duplicate invoice number: already on row 2"),
        ("due before issue", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-2", "1", "2026-06-01", "2026-05-01"]],
         3, "due_date", "before the issue date"),
        ("date in the future", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-2", "1", "2026-12-01", "2027-02-01"]],
         3, "issue_date", "in the future"),
        ("not a date", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "N-2", "1", "next week", "2027-02-01"]],
         3, "issue_date", "not a date"),
        # (a due date may be left out: it is derived from the pair's payment terms)
        ("missing required column", "invoices", INV_HEADER[:4] + INV_HEADER[5:],
         [good[:4] + good[5:]], 1, "issue_date", "missing required column"),
        ("required value missing", "invoices", INV_HEADER,
         [good, ["{V}", "{A}", "", "1", "2026-06-01", "2026-08-01"]],
         3, "number", "required value missing"),
        ("seller is buyer", "invoices", INV_HEADER,
         [good, ["{A}", "{A}", "N-2", "1", "2026-06-01", "2026-08-01"]],
         3, "buyer_uscc", "same firm"),
        ("bad USCC in a firms file", "firms", ["uscc", "name", "role"],
         [["{NEW}", "新企业", "vendor"], ["{BADCHECK}", "坏企业", "vendor"]],
         3, "uscc", "check character"),
        ("unknown role", "firms", ["uscc", "name", "role"],
         [["{NEW}", "新企业", "vendor"], ["{NEW2}", "坏企业", "boss"]],
         3, "role", "unknown role"),
        ("founded in the future", "firms", ["uscc", "name", "role", "founded_on"],
         [["{NEW}", "新企业", "vendor", "2020-01-01"],
          ["{NEW2}", "新企业2", "vendor", "2030-01-01"]],
         3, "founded_on", "in the future"),
        ("unknown firm in relationships", "relationships",
         ["supplier_uscc", "buyer_uscc", "since"],
         [["{V}", "{A}", "2024-01-01"], ["{NEW}", "{A}", "2024-01-01"]],
         3, "supplier_uscc", "unknown firm"),
        ("non-numeric order amount", "orders",
         ["buyer_uscc", "seller_uscc", "number", "amount", "order_date"],
         [["{A}", "{V}", "PO-1", "10", "2026-01-01"], ["{A}", "{V}", "PO-2", "abc",
                                                       "2026-01-01"]],
         3, "amount", "not a number"),
        ("zero payment", "payments",
         ["payer_uscc", "payee_uscc", "reference", "amount", "paid_on"],
         [["{A}", "{V}", "P-1", "10", "2026-01-01"], ["{A}", "{V}", "P-2", "0",
                                                      "2026-01-01"]],
         3, "amount", "zero"),
        ("payment for an unknown invoice", "payments",
         ["payer_uscc", "payee_uscc", "reference", "amount", "paid_on", "invoice_numbers"],
         [["{A}", "{V}", "P-1", "10", "2026-01-01", ""],
          ["{A}", "{V}", "P-2", "10", "2026-01-01", "NOPE-1"]],
         3, "invoice_numbers", "unknown invoice"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("case", _invoice_cases(), ids=lambda c: c[0])
def test_a_bad_file_is_refused_naming_row_column_problem_and_writes_nothing(
        session, park, case, fmt):
    _, kind, header, rows, bad_row, column, problem = case
    cluster, anchor, vendor = park
    subst = {"{A}": anchor.uscc, "{V}": vendor.uscc, "{NEW}": next_uscc(),
             "{NEW2}": next_uscc(), "{BADCHECK}": _bad_check_character()}
    rows = [[subst.get(c, c) for c in row] for row in rows]
    data = xlsx_bytes(header, rows) if fmt == "xlsx" else csv_bytes(header, rows)
    before = counts(session)
    version = cluster.data_version
    with pytest.raises(ImportRefused) as caught:
        run(session, cluster, kind, data, f"bad.{fmt}")
    errors = caught.value.errors
    assert any(e.row == bad_row and e.column == column and problem in e.problem
               for e in errors), errors
    assert f"row {bad_row}" in caught.value.message
    assert counts(session) == before
    session.refresh(cluster)
    assert cluster.data_version == version


def test_duplicate_invoice_number_already_in_the_database(session, park):
    cluster, anchor, vendor = park
    first = csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "N-1", "100", "2026-06-01",
                                    "2026-08-01"]])
    run(session, cluster, "invoices", first)
    changed = csv_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "N-2", "5", "2026-06-01",
                                      "2026-08-01"],
                                     [vendor.uscc, anchor.uscc, "N-1", "999", "2026-06-01",
                                      "2026-08-01"]])
    before = counts(session)
    with pytest.raises(ImportRefused) as caught:
        run(session, cluster, "invoices", changed)
    (error,) = caught.value.errors
    assert (error.row, error.column) == (3, "number")
    assert "duplicate invoice number" in error.problem and "amount" in error.problem
    assert counts(session) == before


def test_every_problem_is_listed_not_only_the_first(session, park):
    cluster, anchor, vendor = park
    data = csv_bytes(INV_HEADER, [
        [vendor.uscc, anchor.uscc, "N-1", "-1", "2026-06-01", "2026-08-01"],
        [vendor.uscc, "X", "N-2", "1", "2026-06-01", "2026-08-01"],
        [vendor.uscc, anchor.uscc, "N-3", "1", "2026-06-05", "2026-06-01"]])
    with pytest.raises(ImportRefused) as caught:
        run(session, cluster, "invoices", data)
    assert [(e.row, e.column) for e in caught.value.errors] == [
        (2, "amount"), (3, "buyer_uscc"), (4, "due_date")]


@pytest.mark.parametrize("cell, fen", [
    ("1,234.50", 123450), ("￥88", 8800), ("0.01", 1), ("125000", 12500000),
    (1234.56, 123456), (7, 700),
])
def test_amounts_in_yuan_become_exact_fen(session, park, cell, fen):
    cluster, anchor, vendor = park
    data = xlsx_bytes(INV_HEADER, [[vendor.uscc, anchor.uscc, "N-1", cell, "2026-06-01",
                                    "2026-08-01"]])
    run(session, cluster, "invoices", data, "a.xlsx")
    inv = session.scalars(select(Invoice).where(Invoice.seller_id == vendor.id)).one()
    assert inv.amount_fen == fen and isinstance(inv.amount_fen, int)


def test_size_limit_refuses_a_huge_file_before_reading_it(session, park):
    data = csv_bytes(INV_HEADER, [["x"] * 6] * 1000)
    with pytest.raises(FileTooLarge) as caught:
        run(session, park[0], "invoices", data, max_bytes=1024)
    assert "limit" in caught.value.message
    assert counts(session)["invoices"] == 0


@pytest.mark.parametrize("data, name", [
    (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls"),
    (b"PK\x03\x04 not really a zip", "broken.xlsx"),
])
def test_unreadable_files_are_refused_with_a_message(session, park, data, name):
    with pytest.raises(UnreadableFile):
        run(session, park[0], "invoices", data, name)


def _full_cluster_files(anchor, vendor, other):
    A, V, W = anchor.uscc, vendor.uscc, other.uscc
    return [
        ("firms", csv_bytes(["uscc", "name", "role", "phone", "bank_account"], [
            [A, anchor.name, "anchor", "0571-1", ""],
            [V, vendor.name, "vendor", "138", "6222000011112222"],
            [W, other.name, "vendor", "139", ""]])),
        ("relationships", csv_bytes(["supplier_uscc", "buyer_uscc", "since",
                                     "payment_terms_days"],
                                    [[V, A, "2024-01-01", "60"], [W, V, "2025-03-01", ""]])),
        ("orders", csv_bytes(["buyer_uscc", "seller_uscc", "number", "amount", "order_date",
                              "status"],
                             [[A, V, "PO-1", "500", "2026-05-01", "confirmed"]])),
        ("invoices", csv_bytes(INV_HEADER + ["order_number", "status"], [
            [V, A, "N-1", "300", "2026-05-10", "2026-07-10", "PO-1", "已确权"],
            [V, A, "N-2", "200", "2026-05-11", "2026-07-10", "PO-1", ""],
            [W, V, "M-1", "80.5", "2026-04-01", "2026-05-01", "", ""]])),
        ("payments", csv_bytes(["payer_uscc", "payee_uscc", "reference", "amount", "paid_on",
                                "invoice_numbers"],
                               [[A, V, "BANK-1", "350", "2026-07-10", "N-1;N-2"]])),
    ]


def test_reimporting_unchanged_files_changes_nothing(session, park, make_firm):
    cluster, anchor, vendor = park
    other = make_firm(cluster_id=cluster.id)
    files = _full_cluster_files(anchor, vendor, other)
    for kind, data in files:
        run(session, cluster, kind, data)
    session.refresh(cluster)
    version, before = cluster.data_version, counts(session)
    inv = {i.number: i for i in session.scalars(select(Invoice))}
    assert (inv["N-1"].paid_fen, inv["N-2"].paid_fen) == (30000, 5000)
    assert inv["N-1"].status == "confirmed" and inv["N-2"].status == "pending"
    assert inv["N-1"].order_id is not None

    for kind, data in files:
        result = run(session, cluster, kind, data)
        assert (result.created, result.updated) == (0, 0), kind
        assert result.unchanged == result.rows
    session.refresh(cluster)
    assert cluster.data_version == version
    assert counts(session) == before
    session.refresh(inv["N-1"])
    assert inv["N-1"].paid_fen == 30000


def test_import_bumps_the_cluster_data_version_when_something_changed(session, park):
    cluster, anchor, vendor = park
    version = cluster.data_version
    data = csv_bytes(["uscc", "name", "role", "phone"],
                     [[vendor.uscc, vendor.name, "vendor", "13700000000"]])
    result = run(session, cluster, "firms", data)
    assert (result.created, result.updated) == (0, 1)
    session.refresh(cluster)
    session.refresh(vendor)
    assert cluster.data_version == version + 1
    assert vendor.phone == "13700000000"


def test_a_bank_account_cannot_be_changed_by_import(session, park):
    cluster, anchor, vendor = park
    vendor.bank_account = "6222000011112222"
    session.flush()
    data = csv_bytes(["uscc", "name", "role", "bank_account"],
                     [[vendor.uscc, vendor.name, "vendor", "6222999999999999"]])
    with pytest.raises(ImportRefused) as caught:
        run(session, cluster, "firms", data)
    assert caught.value.errors[0].column == "bank_account"
    assert "6222999999999999" not in str(caught.value.errors)
    session.refresh(vendor)
    assert vendor.bank_account == "6222000011112222"


def test_a_firm_of_another_cluster_is_refused(session, park, make_cluster, make_firm):
    cluster, anchor, _ = park
    elsewhere = make_firm(cluster_id=make_cluster().id)
    data = csv_bytes(INV_HEADER, [[elsewhere.uscc, anchor.uscc, "N-1", "1", "2026-06-01",
                                   "2026-08-01"]])
    with pytest.raises(ImportRefused) as caught:
        run(session, cluster, "invoices", data)
    assert "another cluster" in caught.value.errors[0].problem


def test_tab_separated_utf16_from_excel_unicode_text(session, park):
    cluster, anchor, vendor = park
    text = "\t".join(INV_HEADER) + "\r\n" + "\t".join(
        [vendor.uscc, anchor.uscc, "发票-1", "10", "2026-06-01", "2026-08-01"]) + "\r\n"
    result = run(session, cluster, "invoices", text.encode("utf-16"))
    assert result.created == 1 and result.encoding == "UTF-16"
    assert session.scalars(select(Invoice.number)).one() == "发票-1"


def test_unknown_cluster(session):
    from trellis.trade.errors import ClusterNotFound

    with pytest.raises(ClusterNotFound):
        importer.import_file(session=session, cluster_id=10**8, kind="firms", data=b"a")


def test_cluster_row_untouched_by_refused_import(session, park):
    cluster = park[0]
    before = session.get(Cluster, cluster.id).data_version
    with pytest.raises(ImportRefused):
        run(session, cluster, "firms", csv_bytes(["name"], [["x"]]))
    assert session.get(Cluster, cluster.id).data_version == before
