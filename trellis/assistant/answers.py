# ruff: noqa: E501  (the answer templates are one line each, to read them as a whole)
"""Answers composed from templates filled ONLY by service calls on the asker's own firm.

Each composer takes ``Ctx`` (session, the firm, the user, the language, today) and returns
an :class:`Answer`: the text, the facts it used (name -> shown value) and the links (URL
paths of the pages the figures came from). The templates hold no figure of their own;
:mod:`trellis.assistant.grounding` checks that every number in the text is a fact.

Boundaries: the firm is the asker's own (the caller passes it from the session or the API
token, never from the question); trade-data answers (limit, grade, missing documents,
decline reasons) need the firm's ``trade_data`` consent; actions are only *proposed* as a
link to the page that performs them, where the page's own form, checks and confirmation
apply. Nothing here approves, prices or changes a limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from trellis.accounts import services as accounts
from trellis.errors import TrellisError
from trellis.ledger import cooling, financeable, lifecycle, statement
from trellis.ledger.models import Application, Loan, Product
from trellis.notifications.render import text as message_text
from trellis.protection import warnings
from trellis.scoring import limits, pricing
from trellis.scoring import service as scoring
from trellis.trade.models import Firm, Invoice
from trellis.vouchers.models import LIVE, Voucher, VoucherFragment


@dataclass
class Ctx:
    session: Session
    firm_id: int
    user_id: int | None = None
    birth_year: int | None = None
    lang: str = "zh"
    today: date = field(default_factory=date.today)
    needs_score: bool = False   # set when no stored score exists: the caller queues one
    role: str = "vendor"        # "vendor" or "anchor": whose pages the links point to
    slots: dict = field(default_factory=dict)   # what the question names (slots.extract)


@dataclass
class Answer:
    text: str
    facts: dict = field(default_factory=dict)
    links: list = field(default_factory=list)   # [{"label": ..., "href": ...}]
    action: dict = field(default_factory=dict)  # a proposed action: {"kind", "href", "label"}


def yuan(fen: int) -> str:
    """Fen -> ``12,345.67`` (yuan, two decimals)."""
    return f"{Decimal(int(fen)) / 100:,.2f}"


def pct(rate: Decimal) -> str:
    """A fraction -> ``3.45`` (percent, two decimals)."""
    return f"{Decimal(str(rate)) * 100:.2f}"


def bps(value: int) -> str:
    """*value* in basis points (1 bp = 0.01%) as a percentage with two decimals: 1250 -> "12.50"."""
    return f"{Decimal(int(value)) / 100:.2f}"


T: dict[str, dict[str, Any]] = {
    "zh": {
        "no_consent": "您尚未授权平台使用贸易数据，我无法查看您的额度、评级或资料情况。可在授权页面开通，随时可撤回。",
        "not_scored": "您的企业目前还不能评分（数据不足）：{why}。请上传订单、发票和付款记录。",
        "scoring": "您的企业还没有评分结果，系统正在为您评分，请稍后再问我。",
        "limit": "按最新评分（等级 {grade}），您的授信额度上限为 {limit} 元；目前在贷余额 {owed} 元。按您现有的合格已确权发票（{count} 张），现在可申请融资 {now} 元，实际可借以两者中较小的为准，可在申请页面核对。",
        "no_application": "您还没有被拒绝的申请。",
        "declined": "您的申请（编号 {app}）未通过，原因：{reasons}。",
        "no_loan": "您目前没有在贷的贷款。",
        "no_such_loan": "您的贷款中没有编号为 {loan} 的贷款。",
        "balance": "贷款 {loan} 目前未还余额 {owed} 元（本金 {principal} 元，利息 {interest} 元，费用 {fees} 元），到期日 {due}。",
        "balance_total": "您共有 {count} 笔在贷贷款，合计未还 {total} 元：{items}。",
        "balance_item": "贷款 {loan} 未还 {owed} 元",
        "no_voucher": "您目前没有持有中的凭证。",
        "vouchers": "您持有 {count} 张凭证：{items}。凭证到期日由开立的核心企业付款。",
        "voucher_item": "{code}，您持有 {amount} 元，到期日 {due}（{issuer}）",
        "next_repayment": "下一笔还款：贷款 {loan}，到期日 {due}，预计应还 {total} 元（本金 {principal} 元，利息 {interest} 元，费用 {fees} 元）。",
        "overdue_repayment": "贷款 {loan} 已逾期 {days} 天（到期日 {due}）。截至 {as_of} 应还 {total} 元（本金 {principal} 元，利息 {interest} 元，罚息 {penalty} 元，费用 {fees} 元）。逾期每天计收罚息，请尽快还款。",
        "early": "贷款 {loan} 可随时提前还款。截至 {as_of} 未还余额 {total} 元（本金 {principal} 元，利息 {interest} 元，费用 {fees} 元）。",
        "early_cooling": "该贷款在冷静期内：截至 {until}（含当日）还清尚未归还的本金 {payoff} 元，即免除利息和费用。",
        "cooling_yes": "贷款 {loan} 仍在冷静期内：截至 {until}（含当日）再还 {payoff} 元（尚未归还的本金），即免收利息和费用。",
        "cooling_no": "贷款 {loan} 没有可用的冷静期（冷静期只适用于首笔贷款，且须在截止日前全额还款）。",
        "cooling_rule": "冷静期：首笔贷款放款后 {days} 天内全额还款，无需理由，免收利息和费用（产品 {product}）。",
        "no_pending": "您没有待确权或被拒绝的发票。",
        "invoice_pending": "发票 {number}（{amount} 元）仍待 {buyer} 确权，确权后才能融资。",
        "invoice_rejected": "发票 {number}（{amount} 元）被 {buyer} 拒绝，理由：{reason}。",
        "no_invoice": "您的发票中没有编号为 {number} 的发票。",
        "invoice_state": "发票 {number}（{amount} 元）的状态是“{status}”，没有被拒绝。",
        "invoice_states": {"confirmed": "已确权"},
        "missing_none": "评分所需的数据目前是齐全的。",
        "missing": "评分还缺少以下数据：{why}。",
        "grade": "您的评级为 {grade}（评分 {score}）。扣分最多的方面：{reasons}。改善这些方面可以提升评级。",
        "rates": "当前一年期LPR为 {lpr}%，利率上限为 {cap}%。{product}的点差按等级：{spreads}；核心企业确权可优惠 {discount}%。",
        "rates_mine": "您的评级为 {grade}，{product}对 {grade} 级的点差为 {spread}%，所以您的年利率是一年期LPR {lpr}% 加 {spread}%，即 {rate}%；核心企业确权的发票可优惠 {discount}%，即 {confirmed}%（利率上限为 {cap}%）。各等级点差：{spreads}。",
        "spread_item": "{grade} 级 {spread}%",
        "fees": "{product}：手续费 {fee}%（最低 {fee_min} 元），逾期罚息利率为合同利率加收年化 {penalty}%，融资比例为发票金额的 {advance}%。",
        "consent": "您的授权：{states}。撤回后平台停止使用相应数据。",
        "apply": "可以。请在申请页面选择已确权的发票并确认提交；是否批准由评分和客户经理决定。",
        "repay": "贷款 {loan} 当前未还 {total} 元。请在还款页面确认金额后提交；只还到平台结算账户。",
        "withdraw": "撤回授权需在授权页面确认。撤回后平台将停止使用相应数据，部分服务（如评分和额度）将无法使用。",
        "greeting": "您好，我是智能客户经理。可以问我：能借多少、为什么被拒、下次还款、提前还款、冷静期、发票确权、缺少的材料、评级含义、利率费用、授权；也可以随时转人工。",
        "fraud": "这很可能是诈骗。我们在放款前绝不收取任何费用（保证金、解冻费、验资费等都不收），也不会让您转账到其他账户或向您索要验证码。请不要转账，先挂断电话。",
        "fraud_more": "另请记住：{titles}。",
        "anchor_none_pending": "目前没有等待贵司确权的发票。",
        "anchor_pending": "有 {count} 张供应商发票等待贵司确权，合计 {total} 元。最近的：{items}。",
        "anchor_none_owed": "贵司目前没有未付的已确权应付发票。",
        "anchor_owed": "贵司已确权、尚未付清的应付发票共 {count} 张，合计 {total} 元。其中已逾期 {overdue_count} 张，{overdue} 元；本月内（{today} 至 {month_end}）到期 {month_count} 张，{month} 元；以后到期 {later} 元。最早到期：{due}，发票 {number}（{seller}），未付 {amount} 元。",
        "supplier_private": "供应商的贷款、对银行的还款和欠款，以及银行对其的评分、评级和额度，都属于银行的客户保密信息，我不能告诉贵司任何一家供应商的这些情况（包括是否逾期、金额多少）。供应商风险是否上升，可在“风险预警”页面查看，那里只以文字说明；贵司自己的应付账款和待确权发票可以问我。",
        "anchor_vendor_only": "这是供应商（卖方）的问题；贵司作为核心企业可以问我：哪些发票等待贵司确权、贵司应付多少以及何时到期。",
        "anchor_greeting": "您好，我是智能客户经理。可以问我：哪些供应商发票等待贵司确权、贵司应付多少及何时到期、利率和费用规则；也可以随时转人工。",
        "handover": "已为您转接客户经理，他会在本对话中回复您。",
        "unsure": "这个问题我没有把握回答，已转给您的客户经理。",
        "on": "已授权", "off": "未授权",
        "purposes": {"trade_data": "交易数据", "credit_query": "征信查询", "bank_account": "银行账户数据"},
        "links": {"apply": "申请融资", "loan": "贷款详情", "vouchers": "我的凭证", "repay": "还款", "consent": "数据授权",
                  "trade": "发票详情", "upload": "上传资料", "application": "申请详情",
                  "home": "企业首页", "bank": "银行账户",
                  "queue": "待确权队列", "payables": "应付账款", "anchor_home": "核心企业首页",
                  "early_warning": "风险预警"},
    },
    "en": {
        "no_consent": "You have not consented to the platform using your trade data, so I cannot look at your limit, grade or documents. You can consent on the consent page and withdraw at any time.",
        "not_scored": "Your firm cannot be scored yet (not enough data): {why}. Please upload orders, invoices and payments.",
        "scoring": "Your firm has no score yet; it is being scored now. Please ask me again in a minute.",
        "limit": "On your latest score (grade {grade}) your credit limit is {limit} yuan; you currently owe {owed} yuan. Against your eligible confirmed invoices ({count}) you can apply for {now} yuan now; what you can borrow is the smaller of the two, as the application page shows.",
        "no_application": "You have no declined application.",
        "declined": "Your application (no. {app}) was declined: {reasons}.",
        "no_loan": "You have no loan outstanding.",
        "no_such_loan": "None of your loans has the number {loan}.",
        "balance": "Loan {loan} has {owed} yuan outstanding (principal {principal} yuan, interest {interest} yuan, fees {fees} yuan), due {due}.",
        "balance_total": "You have {count} live loans, {total} yuan outstanding in all: {items}.",
        "balance_item": "loan {loan}, {owed} yuan",
        "no_voucher": "You hold no live voucher.",
        "vouchers": "You hold {count} vouchers: {items}. The anchor that issued a voucher pays it on its maturity date.",
        "voucher_item": "{code}, {amount} yuan held by you, due {due} ({issuer})",
        "next_repayment": "Next repayment: loan {loan}, due {due}, about {total} yuan (principal {principal} yuan, interest {interest} yuan, fees {fees} yuan).",
        "overdue_repayment": "Loan {loan} is {days} days overdue (due {due}). As of {as_of} you owe {total} yuan (principal {principal} yuan, interest {interest} yuan, penalty interest {penalty} yuan, fees {fees} yuan). Penalty interest runs every day it stays overdue: please repay as soon as you can.",
        "early": "Loan {loan} can be repaid early at any time. Outstanding as of {as_of}: {total} yuan (principal {principal} yuan, interest {interest} yuan, fees {fees} yuan).",
        "early_cooling": "It is in its cooling-off period: repay the {payoff} yuan of principal still unpaid by {until} (inclusive) and interest and fees are waived.",
        "cooling_yes": "Loan {loan} is still in its cooling-off period: repay {payoff} yuan more (the principal still unpaid) by {until} (inclusive) and pay no interest or fees.",
        "cooling_no": "Loan {loan} has no cooling-off period open (it applies to a first loan repaid in full before its end date).",
        "cooling_rule": "Cooling-off: a first loan repaid in full within {days} days of pay-out costs no interest or fees, no reason needed (product {product}).",
        "no_pending": "You have no invoice waiting for confirmation or rejected.",
        "invoice_pending": "Invoice {number} ({amount} yuan) is still waiting for {buyer} to confirm it; it can be financed once confirmed.",
        "invoice_rejected": "Invoice {number} ({amount} yuan) was rejected by {buyer}: {reason}.",
        "no_invoice": "None of your invoices has the number {number}.",
        "invoice_state": "Invoice {number} ({amount} yuan) is {status}; it was not rejected.",
        "invoice_states": {"confirmed": "confirmed"},
        "missing_none": "The data the score needs is complete.",
        "missing": "The score is missing: {why}.",
        "grade": "Your grade is {grade} (score {score}). Where you lost most points: {reasons}. Improving these raises your grade.",
        "rates": "The one-year LPR is {lpr}% and the rate cap {cap}%. {product} spreads by grade: {spreads}; an anchor-confirmed invoice gets {discount}% off.",
        "rates_mine": "Your grade is {grade}, and {product} adds a spread of {spread}% for grade {grade}: your annual rate is the one-year LPR {lpr}% plus {spread}%, {rate}%; on an anchor-confirmed invoice {discount}% comes off, {confirmed}% (the rate cap is {cap}%). Spreads by grade: {spreads}.",
        "spread_item": "{grade} +{spread}%",
        "fees": "{product}: fee {fee}% (at least {fee_min} yuan), past the due date the contract rate plus a penalty of {penalty}% a year, advance rate {advance}% of the invoice.",
        "consent": "Your consents: {states}. After a withdrawal the platform stops using that data.",
        "apply": "Sure. Choose confirmed invoices on the application page and confirm there; approval is decided by the score and your RM.",
        "repay": "Loan {loan} has {total} yuan outstanding. Confirm the amount on the repayment page; pay only to the platform's settlement account.",
        "withdraw": "Withdrawing consent is confirmed on the consent page. The platform then stops using that data and some services (score, limit) stop working.",
        "greeting": "Hello, I am the AI customer manager. Ask me how much you can borrow, why you were declined, your next repayment, early repayment, cooling-off, invoice confirmation, missing documents, your grade, rates and fees, or consent; or ask for a person at any time.",
        "fraud": "This is very likely a scam. We never charge anything before a loan is paid out (no deposit, unfreezing or verification fee), never ask you to transfer money to another account and never ask for your codes. Do not pay; hang up.",
        "fraud_more": "Remember too: {titles}.",
        "anchor_none_pending": "No invoice is waiting for your confirmation.",
        "anchor_pending": "{count} supplier invoices are waiting for your confirmation, {total} yuan in all. The latest: {items}.",
        "anchor_none_owed": "You have no confirmed invoice left to pay.",
        "anchor_owed": "You owe {total} yuan on {count} confirmed invoices: {overdue_count} overdue, {overdue} yuan; {month_count} due this month ({today} to {month_end}), {month} yuan; {later} yuan due later. The first due is invoice {number} ({seller}) on {due}, {amount} yuan unpaid.",
        "supplier_private": "A supplier's loans, what it repays or owes the bank, and the bank's score, grade and limit for it are the bank's confidential customer information: I cannot tell you any of them for any supplier (not whether it is overdue, nor any amount). Whether a supplier's risk rose is on the Early warning page, in words only; you can ask me about your own payables and the invoices waiting for your confirmation.",
        "anchor_vendor_only": "That is a vendor's (seller's) question; as an anchor you can ask me what is waiting for your confirmation and what you owe and when.",
        "anchor_greeting": "Hello, I am the AI customer manager. Ask me which supplier invoices wait for your confirmation, what you owe and when, or the rate and fee rules; or ask for a person at any time.",
        "handover": "I have passed this to your relationship manager, who will answer in this conversation.",
        "unsure": "I am not sure I can answer that correctly, so I have passed it to your relationship manager.",
        "on": "given", "off": "not given",
        "purposes": {"trade_data": "trade data", "credit_query": "credit queries", "bank_account": "bank account data"},
        "links": {"apply": "Apply for financing", "loan": "Loan details", "vouchers": "Vouchers", "repay": "Repay",
                  "consent": "Data consent", "trade": "Invoice", "upload": "Upload data",
                  "application": "Application", "home": "Firm overview", "bank": "Bank account",
                  "queue": "Confirmation queue", "payables": "Payables", "anchor_home": "Anchor desk",
                  "early_warning": "Early warning"},
    },
}


def _t(ctx: Ctx) -> dict:
    return T["zh" if ctx.lang.startswith("zh") else "en"]


def _link(ctx: Ctx, key: str, href: str) -> dict:
    return {"label": _t(ctx)["links"][key], "href": href}


def _consented(ctx: Ctx) -> bool:
    return accounts.has_consent(session=ctx.session, firm_id=ctx.firm_id, purpose="trade_data")


def _no_consent(ctx: Ctx) -> Answer:
    return Answer(_t(ctx)["no_consent"], links=[_link(ctx, "consent", "/vendor/consent")])


def _score(ctx: Ctx):
    """The firm's latest stored score. Scoring takes seconds, so none is computed here:
    without a stored score ``ctx.needs_score`` asks the caller to queue one. A
    pre-assessment (scored without consent) is never used for credit answers."""
    result = scoring.latest(session=ctx.session, firm_id=ctx.firm_id)
    if result is None or result.pre_assessment:
        ctx.needs_score = True
        return None
    return result


def _reasons(ctx: Ctx, reasons, n: int = 3) -> str:
    key = "zh" if ctx.lang.startswith("zh") else "en"
    texts = [(r.get(key) if isinstance(r, dict) else getattr(r, key)) for r in reasons[:n]]
    return "；".join(t for t in texts if t) if key == "zh" else "; ".join(t for t in texts if t)


def _insufficient(ctx: Ctx, result) -> str:
    items = (result.insufficient_zh if ctx.lang.startswith("zh") and result.insufficient_zh
             else result.insufficient_reasons)
    return "；".join(items) if ctx.lang.startswith("zh") else "; ".join(items)


def _live_loans(ctx: Ctx) -> list:
    return list(ctx.session.exec(select(Loan).where(
        col(Loan.firm_id) == ctx.firm_id, col(Loan.status).in_(["pending", "active", "overdue"]))
        .order_by(col(Loan.due_date), col(Loan.id))))


def _statement(ctx: Ctx, loan):
    return statement.build(session=ctx.session, loan_id=loan.id)


def _product(ctx: Ctx, code: str | None = None):
    query = select(Product).where(col(Product.active).is_(True))
    if code:
        query = query.where(Product.code == code)
    return ctx.session.exec(query.order_by(col(Product.id))).first()


def _usable_score(ctx: Ctx):
    """The firm's score, or the answer to give instead: ask for consent first, say it is
    being scored, or say why it cannot be scored (with the upload link)."""
    if not _consented(ctx):
        return _no_consent(ctx)
    result = _score(ctx)
    t = _t(ctx)
    if result is None:
        return Answer(t["scoring"])
    if result.insufficient or result.grade is None:
        return Answer(t["not_scored"].format(why=_insufficient(ctx, result)),
                      links=[_link(ctx, "upload", "/vendor/trade/upload")])
    return result


def limit(ctx: Ctx) -> Answer:
    """The vendor's current credit limit in yuan and what binds it (receivables, inflow, vendor,
    anchor or cluster cap); asks for consent first when trade data may not be used."""
    result = _usable_score(ctx)
    if isinstance(result, Answer):
        return result
    t = _t(ctx)
    info = limits.explain_limit(session=ctx.session, firm_id=ctx.firm_id, result=result,
                                as_of=ctx.today)
    owed = sum(loan.outstanding_fen for loan in _live_loans(ctx))
    # reader 11, F14: the limit alone read as what can be borrowed today; the eligible
    # invoices bound that too (the apply page's figure, from the same ledger rule)
    product = _product(ctx, "RF-STD") or _product(ctx)
    now = financeable.financeable_now(session=ctx.session, firm_id=ctx.firm_id,
                                      product=product, as_of=ctx.today)
    facts = {"grade": result.grade, "limit": yuan(info["limit_fen"]), "owed": yuan(owed),
             "count": str(now.count), "now": yuan(now.amount_fen)}
    return Answer(t["limit"].format(**facts), facts,
                  [_link(ctx, "apply", "/vendor/apply"), _link(ctx, "loan", "/vendor/loans")],
                  {"kind": "apply", "href": "/vendor/apply"})


def declined(ctx: Ctx) -> Answer:
    """Why the vendor's latest declined application was declined: the reasons the ledger
    recorded with that decision (an automatic decline's messages or the RM's own words),
    never reasons rebuilt from the score. Reader 11, F27: an application declined because
    no price fitted under the legal cap was explained by its score's weakest factors."""
    app = ctx.session.exec(select(Application).where(
        Application.firm_id == ctx.firm_id, Application.status == "declined")
        .order_by(col(Application.id).desc())).first()
    t = _t(ctx)
    if app is None:
        return Answer(t["no_application"], links=[_link(ctx, "apply", "/vendor/applications")])
    if not _consented(ctx):
        return _no_consent(ctx)
    # Decline reasons are stored messages (a template with parameters, or an en/zh pair)
    # or an RM's words: rendered in the reader's language, never joined as objects.
    sep = "；" if ctx.lang.startswith("zh") else "; "
    reasons = sep.join(text for text in (
        message_text(r, ctx.lang).strip().rstrip("。.") for r in app.decline_reasons or [])
        if text)
    facts = {"app": str(app.id), "reasons": reasons or "-"}
    href = f"/vendor/applications/{app.id}"
    return Answer(t["declined"].format(**facts), facts, [_link(ctx, "application", href)])


