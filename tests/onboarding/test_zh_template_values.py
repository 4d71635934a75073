"""Outside reader 11, F16: the Chinese import templates gave coded values in English
(vendor, confirmed, return, electricity...). They give Chinese words now, the English
templates the codes, and a file filled in either way imports the same."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from trellis.onboarding import templates
from trellis.onboarding.importer import import_file
from trellis.onboarding.kinds import KINDS, ZH_WORDS, CellError
from trellis.trade.models import CreditNote, Firm, Invoice, LoanOutcome, UtilityReading

TODAY = date(2026, 11, 30)
CODED = re.compile(r"[a-z]+(_[a-z]+)*")


@pytest.mark.parametrize("kind", templates.IMPORT_ORDER)
def test_the_chinese_template_has_no_english_codes(kind):
    columns = KINDS[kind].columns
    for row in templates.example_rows(kind, "zh"):
        for col, cell in zip(columns, row, strict=True):
            assert not CODED.fullmatch(cell), (kind, col.key, cell)


def test_every_chinese_word_reads_as_its_code():
    for kind in KINDS.values():
        for col in kind.columns:
            for code, word in ZH_WORDS.get(col.key, {}).items():
                parsed, coded = col.parse(word), col.parse(code)
                if isinstance(parsed, tuple):  # the industry cell: (industry, division)
                    parsed, coded = parsed[0], coded[0]
                assert parsed == coded, (kind.name, col.key, word)


def test_a_template_filled_in_chinese_imports_as_the_codes_do(session, make_cluster):
    """The Chinese templates imported in order, then the English ones: the same rows,
    nothing created and nothing changed."""
    c = make_cluster()
    for kind in templates.IMPORT_ORDER:
        data = templates.template_csv(kind, "zh")
        assert "已确权" in data.decode("utf-8-sig") or kind not in ("invoices", "orders")
        result = import_file(session=session, cluster_id=c.id, kind=kind, data=data, today=TODAY)
        assert result.created + result.updated + result.unchanged == result.rows, kind
        assert result.unmapped == [], kind
    for kind in templates.IMPORT_ORDER:
        again = import_file(
            session=session,
            cluster_id=c.id,
            kind=kind,
            data=templates.template_csv(kind, "en"),
            today=TODAY,
        )
        assert (again.created, again.updated) == (0, 0), kind
    roles = {f.role for f in session.scalars(select(Firm))}
    assert roles == {"anchor", "vendor"}
    assert {i.status for i in session.scalars(select(Invoice))} <= {"pending", "confirmed"}
    assert {n.reason for n in session.scalars(select(CreditNote))} == {"return"}
    assert {u.utility for u in session.scalars(select(UtilityReading))} == {"electricity"}
    assert {o.defaulted for o in session.scalars(select(LoanOutcome))} == {True, False}


def test_a_wrong_word_is_told_the_words_and_the_codes():
    with pytest.raises(CellError) as refused:
        KINDS["firms"].column("role").parse("供货商")
    assert "核心企业/anchor, 供应商/vendor" in str(refused.value)
