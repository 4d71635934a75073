"""A recognised intent made precise by what the question names: a loan's balance, a
voucher, a rejected invoice.

Why after the recogniser and not inside it: these questions share their words with a
broader intent (``第13号贷款现在还欠多少`` scores as ``limit``, ``我的凭证什么时候到期``
as ``next_repayment``, ``我的发票…为什么被拒`` as ``declined``), and the thing they name
(a loan, a voucher, an invoice) decides the answer plainly. A rule on the named thing is
surer than more training questions, and leaves the recogniser's fit (and its calibrated
hand-over bar) as it is. Sensitive hand-overs are never refined; an unsure one is, only
when the question names one of these things.
"""

from __future__ import annotations

import re

from trellis.assistant.intents import Recognised

# What is owed now (not the credit line's "available balance", 可用余额).
OWED = re.compile(r"欠|未还|没还|还剩|剩下|剩余|(?<!可用)(?<!授信)余额|"
                  r"\bowe|outstanding|\bbalance\b|left to (pay|repay)|still to pay", re.I)
# A question about a date or the next instalment stays the repayment answer.
WHEN = re.compile(r"什么时候|哪天|几号|下期|下次|下个?月|到期|when|next|due", re.I)
# A voucher (债权凭证) — not a payment's or an upload's receipt (付款凭证).
VOUCHER = re.compile(r"(?<!付款)(?<!还款)(?<!转账)(?<!支付)(?<!缴费)(?<!上传)凭证|voucher|链单",
                     re.I)
INVOICE = re.compile(r"发票|票据|invoice", re.I)
# "剩余额度" is the limit left, not a debt
LIMIT_WORDS = re.compile(r"额度|授信|可用|limit|credit", re.I)
# Intents a voucher question is not refined from: how to apply, the product's rules.
VOUCHER_KEEP = ("apply", "rates", "fees", "cooling_off", "consent", "withdraw_consent",
                "greeting")
# Intents a loan-balance question is mistaken for.
BALANCE_FROM = ("limit", "next_repayment", "repay", "apply", "early_repayment")


def refine(found: Recognised, text: str, slots: dict, role: str = "vendor") -> Recognised:
    """*found* (the recogniser's intent for *text*) made precise for a vendor: ``voucher``
    for a question about vouchers, ``invoice_unconfirmed`` for a declined-question about an
    invoice, ``balance`` for what is owed on a loan (by its number when *slots* hold
    ``loan_id``). An anchor's question and a sensitive hand-over are returned unchanged."""
    unsure = found.handover and found.reason == "low_confidence" and found.confidence < 1.0
    if role != "vendor" or (found.handover and not unsure):
        return found

    def to(intent: str) -> Recognised:
        return Recognised(intent, found.confidence, False, "")

    if VOUCHER.search(text) and found.intent not in VOUCHER_KEEP:
        return to("voucher")
    if INVOICE.search(text) or slots.get("document"):
        if found.intent == "declined" or (unsure and re.search(r"拒|reject", text, re.I)):
            return to("invoice_unconfirmed")
        return found
    owed = OWED.search(text) and (slots.get("loan_id") or not LIMIT_WORDS.search(text))
    if owed and (found.intent in BALANCE_FROM or unsure) and (
            slots.get("loan_id") or not WHEN.search(text)):
        if found.intent == "early_repayment" and not slots.get("loan_id"):
            return found   # "提前还清还剩多少": the early-repayment answer says it
        return to("balance")
    if slots.get("loan_id") and unsure:
        return to("balance")
    return found