def _loan_facts(ctx: Ctx, loan, st) -> dict:
    bal = st.outstanding
    return {"loan": str(loan.id), "as_of": st.as_of.isoformat(),
            "total": yuan(bal.total_fen), "principal": yuan(bal.principal_fen),
            "interest": yuan(bal.interest_fen + bal.penalty_fen), "fees": yuan(bal.fees_fen)}


def next_repayment(ctx: Ctx) -> Answer:
    """The next repayment of the vendor's oldest live loan: due date and amount in yuan."""
    t = _t(ctx)
    loans = [loan for loan in _live_loans(ctx) if loan.status in ("active", "overdue")]
    if not loans:
        return Answer(t["no_loan"], links=[_link(ctx, "loan", "/vendor/loans")])
    loan = loans[0]
    st = _statement(ctx, loan)
    if not st.schedule:
        return Answer(t["no_loan"], links=[_link(ctx, "loan", "/vendor/loans")])
    days = lifecycle.dpd(loan, st.as_of)
    if days > 0:  # past its due date: say so, with the penalty interest apart
        bal = st.outstanding
        facts = {"loan": str(loan.id), "days": str(days), "due": loan.due_date.isoformat(),
                 "as_of": st.as_of.isoformat(), "total": yuan(bal.total_fen),
                 "principal": yuan(bal.principal_fen), "interest": yuan(bal.interest_fen),
                 "penalty": yuan(bal.penalty_fen), "fees": yuan(bal.fees_fen)}
        return Answer(t["overdue_repayment"].format(**facts), facts,
                      [_link(ctx, "loan", f"/vendor/loans/{loan.id}")])
    due = st.schedule[0]
    facts = {"loan": str(loan.id), "due": due["date"].isoformat(), "total": yuan(due["total_fen"]),
             "principal": yuan(due["principal_fen"]), "interest": yuan(due["interest_fen"]),
             "fees": yuan(due["fees_fen"])}
    return Answer(t["next_repayment"].format(**facts), facts,
                  [_link(ctx, "loan", f"/vendor/loans/{loan.id}")])


