"""The recogniser's intent made precise by what the question names (reader 11, F5/F27)."""

import pytest

from trellis.assistant import slots, topics
from trellis.assistant.intents import Recognised


def answered(intent):
    return Recognised(intent, 0.6, False, "")


UNSURE = Recognised("low_confidence", 0.2, True, "low_confidence")


@pytest.mark.parametrize("text, found, role, expected", [
    ("第13号贷款现在还欠多少", answered("limit"), "vendor", "balance"),
    ("我还欠多少钱", answered("limit"), "vendor", "balance"),
    ("how much do I still owe on loan 13", UNSURE, "vendor", "balance"),
    ("剩余额度还有多少", answered("limit"), "vendor", "limit"),
    ("可用余额多少", answered("limit"), "vendor", "limit"),
    ("下个月还欠多少要还", answered("next_repayment"), "vendor", "next_repayment"),
    ("提前还清还剩多少", answered("early_repayment"), "vendor", "early_repayment"),
    ("我的凭证什么时候到期", answered("next_repayment"), "vendor", "voucher"),
    ("凭证融资怎么申请", answered("apply"), "vendor", "apply"),
    ("付款凭证要上传吗", answered("missing_documents"), "vendor", "missing_documents"),
    ("我的发票26332000520000000040为什么被拒", answered("declined"), "vendor",
     "invoice_unconfirmed"),
    ("为什么被拒绝", answered("declined"), "vendor", "declined"),
    ("我们还欠供应商多少", answered("anchor_owed"), "anchor", "anchor_owed"),
    ("有人说我欠钱要先交保证金", Recognised("fraud_call", 1.0, True, "fraud_call"), "vendor",
     "fraud_call"),
    ("工行的贷款还欠多少", Recognised("low_confidence", 1.0, True, "low_confidence"), "vendor",
     "low_confidence"),
])
def test_refine(text, found, role, expected):
    got = topics.refine(found, text, slots.extract(text), role)
    assert got.intent == expected
    assert got.handover == (expected in ("fraud_call", "low_confidence"))


@pytest.mark.parametrize("text, document", [
    ("发票R12-0014为什么被拒绝", "R12-0014"),          # reader 12, G20
    ("R12-0014被拒了", "R12-0014"),
    ("我的发票号码：ABC123", "ABC123"),
    ("invoice INV-2026-001 was rejected, why", "INV-2026-001"),
    ("我的发票26332000520000000040为什么被拒", "26332000520000000040"),
    ("发票2000元", None),                              # an amount
    ("发票100张为什么被拒", None),
    ("第13号贷款现在还欠多少", None), ("loan 13 balance", None), ("A级是什么意思", None),
    ("B2B是什么", None), ("LPR3.45%是多少", None),
])
def test_a_document_named_by_the_firms_own_number(text, document):
    assert slots.extract(text).get("document") == document
