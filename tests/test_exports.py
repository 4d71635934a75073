"""The shared export writer escapes spreadsheet formulas (issue 12, OWASP CSV injection).

Each export's own test lives beside its area (network: error report and invitations;
ledger: statements; chain: audit report); this module checks the rule and that no export
writes CSV or XLSX around it.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from trellis import exports
from trellis.chain.audit import report_csv

ROOT = Path(__file__).resolve().parent.parent / "trellis"


@pytest.mark.parametrize("value, written", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("=HYPERLINK(\"http://evil.example\",\"点我\")", "'=HYPERLINK(\"http://evil.example\",\"点我\")"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-", "'-"),
    ("-12.50", "-12.50"),
    ("-1,234.50", "-1,234.50"),
    ("+8613800001111", "+8613800001111"),
    ("小河五金", "小河五金"),
    ("a=b", "a=b"),
    (-5, -5),
    (Decimal("-1.5"), Decimal("-1.5")),
    (None, None),
])
def test_safe_cell(value, written):
    assert exports.safe_cell(value) == written


def test_writers_escape_every_cell():
    out = io.StringIO()
    w = exports.writer(out)
    w.writerow(["=1+1", "ok"])
    w.writerows([["@x", -3]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "ok"], ["'@x", "-3"]]
    data = exports.csv_bytes(["h"], [["+cmd|x"]]).decode("utf-8-sig")
    assert data == "h\r\n'+cmd|x\r\n"


def test_the_chain_audit_report_escapes_details():
    text = report_csv([{"kind": "mismatch", "batch_id": 1, "document_id": 2,
                        "doc_type": "invoice", "doc_id": "=cmd|' /C calc'!A0",
                        "detail": "@SUM(A1)"}])
    row = list(csv.DictReader(io.StringIO(text)))[0]
    assert row["doc_id"] == "'=cmd|' /C calc'!A0" and row["detail"] == "'@SUM(A1)"


def test_no_export_writes_csv_or_xlsx_around_the_shared_writer():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path.name == "exports.py" and path.parent == ROOT:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(", text):
            offenders.append(f"{path}: csv writer")
        if "Workbook(" in text and "exports.safe_row" not in text:
            offenders.append(f"{path}: XLSX without exports.safe_row")
    assert offenders == []