def balance(ctx: Ctx) -> Answer:
    """What is owed now: on the loan the question names (its number in ``ctx.slots``), else
    on each live loan, in yuan, as the loan page shows it (``lifecycle.owed_by_borrower``).
    Reader 11, F5: "第13号贷款现在还欠多少" was answered with the credit limit."""
    t = _t(ctx)
    wanted = ctx.slots.get("loan_id")
    if wanted:
        loan = ctx.session.get(Loan, wanted)
        if loan is None or loan.firm_id != ctx.firm_id:   # another firm's is not said to exist
            return Answer(t["no_such_loan"].format(loan=wanted), {"loan": str(wanted)},
                          [_link(ctx, "loan", "/vendor/loans")])
        loans = [loan]
    else:
        loans = [loan for loan in _live_loans(ctx) if loan.status in ("active", "overdue")]
    if not loans:
        return Answer(t["no_loan"], links=[_link(ctx, "loan", "/vendor/loans")])
    if len(loans) == 1:
        loan = loans[0]
        facts = {"loan": str(loan.id), "owed": yuan(lifecycle.owed_by_borrower(loan)),
                 "principal": yuan(loan.principal_fen), "interest": yuan(loan.interest_fen),
                 "fees": yuan(loan.fees_fen),
                 "due": loan.due_date.isoformat() if loan.due_date else "-"}
        return Answer(t["balance"].format(**facts), facts,
                      [_link(ctx, "loan", f"/vendor/loans/{loan.id}")])
    sep = "；" if ctx.lang.startswith("zh") else "; "
    items = sep.join(t["balance_item"].format(loan=loan.id, owed=yuan(
        lifecycle.owed_by_borrower(loan))) for loan in loans)
    facts = {"count": str(len(loans)), "items": items,
             "total": yuan(sum(lifecycle.owed_by_borrower(loan) for loan in loans))}
    return Answer(t["balance_total"].format(**facts), facts,
                  [_link(ctx, "loan", f"/vendor/loans/{loan.id}") for loan in loans[:3]])


