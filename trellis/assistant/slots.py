"""Slots in a question: dates and yuan amounts (``5万``, ``3.5千元``, ``¥12,000``,
``2026-12-20``, ``12月20日``, 今天/明天/后天, today/tomorrow), a loan's number
(``第13号贷款``, ``贷款13``, ``13号贷款``, ``loan 13``) and a document's number (eight
digits or more: an invoice's ``26332000520000000040``; or a number the firm wrote itself,
letters and digits as in ``R12-0014`` or ``INV2026001``: after 发票/单据/invoice, or
anywhere when it starts with letters and holds two digits or more)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from trellis import clock

_ISO = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_MD = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
_AMOUNT = re.compile(r"[¥￥]?\s*(\d[\d,]*(?:\.\d+)?)\s*(万|千|k|w)?\s*(元|块|yuan|rmb)?", re.I)
_LOAN = re.compile(r"(?:第\s*(\d{1,9})\s*[号笔个]?\s*(?:贷款|借款)|"
                   r"(?:贷款|借款)\s*(?:编号|号)?\s*[#:：]?\s*(\d{1,9})(?!\d)|"
                   r"(?<!\d)(\d{1,9})\s*号\s*(?:贷款|借款)|"
                   r"\bloan\s*(?:no\.?|number|#)?\s*(\d{1,9})\b)", re.I)
_DOCUMENT = re.compile(r"(?<![\d.])(\d{8,30})(?![\d.])")
# A firm's own numbering (reader 12, G20: "发票R12-0014为什么被拒绝" named no invoice, and the
# answer listed every pending one): after an invoice word, any run of letters, digits and
# - _ / holding a digit; elsewhere, letters then digits (R12-0014, INV-2026-001).
_SEPARATOR = r"[-_/]"
_NAMED = re.compile(r"(?:发票|票据|单据|invoice)\s*(?:号码|编号|号|no\.?|number|#)?\s*[:：]?\s*"
                    r"(?<![A-Za-z0-9])([A-Za-z0-9](?:[A-Za-z0-9]|" + _SEPARATOR
                    + r"(?=[A-Za-z0-9])){2,63})(?![A-Za-z0-9])", re.I)
_CODED = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,8}" + _SEPARATOR
                    + r"?\d(?:[A-Za-z0-9]|" + _SEPARATOR + r"(?=[A-Za-z0-9]))*)"
                    r"(?![A-Za-z0-9])")
_RELATIVE = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_SCALE = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}


def extract(text: str, *, today: date | None = None) -> dict:
    """``{"date": date?, "amount_fen": int?, "loan_id": int?, "document": str?}`` found
    in *text*."""
    today = today or clock.today()
    text = unicodedata.normalize("NFKC", text or "")
    out: dict = {}
    if (m := _LOAN.search(text)):
        out["loan_id"] = int(next(g for g in m.groups() if g))
    if (m := _DOCUMENT.search(text)):
        out["document"] = m[1]
        text = text.replace(m[1], " ")   # a document's number is no date and no amount
    elif (number := _own_number(text)):
        out["document"] = number
        text = text.replace(number, " ")
    m = _ISO.search(text)
    try:
        if m:
            out["date"] = date(int(m[1]), int(m[2]), int(m[3]))
        elif (m := _MD.search(text)):
            out["date"] = date(today.year, int(m[1]), int(m[2]))
    except ValueError:
        pass
    if "date" not in out:
        for word, days in _RELATIVE.items():
            if word in text.lower():
                out["date"] = today + timedelta(days=days)
                break
    masked = _ISO.sub(" ", _MD.sub(" ", text))
    for m in _AMOUNT.finditer(masked):
        if not (m[2] or m[3] or "¥" in m[0] or "￥" in m[0]):
            continue
        try:
            value = Decimal(m[1].replace(",", "")) * _SCALE.get((m[2] or "").lower(), 1)
        except InvalidOperation:
            continue
        out["amount_fen"] = int(value * 100)
        break
    return out


def _own_number(text: str) -> str | None:
    """A document number of the firm's own numbering in *text* (see the module doc), or
    None. It needs a letter and a digit (``发票2000元`` is an amount) and, outside an
    invoice word, two digits after a leading letter (``loan 13`` and ``A级`` are no
    document)."""
    m = _NAMED.search(text)
    if m and re.search(r"\d", m[1]) and re.search(r"[A-Za-z]", m[1]) \
            and not _LOAN.fullmatch(m[1]):
        return m[1]
    for m in _CODED.finditer(text):
        if len(re.findall(r"\d", m[1])) >= 2 and not _LOAN.fullmatch(m[1]):
            return m[1]
    return None
