"""Slots in a question: dates and yuan amounts (``5万``, ``3.5千元``, ``¥12,000``,
``2026-12-20``, ``12月20日``, 今天/明天/后天, today/tomorrow), a loan's number
(``第13号贷款``, ``贷款13``, ``13号贷款``, ``loan 13``) and a document's number (eight
digits or more: an invoice's ``26332000520000000040``)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

_ISO = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_MD = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
_AMOUNT = re.compile(r"[¥￥]?\s*(\d[\d,]*(?:\.\d+)?)\s*(万|千|k|w)?\s*(元|块|yuan|rmb)?", re.I)
_LOAN = re.compile(r"(?:第\s*(\d{1,9})\s*[号笔个]?\s*(?:贷款|借款)|"
                   r"(?:贷款|借款)\s*(?:编号|号)?\s*[#:：]?\s*(\d{1,9})(?!\d)|"
                   r"(?<!\d)(\d{1,9})\s*号\s*(?:贷款|借款)|"
                   r"\bloan\s*(?:no\.?|number|#)?\s*(\d{1,9})\b)", re.I)
_DOCUMENT = re.compile(r"(?<![\d.])(\d{8,30})(?![\d.])")
_RELATIVE = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_SCALE = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}


def extract(text: str, *, today: date | None = None) -> dict:
    """``{"date": date?, "amount_fen": int?, "loan_id": int?, "document": str?}`` found
    in *text*."""
    today = today or date.today()
    text = unicodedata.normalize("NFKC", text or "")
    out: dict = {}
    if (m := _LOAN.search(text)):
        out["loan_id"] = int(next(g for g in m.groups() if g))
    if (m := _DOCUMENT.search(text)):
        out["document"] = m[1]
        text = text.replace(m[1], " ")   # a document's number is no date and no amount
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