def vouchers(ctx: Ctx) -> Answer:
    """The vouchers the vendor holds a live part of (held or pledged), soonest maturity
    first: the voucher's code, the amount held in yuan, its maturity date and its issuer.
    Reader 11, F5/F27: "我的凭证什么时候到期" was answered with a loan's repayment."""
    t = _t(ctx)
    rows = ctx.session.exec(
        select(Voucher, func.sum(VoucherFragment.amount_fen), col(Firm.name))
        .join(VoucherFragment, col(VoucherFragment.voucher_id) == col(Voucher.id))
        .join(Firm, col(Firm.id) == col(Voucher.issuer_id))
        .where(VoucherFragment.holder_id == ctx.firm_id, col(VoucherFragment.status).in_(
            [str(s) for s in LIVE]))
        .group_by(col(Voucher.id), col(Firm.name))
        .order_by(col(Voucher.maturity_date), col(Voucher.id))).all()
    links = [_link(ctx, "vouchers", "/vendor/vouchers")]
    if not rows:
        return Answer(t["no_voucher"], links=links)
    sep = "；" if ctx.lang.startswith("zh") else "; "
    items = sep.join(t["voucher_item"].format(code=v.code, amount=yuan(int(held)),
                                              due=v.maturity_date.isoformat(), issuer=issuer)
                     for v, held, issuer in rows[:3])
    facts = {"count": str(len(rows)), "items": items}
    return Answer(t["vouchers"].format(**facts), facts,
                  [_link(ctx, "vouchers", f"/vendor/vouchers/{v.id}") for v, _h, _i in rows[:3]]
                  + links)


