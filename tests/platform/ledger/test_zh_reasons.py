"""Issue 15 (NOTES-zhreader5 F4): an application's reasons read as clean sentences: no
「。；」 between two whole sentences, in either language."""

from __future__ import annotations

from trellis.messages import N_, Money, msg
from trellis.platform.i18n import sentences


def test_reasons_join_without_doubled_punctuation(app):
    reasons = [{"en": "Flag: Duplicate invoices: A, B.", "zh": "警示：重复发票：A、B。"},
               msg(N_("%(requested)s is above the automatic approval limit of %(limit)s."),
                   requested=Money(61_044_300), limit=Money(50_000_000)).to_json(),
               {"en": "no stop", "zh": "无句号"}, {"en": "last", "zh": "最后"}]
    with app.test_request_context("/"):
        text = sentences(reasons)
        assert "。；" not in text and "；；" not in text
        assert text.startswith("警示：重复发票：A、B。申请金额 ¥610,443.00")
        assert text.endswith("无句号；最后")
