# ruff: noqa: E501  (the message templates are one line each, to read them as a whole)
"""Actions in the chat: the assistant proposes, the user confirms, and only then the same
service the page uses is called, with the page's permission (a vendor of the firm).

- :func:`propose` builds a proposal (what exactly would happen, every figure from the
  records) for ``apply`` (file an application on the firm's eligible confirmed invoices;
  the ledger decides it, as on the page), ``repay`` (record a repayment into Trellis's
  settlement account) and ``withdraw_consent``. No proposal is made when the action is
  not possible (no consent, no live loan, nothing to withdraw) or the asker is not a
  vendor: the answer alone stands.
- :func:`confirm` claims the proposal with one conditional UPDATE (``proposed`` ->
  ``confirming``), re-checks firm and role, calls the ledger / accounts service and writes
  the outcome into the thread. :func:`cancel` drops it. A proposal not confirmed within
  :data:`VALID_FOR` expires; a newer proposal in the same conversation supersedes it.

Nothing here approves, prices or changes a limit: an application is filed and decided by
``ledger.origination.apply`` exactly as from the application page.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from trellis import clock
from trellis.accounts import services as accounts
from trellis.assistant.answers import T as ANSWERS
from trellis.assistant.answers import yuan
from trellis.assistant.grounding import ungrounded
from trellis.assistant.models import Action, Conversation, Message
from trellis.clock import utcnow
from trellis.db import id_of
from trellis.errors import Conflict, NotFound, PermissionDenied, TrellisError
from trellis.ledger import cooling, quoting
from trellis.ledger.lifecycle import repay as ledger_repay
from trellis.ledger.models import Loan, LoanDocument, Product
from trellis.ledger.origination import apply as ledger_apply
from trellis.messages import N_, msg
from trellis.messages import Message as Template
from trellis.notifications import render
from trellis.protection import bank, warnings
from trellis.trade.models import DocStatus, Invoice
from trellis.vouchers.models import Voucher

logger = logging.getLogger(__name__)

KINDS = ("apply", "repay", "withdraw_consent")
VALID_FOR = timedelta(minutes=30)
MAX_INVOICES = 5

T = {
    "zh": {
        "apply": "我可以替您用以下已确权发票提交融资申请（产品 {product}）：{docs}。可融资额最高约 {eligible} 元，是否批准由评分和规则决定，与申请页面相同。确认提交吗？",
        "apply_none": "您目前没有可用于融资的已确权、未到期发票，暂时无法申请。",
        "repay": "我可以为贷款 {loan} 登记一笔还款：{amount} 元，付至平台结算账户 {account}（户名 {account_name}，开户行 {bank}）。请先转账到该账户，再点确认；只付给这个账户。",
        "withdraw": "我可以为您撤回“{purpose}”授权。撤回后平台停止使用相应数据，评分和额度等服务可能无法使用。确认撤回吗？",
        "withdraw_none": "您目前没有有效的“{purpose}”授权，无需撤回。",
        "vendor_only": "这项操作只能由供应商本人在平台上办理。",
        "done_apply": "已提交申请 {app}，当前状态：{status}。",
        "done_repay": "已登记贷款 {loan} 的还款 {amount} 元，贷款状态：{status}。",
        "done_withdraw": "已撤回“{purpose}”授权。",
        "done_withdraw_none": "没有有效的“{purpose}”授权，未做任何更改。",
        "failed": "操作未完成：{error}",
        "cancelled": "已取消，未做任何操作。",
        "status": {"approved": "已批准（请查看报价）", "declined": "未通过", "review": "待客户经理审批",
                   "submitted": "已提交", "active": "还款中", "repaid": "已结清", "cooled_off": "冷静期内结清",
                   "overdue": "已逾期", "pending": "待放款"},
    },
    "en": {
        "apply": "I can file an application for you (product {product}) on these confirmed invoices: {docs}. At most about {eligible} yuan; approval is decided by the score and the rules, as on the application page. Shall I file it?",
        "apply_none": "You have no confirmed, not yet due invoice to finance, so no application can be filed now.",
        "repay": "I can record a repayment of {amount} yuan to loan {loan}, paid into Trellis's settlement account {account} (name {account_name}, bank {bank}). Transfer to that account first, then confirm; pay only into this account.",
        "withdraw": "I can withdraw your consent for {purpose}. The platform then stops using that data, and the score and limit may stop working. Withdraw it?",
        "withdraw_none": "You have no active consent for {purpose}; there is nothing to withdraw.",
        "vendor_only": "Only the vendor can do this on the platform.",
        "done_apply": "Application {app} is filed; its status: {status}.",
        "done_repay": "A repayment of {amount} yuan to loan {loan} is recorded; the loan is {status}.",
        "done_withdraw": "Your consent for {purpose} is withdrawn.",
        "done_withdraw_none": "There was no active consent for {purpose}; nothing changed.",
        "failed": "That was not done: {error}",
        "cancelled": "Cancelled; nothing was done.",
        "status": {"approved": "approved (see the offer)", "declined": "declined", "review": "waiting for the RM's review",
                   "submitted": "submitted", "active": "active", "repaid": "repaid", "cooled_off": "closed in the cooling-off period",
                   "overdue": "overdue", "pending": "waiting for pay-out"},
    },
}


def _t(lang: str) -> dict:
    return T["zh" if lang.startswith("zh") else "en"]


def _yuan(fen: int) -> str:
    return yuan(fen)


def _purpose_label(purpose: str, lang: str) -> str:
    return ANSWERS["zh" if lang.startswith("zh") else "en"]["purposes"].get(purpose, purpose)


def purpose_in(text: str) -> str:
    """Which consent a withdrawal question is about (trade data unless it names another)."""
    low = (text or "").lower()
    if any(w in low for w in ("征信", "credit")):
        return "credit_query"
    if any(w in low for w in ("银行", "bank")):
        return "bank_account"
    return "trade_data"


def eligible_invoices(session: Session, firm_id: int, today: date) -> list:
    """The firm's confirmed, unpaid, not yet due invoices not behind an open loan or a
    voucher (what the application page lists); the ledger re-checks them on filing."""
    open_loans = select(col(Loan.id)).where(col(Loan.status).in_(["pending", "active",
                                                                   "overdue"]))
    financed = select(col(LoanDocument.invoice_id)).where(
        col(LoanDocument.loan_id).in_(open_loans), col(LoanDocument.invoice_id).is_not(None))
    return list(session.exec(
        select(Invoice).where(Invoice.seller_id == firm_id, Invoice.status == DocStatus.CONFIRMED,
                              Invoice.due_date > today, Invoice.amount_fen > Invoice.paid_fen,
                              col(Invoice.id).not_in(financed),
                              col(Invoice.id).not_in(select(col(Voucher.invoice_id))))
        .order_by(col(Invoice.due_date).desc(), col(Invoice.id)).limit(MAX_INVOICES)))


def propose(kind: str, *, session: Session, firm_id: int, role: str | None, lang: str,
            today: date, text: str = "", amount_fen: int | None = None):
    """``(text, facts, params)`` of a proposal, or ``(text, facts, None)`` when the action
    cannot be proposed (the text says why)."""
    t = _t(lang)
    if role is not None and role != "vendor":
        return t["vendor_only"], {}, None
    if kind == "apply":
        if not accounts.has_consent(session=session, firm_id=firm_id, purpose="trade_data"):
            return ANSWERS["zh" if lang.startswith("zh") else "en"]["no_consent"], {}, None
        product = session.exec(select(Product).where(Product.code == "RF-STD",
                                                     col(Product.active).is_(True))).first()
        invoices = eligible_invoices(session, firm_id, today)
        if product is None or not invoices:
            return t["apply_none"], {}, None
        eligible = quoting.advance_of(product, [i.amount_fen - i.paid_fen for i in invoices])
        sep = "；" if lang.startswith("zh") else "; "
        docs = sep.join(f"{i.number} ({_yuan(i.amount_fen - i.paid_fen)})" for i in invoices)
        name = product.name_zh if lang.startswith("zh") else product.name
        facts = {"product": name, "docs": docs, "eligible": _yuan(eligible)}
        return (t["apply"].format(**facts), facts,
                {"product": product.code, "invoice_ids": [i.id for i in invoices]})
    if kind == "repay":
        loan = session.exec(select(Loan).where(Loan.firm_id == firm_id, col(Loan.status).in_(
            ["active", "overdue"])).order_by(col(Loan.due_date), col(Loan.id))).first()
        if loan is None:
            return None, {}, None
        payoff = cooling.payoff_in_window(session=session, loan=loan, on=today)
        due = loan.outstanding_fen if payoff is None else payoff
        amount = amount_fen if amount_fen and 0 < amount_fen <= loan.outstanding_fen else due
        if amount <= 0:
            return None, {}, None
        rules = warnings.policy(session=session)
        facts = {"loan": str(loan.id), "amount": _yuan(amount),
                 "account": rules.settlement_account, "account_name": rules.settlement_account_name,
                 "bank": rules.settlement_bank}
        return (t["repay"].format(**facts), facts,
                {"loan_id": loan.id, "amount_fen": int(amount)})
    if kind == "withdraw_consent":
        purpose = purpose_in(text)
        facts = {"purpose": _purpose_label(purpose, lang)}
        if not accounts.has_consent(session=session, firm_id=firm_id, purpose=purpose):
            return t["withdraw_none"].format(**facts), facts, None
        return t["withdraw"].format(**facts), facts, {"purpose": purpose}
    raise ValueError(f"unknown action {kind!r}")


def record_proposal(*, session: Session, conversation: Conversation, message: Message,
                    kind: str, params: dict, user_id: int | None) -> Action:
    """Store the proposal of *message*; an older open proposal in the thread lapses."""
    for old in session.exec(select(Action).where(Action.conversation_id == conversation.id,
                                                 Action.status == "proposed")):
        old.status, old.decided_at = "cancelled", utcnow()
        shown = session.get(Message, old.message_id) if old.message_id else None
        if shown is not None:
            shown.action = {**(shown.action or {}), "state": "cancelled"}
            session.add(shown)
    action = Action(conversation_id=id_of(conversation), message_id=message.id,
                    firm_id=conversation.firm_id, user_id=user_id, kind=kind, params=params)
    session.add(action)
    session.flush()
    return action


def get(*, session: Session, firm_id: int, action_id: int) -> Action:
    """The firm's own action; another firm's is :class:`NotFound`, never shown."""
    action = session.get(Action, action_id)
    if action is None or action.firm_id != firm_id:
        raise NotFound(msg(N_("No proposed action %(action_id)s."), action_id=action_id))
    return action


def _claim(session: Session, action: Action, to: str) -> None:
    claimed = cast(CursorResult[Any], session.execute(
        update(Action).where(col(Action.id) == action.id, col(Action.status) == "proposed")
        .values(status=to, decided_at=utcnow())
        .execution_options(synchronize_session=False))).rowcount
    session.refresh(action)
    if claimed != 1:
        raise Conflict(N_("This proposal was already confirmed, cancelled or replaced."),
                       zh="该操作已确认、已取消或已被新的建议取代。")


def _say(session: Session, action: Action, text: str, facts: dict, links: list) -> Message:
    if ungrounded(text, facts):  # pragma: no cover - templates take only facts
        logger.error("ungrounded action message for action %s", action.id)
    msg = Message(conversation_id=action.conversation_id, sender="assistant", text=text,
                  intent=action.kind, facts=facts, links=links,
                  action={"id": action.id, "kind": action.kind, "state": action.status})
    session.add(msg)
    conv = session.get_one(Conversation, action.conversation_id)
    conv.updated_at = utcnow()
    proposal = session.get(Message, action.message_id) if action.message_id else None
    if proposal is not None:
        proposal.action = {**(proposal.action or {}), "state": action.status}
        session.add(proposal)
    session.flush()
    return msg


def _error_text(exc: TrellisError, lang: str) -> str:
    if lang.startswith("zh") and exc.message_zh:
        return exc.message_zh

    return render.text(Template(exc.template, exc.params).to_json(),
                       "zh_CN" if lang.startswith("zh") else "en")


def confirm(*, session: Session, firm_id: int, action_id: int, user=None,
            role: str | None = None, lang: str = "zh", today: date | None = None) -> Message:
    """Carry out the firm's proposed action after the user's confirmation (flushes; the
    caller commits). The confirmer must be a vendor of the firm (the pages' permission)."""
    action = get(session=session, firm_id=firm_id, action_id=action_id)
    role = getattr(user, "role", None) or role
    if role != "vendor" or (user is not None and user.firm_id != firm_id):
        raise PermissionDenied(N_("Only a vendor of this firm can confirm this."),
                               zh="只有本企业的供应商用户可以确认此操作。")
    today = today or clock.today()
    if action.status == "proposed" and utcnow() - _aware(action.created_at) > VALID_FOR:
        action.status, action.decided_at = "expired", utcnow()
        session.flush()
        raise Conflict(N_("This proposal has expired; ask again."), zh="该操作建议已过期，请重新提问。")
    _claim(session, action, "confirming")
    action.decided_by_id = getattr(user, "id", None)
    t = _t(lang)
    try:
        with session.begin_nested():
            text, facts, links, result = _perform(session, action, user, lang, today)
    except TrellisError as exc:
        action.status, action.result = "failed", {"error": exc.message, "code": exc.code}
        error = _error_text(exc, lang)
        accounts.record(session=session, action="assistant.action_failed", actor=user,
                        record_type="assistant_action", record_id=action.id,
                        detail={"kind": action.kind, "error": exc.message})
        return _say(session, action, t["failed"].format(error=error), {"error": error}, [])
    action.status, action.result = "done", result
    accounts.record(session=session, action="assistant.action_done", actor=user,
                    record_type="assistant_action", record_id=action.id,
                    detail={"kind": action.kind, **result})
    return _say(session, action, text, facts, links)


def cancel(*, session: Session, firm_id: int, action_id: int, user=None,
           lang: str = "zh") -> Message:
    """Drop the proposal: nothing is done."""
    action = get(session=session, firm_id=firm_id, action_id=action_id)
    _claim(session, action, "cancelled")
    action.decided_by_id = getattr(user, "id", None)
    accounts.record(session=session, action="assistant.action_cancelled", actor=user,
                    record_type="assistant_action", record_id=action.id,
                    detail={"kind": action.kind})
    return _say(session, action, _t(lang)["cancelled"], {}, [])


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _perform(session: Session, action: Action, user, lang: str, today: date):
    """Call the page's service for *action*: (text, facts, links, result)."""
    t = _t(lang)
    p = action.params
    user_id = getattr(user, "id", None)
    if action.kind == "apply":
        if not accounts.has_consent(session=session, firm_id=action.firm_id,
                                    purpose="trade_data"):
            raise PermissionDenied(N_("Trellis needs your consent to use your trade records "
                                      "before it can decide on financing."),
                                   zh="平台需要您授权使用贸易数据后才能审批融资。")
        app = ledger_apply(session=session, firm_id=action.firm_id, product_code=p["product"],
                           invoice_ids=p["invoice_ids"], applied_by=user_id, as_of=today)
        accounts.record(session=session, action="application.submit", actor=user,
                        record_type="application", record_id=app.id,
                        detail={"product": p["product"], "documents": p["invoice_ids"],
                                "requested_fen": app.requested_fen, "status": app.status,
                                "via": "assistant"})
        facts = {"app": str(app.id), "status": t["status"].get(str(app.status), str(app.status))}
        return (t["done_apply"].format(**facts), facts,
                [_link(lang, "application", f"/vendor/applications/{app.id}")],
                {"application_id": app.id, "status": str(app.status)})
    if action.kind == "repay":
        loan = session.get(Loan, p["loan_id"])
        if loan is None or loan.firm_id != action.firm_id:
            raise NotFound(N_("No such loan."))
        bank.check_repayment_account(session=session, account="")  # the platform's own
        rep = ledger_repay(session=session, loan_id=id_of(loan), amount_fen=int(p["amount_fen"]),
                           paid_on=today, idempotency_key=f"assistant-repay:{action.id}",
                           source="vendor", recorded_by=user_id)
        accounts.record(session=session, action="loan.repay", actor=user, record_type="loan",
                        record_id=loan.id, detail={"repayment_id": rep.id,
                                                   "amount_fen": rep.amount_fen,
                                                   "via": "assistant"})
        session.refresh(loan)
        facts = {"loan": str(loan.id), "amount": _yuan(rep.amount_fen),
                 "status": t["status"].get(str(loan.status), str(loan.status))}
        return (t["done_repay"].format(**facts), facts,
                [_link(lang, "loan", f"/vendor/loans/{loan.id}")],
                {"repayment_id": rep.id, "loan_id": loan.id})
    if action.kind == "withdraw_consent":
        purpose = p["purpose"]
        if purpose not in accounts.CONSENT_PURPOSES:
            raise NotFound(N_("No such consent."))
        n = bank.withdraw_consent(session=session, firm_id=action.firm_id, purpose=purpose)
        facts = {"purpose": _purpose_label(purpose, lang)}
        if n:
            accounts.record(session=session, action="consent.withdraw", actor=user,
                            record_type="firm", record_id=action.firm_id,
                            detail={"purpose": purpose, "via": "assistant"})
        key = "done_withdraw" if n else "done_withdraw_none"
        return (t[key].format(**facts), facts, [_link(lang, "consent", "/vendor/consent")],
                {"withdrawn": n, "purpose": purpose})
    raise ValueError(f"unknown action {action.kind!r}")  # pragma: no cover


def _link(lang: str, key: str, href: str) -> dict:
    return {"label": ANSWERS["zh" if lang.startswith("zh") else "en"]["links"][key],
            "href": href}