def early_repayment(ctx: Ctx) -> Answer:
    """What repaying the oldest live loan in full today costs (principal, interest and fees in yuan)
    and whether the cooling-off period still applies."""
    t = _t(ctx)
    loans = [loan for loan in _live_loans(ctx) if loan.status in ("active", "overdue")]
    if not loans:
        return Answer(t["no_loan"], links=[_link(ctx, "loan", "/vendor/loans")])
    loan = loans[0]
    st = _statement(ctx, loan)
    facts = _loan_facts(ctx, loan, st)
    text = t["early"].format(**facts)
    window = _cooling_window(ctx, loan)
    if window is not None:
        facts["until"], facts["payoff"] = window
        text += t["early_cooling"].format(**facts)
    href = f"/vendor/loans/{loan.id}/repay"
    return Answer(text, facts, [_link(ctx, "loan", f"/vendor/loans/{loan.id}"),
                                _link(ctx, "repay", href)],
                  {"kind": "repay", "href": href})


def _cooling_window(ctx: Ctx, loan) -> tuple[str, str] | None:
    """(the window's last day, what is still to pay in it for the waiver, in yuan) while
    *loan*'s cooling-off window is open on ctx.today, else None. Both are the ledger's
    own figures (:mod:`trellis.ledger.cooling`): the principal lent less what was paid
    in the window (reader 12, G20: "冷静期还要还多少才能免息？" was told no amount)."""
    payoff = cooling.payoff_in_window(session=ctx.session, loan=loan, on=ctx.today)
    until = cooling.window_end(loan)
    if payoff is None or until is None:
        return None
    return until.isoformat(), yuan(payoff)


def cooling_off(ctx: Ctx) -> Answer:
    """Whether the oldest live loan is still in its cooling-off period: the day it ends and
    what is still to repay by then (yuan) for the waiver of interest and fees."""
    t = _t(ctx)
    loans = [loan for loan in _live_loans(ctx) if loan.status in ("active", "overdue")]
    if loans:
        loan = loans[0]
        window = _cooling_window(ctx, loan)
        if window is not None:
            facts = {"loan": str(loan.id), "until": window[0], "payoff": window[1]}
            return Answer(t["cooling_yes"].format(**facts), facts,
                          [_link(ctx, "repay", f"/vendor/loans/{loan.id}/repay")],
                          {"kind": "repay", "href": f"/vendor/loans/{loan.id}/repay"})
        facts = {"loan": str(loan.id)}
        return Answer(t["cooling_no"].format(**facts), facts,
                      [_link(ctx, "loan", f"/vendor/loans/{loan.id}")])
    product = _product(ctx)
    if product is None:
        return Answer(t["no_loan"])
    name = product.name_zh if ctx.lang.startswith("zh") else product.name
    facts = {"days": str(product.cooling_off_days), "product": name}
    return Answer(t["cooling_rule"].format(**facts), facts, [_link(ctx, "apply", "/vendor/apply")])


def invoice_unconfirmed(ctx: Ctx) -> Answer:
    """The vendor's invoices the anchor has not confirmed (pending) or rejected, with the anchor's
    name and a link to the trade page."""
    t = _t(ctx)
    query = select(Invoice, col(Firm.name)).join(Firm, col(Firm.id) == col(Invoice.buyer_id)).where(
        Invoice.seller_id == ctx.firm_id)
    number = ctx.slots.get("document")
    if number:   # the invoice the question names (reader 11, F5): its own status and reason
        # as the firm typed it, else in another case (r12-0014 for R12-0014)
        row = ctx.session.exec(query.where(Invoice.number == number)).first() \
            or ctx.session.exec(query.where(func.upper(col(Invoice.number))
                                            == number.upper())).first()
        if row is None:
            return Answer(t["no_invoice"].format(number=number), {"number": number},
                          [_link(ctx, "trade", "/vendor/trade")])
        if row[0].status not in ("pending", "rejected"):
            inv = row[0]
            facts = {"number": inv.number, "amount": yuan(inv.amount_fen),
                     "status": t["invoice_states"].get(inv.status, inv.status)}
            return Answer(t["invoice_state"].format(**facts), facts,
                          [_link(ctx, "trade", f"/vendor/trade/invoice/{inv.id}")])
        rows = [row]
    else:
        rows = list(ctx.session.exec(query.where(col(Invoice.status).in_(["pending", "rejected"]))
                                     .order_by(col(Invoice.id).desc()).limit(3)).all())
    if not rows:
        return Answer(t["no_pending"], links=[_link(ctx, "trade", "/vendor/trade")])
    parts, facts, links = [], {}, []
    for i, (inv, buyer) in enumerate(rows):
        f = {"number": inv.number, "amount": yuan(inv.amount_fen), "buyer": buyer,
             "reason": inv.reject_reason or "-"}
        key = "invoice_pending" if inv.status == "pending" else "invoice_rejected"
        parts.append(t[key].format(**f))
        facts.update({f"{k}_{i}": v for k, v in f.items()})
        links.append(_link(ctx, "trade", f"/vendor/trade/invoice/{inv.id}"))
    return Answer(" ".join(parts), facts, links)


def missing_documents(ctx: Ctx) -> Answer:
    """Which kinds of data (tax, utilities, confirmations...) the vendor could add to be scored more
    fully; asks for consent first."""
    if not _consented(ctx):
        return _no_consent(ctx)
    t = _t(ctx)
    result = _score(ctx)
    links = [_link(ctx, "upload", "/vendor/trade/upload")]
    if result is None:
        return Answer(t["scoring"], links=links)
    if not result.insufficient:
        return Answer(t["missing_none"], links=links)
    facts = {"why": _insufficient(ctx, result)}
    return Answer(t["missing"].format(**facts), facts, links)


def grade(ctx: Ctx) -> Answer:
    """The vendor's current grade and score and the factors that weigh most on it; asks for consent
    first."""
    result = _usable_score(ctx)
    if isinstance(result, Answer):
        return result
    t = _t(ctx)
    facts = {"grade": result.grade, "score": str(result.score),
             "reasons": _reasons(ctx, result.reasons) or "-"}
    return Answer(t["grade"].format(**facts), facts, [_link(ctx, "home", "/vendor/")])


def rates(ctx: Ctx) -> Answer:
    """The standard product's interest: base rate plus the spread per grade (percent a
    year); with the firm's grade (consent given, a stored score), which spread applies to
    it and the rate that makes (reader 11, F5: "我的利率为什么是5.5%" did not say)."""
    t = _t(ctx)
    product = _product(ctx, "RF-STD") or _product(ctx)
    name = product.name_zh if ctx.lang.startswith("zh") else product.name
    sep = "、" if ctx.lang.startswith("zh") else ", "
    table = product.spreads_bps or {}
    spreads = sep.join(t["spread_item"].format(grade=g, spread=bps(v))
                       for g, v in sorted(table.items()))
    facts = {"lpr": pct(pricing.lpr(session=ctx.session, as_of=ctx.today)),
             "cap": pct(pricing.legal_cap(session=ctx.session, as_of=ctx.today)),
             "product": name, "spreads": spreads or "-",
             "discount": bps(product.confirmed_discount_bps)}
    links = [_link(ctx, "apply", "/vendor/apply")]
    result = _score(ctx) if ctx.role == "vendor" and _consented(ctx) else None
    if result is not None and result.grade in table and not result.insufficient:
        def rate(confirmed: bool) -> str:
            return pct(pricing.quote_rate(
                session=ctx.session, grade=result.grade, anchor_confirmed=confirmed,
                spreads_bps=table, confirmed_discount_bps=product.confirmed_discount_bps,
                as_of=ctx.today))
        try:
            facts.update(grade=result.grade, spread=bps(table[result.grade]),
                         rate=rate(False), confirmed=rate(True))
        except TrellisError:   # the grade's rate is above the cap: the table alone
            return Answer(t["rates"].format(**facts), facts, links)
        return Answer(t["rates_mine"].format(**facts), facts, links)
    return Answer(t["rates"].format(**facts), facts, links)


def fees(ctx: Ctx) -> Answer:
    """The standard product's fee (percent, with its minimum in yuan), penalty rate and advance
    rate."""
    t = _t(ctx)
    product = _product(ctx, "RF-STD") or _product(ctx)
    name = product.name_zh if ctx.lang.startswith("zh") else product.name
    facts = {"product": name, "fee": bps(product.fee_bps), "fee_min": yuan(product.fee_min_fen),
             "penalty": bps(product.penalty_rate_bps), "advance": bps(product.advance_rate_bps)}
    return Answer(t["fees"].format(**facts), facts, [_link(ctx, "apply", "/vendor/apply")])


def consent(ctx: Ctx) -> Answer:
    """Each consent purpose and whether the vendor's firm has granted it, with a link to change it."""
    t = _t(ctx)
    zh = ctx.lang.startswith("zh")
    sep, colon = ("；", "：") if zh else ("; ", ": ")   # a full-width colon after Chinese
    states = sep.join(
        f"{t['purposes'][p]}{colon}{t['on'] if accounts.has_consent(session=ctx.session, firm_id=ctx.firm_id, purpose=p) else t['off']}"  # noqa: E501
        for p in accounts.CONSENT_PURPOSES)
    return Answer(t["consent"].format(states=states), {"states": states},
                  [_link(ctx, "consent", "/vendor/consent")])


def apply(ctx: Ctx) -> Answer:
    """How to apply for financing, with the application page as the action."""
    return Answer(_t(ctx)["apply"], links=[_link(ctx, "apply", "/vendor/apply")],
                  action={"kind": "apply", "href": "/vendor/apply"})


def repay(ctx: Ctx) -> Answer:
    """How to repay the oldest live loan: the amount due in yuan and the repayment page."""
    t = _t(ctx)
    loans = [loan for loan in _live_loans(ctx) if loan.status in ("active", "overdue")]
    if not loans:
        return Answer(t["no_loan"], links=[_link(ctx, "loan", "/vendor/loans")])
    loan = loans[0]
    facts = _loan_facts(ctx, loan, _statement(ctx, loan))
    href = f"/vendor/loans/{loan.id}/repay"
    return Answer(t["repay"].format(**facts), facts, [_link(ctx, "repay", href)],
                  {"kind": "repay", "href": href})


def withdraw_consent(ctx: Ctx) -> Answer:
    """How to withdraw a consent, with the consent page as the action."""
    return Answer(_t(ctx)["withdraw"], links=[_link(ctx, "consent", "/vendor/consent")],
                  action={"kind": "withdraw_consent", "href": "/vendor/consent"})


def greeting(ctx: Ctx) -> Answer:
    """The assistant's greeting and what it can be asked."""
    return Answer(_t(ctx)["greeting"])


def fraud_warnings(ctx: Ctx) -> Answer:
    """A chat answer to a possible scam: the key sentence first (nothing is ever charged
    before a pay-out; do not pay), then the titles of the segment-tailored warnings
    (trellis.protection) for this person and firm. Only the titles: the warnings' bodies
    are written for the page they appear on ("本页显示的账户…", "本报价中") and read as
    pasted in a chat (reader 11, F5)."""
    firm = ctx.session.get(Firm, ctx.firm_id)
    shown = []
    for moment in ("repayment", "bank_change", "offer", "registration"):
        shown += warnings.for_moment(session=ctx.session, moment=moment,
                                     birth_year=ctx.birth_year,
                                     founded_on=firm.founded_on if firm else None,
                                     lang=ctx.lang, today=ctx.today)
    t = _t(ctx)
    seen, titles = set(), []
    for w in shown:
        if w.code not in seen and w.title not in titles:
            seen.add(w.code)
            titles.append(w.title.strip().rstrip("。."))
    sep = "；" if ctx.lang.startswith("zh") else "; "
    text = t["fraud"]
    facts = {}
    if titles:
        facts["titles"] = sep.join(titles[:3])
        text += (" " if not ctx.lang.startswith("zh") else "") + t["fraud_more"].format(**facts)
    link = (_link(ctx, "anchor_home", "/anchor/") if ctx.role == "anchor"
            else _link(ctx, "bank", "/vendor/bank-account"))
    return Answer(text, facts, [link])


COMPOSERS = {
    "limit": limit, "declined": declined, "next_repayment": next_repayment,
    "early_repayment": early_repayment, "cooling_off": cooling_off,
    "invoice_unconfirmed": invoice_unconfirmed, "missing_documents": missing_documents,
    "grade": grade, "rates": rates, "fees": fees, "consent": consent, "apply": apply,
    "repay": repay, "withdraw_consent": withdraw_consent, "greeting": greeting,
    "balance": balance, "voucher": vouchers,
}


def anchor_pending(ctx: Ctx) -> Answer:
    """For an anchor clerk: suppliers' invoices waiting for the anchor's confirmation."""
    t = _t(ctx)
    where = (Invoice.buyer_id == ctx.firm_id, Invoice.status == "pending")
    count, total = ctx.session.exec(select(func.count(col(Invoice.id)),
                                           func.coalesce(func.sum(Invoice.amount_fen), 0))
                                    .where(*where)).one()
    links = [_link(ctx, "queue", "/anchor/queue")]
    if not count:
        return Answer(t["anchor_none_pending"], links=links)
    rows = ctx.session.exec(select(Invoice, Firm.name)
                            .join(Firm, col(Firm.id) == Invoice.seller_id)
                            .where(*where).order_by(col(Invoice.id).desc()).limit(3)).all()
    sep = "；" if ctx.lang.startswith("zh") else "; "
    items = sep.join(f"{inv.number} {seller} {yuan(inv.amount_fen)}" for inv, seller in rows)
    facts = {"count": str(count), "total": yuan(total), "items": items}
    return Answer(t["anchor_pending"].format(**facts), facts, links)


def anchor_owed(ctx: Ctx) -> Answer:
    """For an anchor clerk: what the anchor owes on confirmed invoices, and when."""
    t = _t(ctx)
    where = (Invoice.buyer_id == ctx.firm_id, Invoice.status == "confirmed",
             Invoice.amount_fen > Invoice.paid_fen)
    count, total = ctx.session.exec(select(
        func.count(col(Invoice.id)),
        func.coalesce(func.sum(Invoice.amount_fen - Invoice.paid_fen), 0)).where(*where)).one()
    links = [_link(ctx, "payables", "/anchor/payables")]
    if not count:
        return Answer(t["anchor_none_owed"], links=links)
    first = ctx.session.exec(select(Invoice, Firm.name)
                             .join(Firm, col(Firm.id) == Invoice.seller_id).where(*where)
                             .order_by(col(Invoice.due_date), col(Invoice.id))).first()
    if first is None:  # gone since the count
        return Answer(t["anchor_none_owed"], links=links)
    inv, seller = first
    # reader 10, R15: "本月还有多少应付账款要付" was answered with every open invoice, some
    # overdue for a year: the sum is split by when it falls due
    month_end = (ctx.today.replace(day=28) + timedelta(days=4)).replace(day=1) \
        - timedelta(days=1)
    unpaid = Invoice.amount_fen - Invoice.paid_fen
    overdue_n, overdue, month_n, month = ctx.session.exec(select(
        func.count(case((col(Invoice.due_date) < ctx.today, 1))),
        func.coalesce(func.sum(case((col(Invoice.due_date) < ctx.today, unpaid), else_=0)), 0),
        func.count(case((col(Invoice.due_date).between(ctx.today, month_end), 1))),
        func.coalesce(func.sum(case((col(Invoice.due_date).between(ctx.today, month_end),
                                     unpaid), else_=0)), 0)).where(*where)).one()
    facts = {"count": str(count), "total": yuan(total), "due": inv.due_date.isoformat(),
             "number": inv.number, "seller": seller, "amount": yuan(inv.amount_fen - inv.paid_fen),
             "overdue_count": str(overdue_n), "overdue": yuan(overdue),
             "month_count": str(month_n), "month": yuan(month), "today": ctx.today.isoformat(),
             "month_end": month_end.isoformat(), "later": yuan(total - overdue - month)}
    return Answer(t["anchor_owed"].format(**facts), facts, links)


def supplier_private(ctx: Ctx) -> Answer:
    """For an anchor clerk who asks about a supplier's loans, debts to the bank, score,
    grade or limit: that these are the bank's confidential customer information (see
    :mod:`trellis.scoring.disclosure`), with no figure, and where the anchor may read
    whether a supplier's risk rose."""
    t = _t(ctx)
    return Answer(t["supplier_private"], {}, [_link(ctx, "early_warning", "/anchor/early-warning"),
                                               _link(ctx, "payables", "/anchor/payables")])


COMPOSERS.update({"anchor_pending": anchor_pending, "anchor_owed": anchor_owed,
                  "supplier_private": supplier_private})
# What an anchor clerk may ask of the vendor's answers: the product rules only.
ANCHOR_SHARED = ("rates", "fees", "greeting", "anchor_pending", "anchor_owed",
                 "supplier_private")


def compose(intent: str, ctx: Ctx) -> Answer:
    """The answer for an answered intent (KeyError for a handover intent). An anchor
    clerk gets the anchor's answers, with links to the anchor's pages only."""
    if ctx.role != "anchor":
        if intent in ("anchor_pending", "anchor_owed"):
            intent = "invoice_unconfirmed" if intent == "anchor_pending" else "next_repayment"
        return COMPOSERS[intent](ctx)
    t = _t(ctx)
    home = _link(ctx, "anchor_home", "/anchor/")
    if intent == "greeting":
        return Answer(t["anchor_greeting"], links=[_link(ctx, "queue", "/anchor/queue"),
                                                   _link(ctx, "payables", "/anchor/payables")])
    if intent not in ANCHOR_SHARED:
        return Answer(t["anchor_vendor_only"], links=[_link(ctx, "queue", "/anchor/queue"),
                                                      _link(ctx, "payables", "/anchor/payables")])
    answer = COMPOSERS[intent](ctx)
    answer.links = [link for link in answer.links if link["href"].startswith("/anchor/")] or [home]
    answer.action = {}
    return answer
