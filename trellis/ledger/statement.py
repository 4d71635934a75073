"""The vendor's loan statement: terms, schedule, every movement, balances; CSV and PDF.

:func:`build` reads the loan, its firm and product, replays the loan from disbursement
(the same replay that books it, so the figures equal the journal) and returns a
:class:`Statement` of plain values. :func:`to_csv` and :func:`to_pdf` render it in
Chinese or English. The PDF embeds a CJK font (subset) found on the system
(:func:`find_cjk_font`; Debian: ``fonts-wqy-microhei`` or ``fonts-noto-cjk``).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from trellis import clock, exports
from trellis.errors import TrellisError
from trellis.ledger import lifecycle, payouts
from trellis.ledger import status as loan_status
from trellis.ledger.chart import COMPONENTS, Acct
from trellis.ledger.errors import LoanNotFound
from trellis.ledger.models import JournalPosting, Loan, LoanStatus, Product, Repayment
from trellis.ledger.posting import account_ids
from trellis.ledger.replay import Balances, Outcome, Payment, Terms, replay
from trellis.messages import N_, msg
from trellis.trade.models import Firm

#: The movements' one sign convention, said under the table (reader 13, H2: the surplus
#: column had the opposite sign to the amount, so a row did not add across). The same
#: words are in the page's catalogue (ledger/_movements.html).
SIGN_NOTE = ("Amount is money moved: + paid to you, − received. Principal, interest, "
             "penalty and fees are changes to what you owe. Surplus is money received above "
             "what was owed (−, held for you) and its return to you (+). On each row where "
             "money moved, Amount = Principal + Interest + Penalty + Fees + Surplus; rows "
             "that charge or waive interest and fees move no money.")
SIGN_NOTE_ZH = ("金额为资金往来：正数为付给贵司，负数为收到的款项。本金、利息、罚息、费用为应还的"
                "增减。多付款为超出应还、暂存待退还贵司的款项（负数）及其退还（正数）。有资金往来的"
                "每一行：金额 = 本金 + 利息 + 罚息 + 费用 + 多付款；计收或免除利息和费用的行不涉及"
                "资金往来。")

LABELS = {
    "en": {
        "title": "Loan statement", "loan": "Loan", "firm": "Borrower", "uscc": "USCC",
        "product": "Product", "status": "Status", "amount": "Amount lent",
        "rate": "Annual interest rate", "penalty_rate": "Penalty interest rate after the due date",
        "overdue_rate": "%s a year (contract rate %s + penalty %s)",
        "fee": "Fee", "disbursed_on": "Paid out on", "due_date": "Due on",
        "as_of": "Statement date", "dpd": "Days past due", "date": "Date",
        "description": "Description", "amount_col": "Amount", "principal": "Principal",
        "interest": "Interest", "penalty": "Penalty", "fees": "Fees", "surplus": "Surplus",
        "balance": "Owed after this line", "schedule": "Schedule", "due_total": "Amount due",
        "movements": "Movements", "outstanding": "Outstanding", "cooling_off":
        "Cooling-off: repay in full by %s and interest and fees are waived",
        "pay_out": "Paid out", "fee_charged": "Fee charged (payable)",
        "accrued": "Interest %s to %s",
        "payment_vendor": "Your payment", "payment_anchor": "Paid by the buyer",
        "waived": "Cooling-off: all interest and fees waived (the charges reversed)",
        "reapplied": "Cooling-off: interest and fees already paid go to principal instead",
        "surplus_paid": "Surplus paid back to you",
        "written_off": "Written off: passed to collection, still owed",
        "recovery": "Recovered after the write-off", "fen_note": "Amounts in yuan (CNY).",
        "collection": "Write-off and recoveries", "still_owed": "Still owed by you",
        "collection_note": "A write-off is the lender's accounting: it does not cancel the "
                           "debt. The amount written off stays owed until it is recovered.",
        "sign_note": SIGN_NOTE,
        "fee_waived": "%s (waived: repaid in the cooling-off period)",
        "surplus_loan": "Surplus owed to you from this loan",
        "surplus_firm": "Surplus owed to you from all your loans",
    },
    "zh": {
        "title": "贷款对账单", "loan": "贷款编号", "firm": "借款企业", "uscc": "统一社会信用代码",
        "product": "产品", "status": "状态", "amount": "贷款金额", "rate": "年利率",
        "penalty_rate": "逾期罚息利率", "overdue_rate": "年化 %s（合同利率 %s + 罚息加收 %s）",
        "fee": "手续费", "disbursed_on": "放款日",
        "due_date": "到期日", "as_of": "对账日", "dpd": "逾期天数", "date": "日期",
        "description": "摘要", "amount_col": "金额", "principal": "本金", "interest": "利息",
        "penalty": "罚息", "fees": "费用", "surplus": "多付款", "balance": "本行后应还余额",
        "schedule": "还款计划", "due_total": "应还金额", "movements": "明细",
        "outstanding": "未还余额", "cooling_off": "冷静期：%s 前全额还款可免除利息和费用",
        "pay_out": "放款", "fee_charged": "计收手续费（应付）", "accrued": "利息 %s 至 %s",
        "payment_vendor": "贵司还款", "payment_anchor": "买方付款",
        "waived": "冷静期：全部利息和费用免除（冲销已计收）",
        "reapplied": "冷静期：已付的利息和费用改为归还本金",
        "surplus_paid": "余款已付至贵司", "written_off": "核销（转入催收，仍须偿还）",
        "recovery": "核销后收回", "fen_note": "金额单位：元（人民币）。",
        "collection": "核销及核销后收回", "still_owed": "贵司仍欠",
        "collection_note": "核销是贷款方的会计处理，不免除债务：核销金额在收回之前仍须偿还。",
        "sign_note": SIGN_NOTE_ZH,
        "fee_waived": "%s（冷静期内结清，已全部免除）",
        "surplus_loan": "本笔贷款应退还贵司余款", "surplus_firm": "贵司全部贷款应退还余款",
    },
}

# The bank's own pages read the same lines about the borrower, not to it ("贵司还款" on the
# relationship manager's screen read as if the bank had repaid something).
STAFF_LABELS = {
    "en": {"payment_vendor": "The borrower's payment",
           "still_owed": "Still owed by the borrower",
           "surplus_paid": "Surplus paid back to the borrower"},
    "zh": {"payment_vendor": "借款企业还款",
           "still_owed": "借款企业仍欠", "surplus_paid": "余款已付至借款企业"},
}



@dataclass(frozen=True, slots=True)
class Line:
    """One movement: *amount_fen* is money paid out (+) or received (-); the component
    columns are changes to what is owed; *surplus_fen* is money received above what was
    owed (-) or such money paid back (+), so that on a line where money moved
    ``amount_fen`` equals the four components plus ``surplus_fen`` (:data:`SIGN_NOTE`);
    *balance_fen* is what is owed after this line (principal, interest, penalty and fees:
    the running sum of those columns)."""

    on: date
    kind: str
    amount_fen: int = 0
    principal_fen: int = 0
    interest_fen: int = 0
    penalty_fen: int = 0
    fees_fen: int = 0
    surplus_fen: int = 0
    balance_fen: int = 0
    note: str = ""


@dataclass(frozen=True)
class Statement:
    loan_id: int
    firm_name: str
    firm_uscc: str
    product_name: str
    product_name_zh: str
    status: str
    amount_fen: int
    rate_micro: int
    penalty_rate_micro: int
    fee_fen: int
    disbursed_on: date | None
    due_date: date | None
    as_of: date
    days_past_due: int
    cooling_off_until: date | None
    outstanding: Balances
    schedule: tuple[dict[str, Any], ...]
    lines: tuple[Line, ...] = field(default=())
    #: the write-off and each recovery after it: *amount_fen* is what was written off (+)
    #: or recovered (-), *balance_fen* what the borrower still owes after it
    collection: tuple[Line, ...] = field(default=())
    #: what the borrower still owes, in fen (a write-off does not cancel the debt)
    owed_fen: int = 0
    #: days past due on the day of the write-off (None unless written off)
    dpd_at_write_off: int | None = None
    #: surplus (money received above what was owed) still to be paid back to the
    #: borrower, in fen: from this loan, and from all the borrower's loans
    surplus_owed_fen: int = 0
    firm_surplus_owed_fen: int = 0


def build(*, session: Session, loan_id: int, as_of: date | None = None) -> Statement:
    """The statement of *loan_id* up to *as_of* (default: the last booked day, or the last
    recovery after a write-off or payout of surplus after it)."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise LoanNotFound(msg(N_("Loan %(loan_id)s does not exist."), loan_id=loan_id))
    firm = session.get(Firm, loan.firm_id)
    product = session.get(Product, loan.product_id)
    assert product is not None   # loans.product_id is a foreign key
    if as_of is None:
        # interest stops at a write-off; the recoveries after it still belong on the statement
        later = [r.paid_on for r in _recoveries(session, loan)] if loan.closed_on else []
        # and the surplus paid back after the loan closed
        later += [day for day, _ in _surplus_payouts(session, loan)]
        as_of = max([loan.accrued_until or clock.today(), *later])
    lines: list[Line] = []
    collection: list[Line] = []
    schedule: tuple[dict[str, Any], ...] = ()
    cooling = None
    if loan.disbursed_on is not None:
        terms = lifecycle.terms_of(loan)
        cooling = terms.cooling_off_until
        payments = [p for p in lifecycle.stored_payments(session, loan_id) if p.paid_on <= as_of]
        end = max([loan.accrued_until or as_of] + [p.paid_on for p in payments])
        outcome = replay(terms, start=loan.disbursed_on, until=end,
                         opening=Balances(), payments=payments)
        lines = _lines(session, loan, outcome, as_of)
        collection = _collection(session, loan, as_of)
        schedule = _schedule(loan, terms, payments)
    bal = Balances(loan.principal_fen, loan.interest_fen, loan.penalty_fen, loan.fees_fen)
    surplus = payouts.owed_by_loan(session=session, firm_id=loan.firm_id)
    return Statement(
        loan_id=loan_id, firm_name=firm.name if firm else "", firm_uscc=firm.uscc if firm else "",
        product_name=product.name, product_name_zh=product.name_zh, status=loan.status,
        amount_fen=loan.amount_fen, rate_micro=loan.rate_micro,
        penalty_rate_micro=loan.penalty_rate_micro, fee_fen=loan.fee_fen,
        disbursed_on=loan.disbursed_on, due_date=loan.due_date, as_of=as_of,
        days_past_due=lifecycle.borrower_dpd(loan, as_of), cooling_off_until=cooling,
        outstanding=bal, schedule=schedule, lines=tuple(lines), collection=tuple(collection),
        owed_fen=lifecycle.owed_by_borrower(loan),
        dpd_at_write_off=lifecycle.dpd_at_write_off(loan),
        surplus_owed_fen=surplus.get(loan_id, 0), firm_surplus_owed_fen=sum(surplus.values()))


def _lines(session: Session, loan: Loan, outcome: Outcome, as_of: date) -> list[Line]:
    events: list[tuple[date, int, Line]] = []
    d0 = loan.disbursed_on
    assert d0 is not None   # build() asks only for a paid-out loan's lines
    events.append((d0, 0, Line(d0, "pay_out", amount_fen=loan.amount_fen,
                               principal_fen=loan.amount_fen)))
    if loan.fee_fen:
        events.append((d0, 1, Line(d0, "fee_charged", fees_fen=loan.fee_fen)))
    sources = dict(session.execute(select(col(Repayment.idempotency_key), col(Repayment.source))
                                   .where(col(Repayment.loan_id) == loan.id)).tuples().all())
    # the payments of one day in the order the replay applied them, each cooling-off's
    # lines just before the payment that completed it (after that day's earlier payments)
    for order, a in enumerate(outcome.allocations, start=1):
        if a.cooling_off:
            # what the cooling-off did, by component: the money already paid to interest
            # and fees in the window goes to principal instead (those charges are owed
            # again, for a moment), then every charge is waived, so the fee and interest
            # columns read the waiver and end at 0 (reader 13, H1: a fee paid and then
            # waived read only as a principal line, the fee as charged and paid)
            # (reader 12, G2: the columns add up to the journal's balances)
            w, moved = _waived(outcome, a.paid_on)
            if any(moved.values()):
                events.append((a.paid_on, 2 * order, Line(
                    a.paid_on, "reapplied", principal_fen=-sum(moved.values()),
                    interest_fen=moved["interest"], penalty_fen=moved["penalty"],
                    fees_fen=moved["fees"])))
            if any(w.values()) or any(moved.values()):
                events.append((a.paid_on, 2 * order, Line(
                    a.paid_on, "waived", interest_fen=-w["interest"] - moved["interest"],
                    penalty_fen=-w["penalty"] - moved["penalty"],
                    fees_fen=-w["fees"] - moved["fees"])))
        kind = "payment_anchor" if sources.get(a.key) == "anchor" else "payment_vendor"
        events.append((a.paid_on, 2 * order + 1, Line(
            a.paid_on, kind, amount_fen=-a.amount_fen, principal_fen=-a.principal_fen,
            interest_fen=-a.interest_fen, penalty_fen=-a.penalty_fen, fees_fen=-a.fees_fen,
            surplus_fen=-a.surplus_fen)))
    # the surplus paid back to the borrower (reader 12, G6: the statement had no line for
    # it and its surplus column disagreed with its header)
    for day, paid in _surplus_payouts(session, loan):
        events.append((day, 1 << 30, Line(day, "surplus_paid", amount_fen=paid,
                                          surplus_fen=paid)))
    # interest accrued between consecutive event days, as one line per period
    cut = sorted({e[0] for e in events})
    period: dict[date, list[Any]] = {}   # start -> [first day, last day, interest, penalty]
    for day, interest, penalty in outcome.daily:
        start = max((c for c in cut if c <= day), default=d0)
        acc = period.setdefault(start, [day, day, 0, 0])
        acc[1], acc[2], acc[3] = day, acc[2] + interest, acc[3] + penalty
    for first, last, interest, penalty in period.values():
        if interest or penalty:
            events.append((last + timedelta(days=1), -1, Line(
                last, "accrued", interest_fen=interest, penalty_fen=penalty,
                note=f"{first.isoformat()}|{last.isoformat()}")))
    events.sort(key=lambda e: (e[0], e[1]))
    # what is owed after each line, the running sum of the component columns (reader 13,
    # J7: every line read the journal's end of its day, so a pay-out settled the same day
    # read ¥0.00). Where an interest line closes a day, and after the last line, this is
    # what the journal holds (interest accrues daily but is shown one line per period).
    # After a write-off the borrower owes what was written off less what was recovered
    # (the write-off and the recoveries are lines of their own: see _collection).
    written_off = loan.closed_on if loan.status == LoanStatus.WRITTEN_OFF else None
    out: list[Line] = []
    owed = 0
    for _, _, line in events:
        if line.on > as_of:
            continue
        owed += _owed_change(line)
        shown = _still_owed(session, loan, line.on) \
            if written_off and line.on > written_off else owed
        out.append(replace(line, balance_fen=shown))
    return out


def _owed_change(line: Line) -> int:
    """How much *line* changed what is owed, in fen (the four component columns)."""
    return line.principal_fen + line.interest_fen + line.penalty_fen + line.fees_fen


def _waived(outcome: Outcome, on: date) -> tuple[dict[str, int], dict[str, int]]:
    """What the cooling-off did on *on*, in fen (>= 0), by component (interest, penalty,
    fees): the charges still open that it waived, and the money already paid to charges
    in the window that it re-applied to principal. The replay debits an income account
    only to waive (accrual credits it), against the receivable (open) or the principal
    (paid)."""
    income = {COMPONENTS[c][1]: c for c in ("interest", "penalty", "fees")}
    out = dict.fromkeys(income.values(), 0)
    moved = dict.fromkeys(income.values(), 0)
    legs = outcome.postings
    for p, other in zip(legs, legs[1:], strict=False):
        if p.account in income and p.amount_fen > 0 and p.value_date == on:
            (moved if other.account == Acct.LOANS else out)[income[p.account]] += p.amount_fen
    return out, moved


def _surplus_payouts(session: Session, loan: Loan) -> list[tuple[date, int]]:
    """Each payout of *loan*'s surplus to the borrower (its day and amount in fen, oldest
    first): the debits to the loan's vendor payable, as the journal holds them."""
    payable = account_ids(session)[Acct.VENDOR_PAYABLE.value]
    rows = session.execute(
        select(col(JournalPosting.value_date), col(JournalPosting.amount_fen))
        .where(col(JournalPosting.loan_id) == loan.id,
               col(JournalPosting.account_id) == payable, col(JournalPosting.amount_fen) > 0)
        .order_by(col(JournalPosting.value_date), col(JournalPosting.id))).all()
    return [(day, int(amount)) for day, amount in rows]


def _recoveries(session: Session, loan: Loan) -> list[Repayment]:
    return list(session.scalars(select(Repayment).where(
        col(Repayment.loan_id) == loan.id, col(Repayment.source) == "recovery")
        .order_by(col(Repayment.paid_on), col(Repayment.id))))


def _still_owed(session: Session, loan: Loan, on: date) -> int:
    """What the borrower of written-off *loan* still owes at the end of *on*, in fen: the
    amount written off less what was recovered up to that day (>= 0)."""
    recovered = sum(r.amount_fen for r in _recoveries(session, loan) if r.paid_on <= on)
    return max(loan.written_off_fen - recovered, 0)


def _collection(session: Session, loan: Loan, as_of: date) -> list[Line]:
    """The write-off and the recoveries after it, up to *as_of*: not principal movements
    (the write-off moves the debt to collection, it does not repay it); each line's
    balance is what the borrower still owes after it, ending at
    :func:`~trellis.ledger.lifecycle.owed_by_borrower`."""
    if loan.status != LoanStatus.WRITTEN_OFF or loan.closed_on is None \
            or loan.closed_on > as_of:
        return []
    owed = loan.written_off_fen
    out = [Line(loan.closed_on, "written_off", amount_fen=owed, balance_fen=owed)]
    for rec in _recoveries(session, loan):
        if rec.paid_on > as_of:
            break
        owed = max(owed - rec.amount_fen, 0)
        out.append(Line(rec.paid_on, "recovery", amount_fen=-rec.amount_fen, balance_fen=owed))
    return out


def _schedule(loan: Loan, terms: Terms, payments: list[Payment]) -> tuple[dict[str, Any], ...]:
    """What is due on the due date if nothing more is paid (bullet loans). Past the due
    date the amounts are what is owed now, interest and penalty after the due date
    included, and ``owed_as_of`` says which day they are counted to (reader 10, R10: a
    line dated on the due date carried penalty interest of the months after it)."""
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.OVERDUE):
        return ()
    due = loan.due_date
    assert due is not None   # a live loan has been paid out, with a due date
    current = Balances(loan.principal_fen, loan.interest_fen, loan.penalty_fen, loan.fees_fen)
    if loan.accrued_until == terms.disbursed_on:
        # nothing booked after the pay-out day: a replay from it would book the pay-out
        # again and ignore what was repaid that day (reader 11, F4: the schedule and the
        # assistant still asked for the principal and the fee repaid on day one)
        current = replay(terms, start=terms.disbursed_on, until=due, opening=Balances(),
                     payments=[p for p in payments if p.paid_on <= due]).balances
    elif loan.accrued_until and loan.accrued_until < due:
        current = replay(terms, start=loan.accrued_until, until=due, opening=current,
                     payments=()).balances
    past_due = loan.accrued_until is not None and loan.accrued_until > due + timedelta(days=1)
    return ({"date": due, "principal_fen": current.principal_fen,
             "interest_fen": current.interest_fen + current.penalty_fen,
             "fees_fen": current.fees_fen, "total_fen": current.total_fen,
             "owed_as_of": loan.accrued_until - timedelta(days=1)
             if past_due and loan.accrued_until else None},)


# --- rendering ------------------------------------------------------------------------

def yuan(fen: int) -> str:
    """*fen* (any integer) as yuan with thousands separators: ``-1,234.05``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def percent(micro: int) -> str:
    """A rate in millionths (65_000) as a percentage with two decimals and no space, as
    Chinese finance writes it (``6.50%``); a finer rate keeps its digits (``6.125%``)."""
    text = f"{micro / 10_000:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}%"


def describe(line: Line, lang: str, *, staff: bool = False) -> str:
    """What a statement line is, in *lang* (``zh`` or ``en``): to the borrower, or with
    *staff* about it (the bank's pages)."""
    t = {**LABELS[lang], **STAFF_LABELS[lang]} if staff else LABELS[lang]
    if line.kind == "accrued":
        first, last = line.note.split("|")
        return t["accrued"] % (first, last)
    return t[line.kind]


def status_word(st: Statement, gettext: Callable[[str], str] = str) -> str:
    """The loan's status as the borrower reads it, the ledger's one word for it
    (:func:`trellis.ledger.status.borrower_word`, as on the vendor's loan pages: a
    written-off loan still owed is overdue and passed to collection, one paid back in
    full is repaid) through *gettext* (the reader's catalogue; English without one)."""
    return gettext(loan_status.borrower_word(st.status, st.owed_fen))


def header_rows(st: Statement, lang: str, *, currency: bool = True,
                gettext: Callable[[str], str] = str,
                product: str | None = None) -> list[tuple[str, str]]:
    """The statement's header as (label, value) rows in *lang*; amounts in yuan, with
    the ¥ sign as the tables of the page show them (*currency*; a CSV for spreadsheets
    says once that amounts are in yuan and leaves them bare); the status word through
    *gettext*, the catalogue of *lang* (the web layer's); the product as *product* names
    it (the pages' one name for it; its name in *lang* without)."""
    t = LABELS[lang]

    def yuan(fen: int) -> str:
        text = _yuan(fen)
        return ("-¥" + text[1:] if text.startswith("-") else "¥" + text) if currency else text

    rows = [(t["loan"], str(st.loan_id)), (t["firm"], st.firm_name), (t["uscc"], st.firm_uscc),
            (t["product"], product or (st.product_name_zh if lang == "zh"
                                       else st.product_name)),
            (t["status"], status_word(st, gettext)),
            (t["amount"], yuan(st.amount_fen)), (t["rate"], percent(st.rate_micro)),
            # stated as every page states it (ledger.pricing.overdue_rate)
            (t["penalty_rate"], t["overdue_rate"] % (
                percent(st.rate_micro + st.penalty_rate_micro), percent(st.rate_micro),
                percent(st.penalty_rate_micro))),
            # a cooled-off loan's fee was waived: said where the fee is stated (reader 13, H1)
            (t["fee"], t["fee_waived"] % yuan(st.fee_fen)
             if st.fee_fen and st.status == LoanStatus.COOLED_OFF else yuan(st.fee_fen)),
            (t["disbursed_on"], st.disbursed_on.isoformat() if st.disbursed_on else ""),
            (t["due_date"], st.due_date.isoformat() if st.due_date else ""),
            (t["as_of"], st.as_of.isoformat()), (t["dpd"], str(st.days_past_due)),
            (t["outstanding"], yuan(st.owed_fen))]
    if st.cooling_off_until and st.status == LoanStatus.ACTIVE and st.as_of <= st.cooling_off_until:
        rows.append(("", t["cooling_off"] % st.cooling_off_until.isoformat()))
    return rows


_yuan = yuan

COLUMNS = ("date", "description", "amount_col", "principal", "interest", "penalty", "fees",
           "surplus", "balance")


def line_cells(line: Line, lang: str) -> list[str]:
    """One statement line as table cells in *lang*: date, description, amounts in yuan."""
    return [line.on.isoformat(), describe(line, lang), yuan(line.amount_fen),
            yuan(line.principal_fen), yuan(line.interest_fen), yuan(line.penalty_fen),
            yuan(line.fees_fen), yuan(line.surplus_fen), yuan(line.balance_fen)]


def surplus_rows(st: Statement, lang: str) -> list[list[str]]:
    """The surplus still to be paid back, as the page states it under the header: (label,
    yuan) rows in *lang*, for this loan and for all the borrower's loans; none when
    nothing is owed back (reader 13, J7: the CSV left out the page's line)."""
    if not st.firm_surplus_owed_fen:
        return []
    t = LABELS[lang]
    return [[t["surplus_loan"], yuan(st.surplus_owed_fen)],
            [t["surplus_firm"], yuan(st.firm_surplus_owed_fen)]]


COLLECTION_COLUMNS = ("date", "description", "amount_col", "still_owed")


def collection_rows(st: Statement, lang: str) -> list[list[str]]:
    """The write-off section as table rows in *lang* (empty unless written off): date,
    description, amount (written off, or recovered as a negative), still owed after it."""
    return [[line.on.isoformat(), describe(line, lang), yuan(line.amount_fen),
             yuan(line.balance_fen)] for line in st.collection]


def to_csv(st: Statement, lang: str = "zh", *, gettext: Callable[[str], str] = str,
           product: str | None = None) -> str:
    """The statement as CSV (UTF-8 with BOM so that spreadsheet programs read Chinese);
    *gettext* and *product* as for :func:`header_rows`."""
    t = LABELS[lang]
    out = io.StringIO()
    w = exports.writer(out)
    w.writerow([t["title"]])
    for k, v in header_rows(st, lang, currency=False, gettext=gettext, product=product):
        w.writerow([k, v])
    w.writerows(surplus_rows(st, lang))
    w.writerow([t["fen_note"]])
    if st.schedule:   # as the page: no heading over an empty plan (reader 13, J7)
        w.writerow([])
        w.writerow([t["schedule"]])
        w.writerow([t["date"], t["principal"], t["interest"], t["fees"], t["due_total"]])
        for s in st.schedule:
            w.writerow([s["date"].isoformat(), yuan(s["principal_fen"]),
                        yuan(s["interest_fen"]), yuan(s["fees_fen"]), yuan(s["total_fen"])])
    w.writerow([])
    w.writerow([t["movements"]])
    w.writerow([t[c] for c in COLUMNS])
    for line in st.lines:
        w.writerow(line_cells(line, lang))
    w.writerow([t["sign_note"]])
    if st.collection:
        w.writerow([])
        w.writerow([t["collection"]])
        w.writerow([t["collection_note"]])
        w.writerow([t[c] for c in COLLECTION_COLUMNS])
        w.writerows(collection_rows(st, lang))
        w.writerow([t["still_owed"], yuan(st.owed_fen)])
    return "\ufeff" + out.getvalue()


FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def find_cjk_font() -> str | None:
    """A font file that covers Chinese, or None."""
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return path
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"],
                                   capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if found and Path(found).suffix.lower() in (".ttf", ".ttc", ".otf"):
            return found
    return None


class NoCJKFont(TrellisError):
    """Raised when no font with Chinese glyphs is installed (install fonts-wqy-microhei):
    the person reads that the PDF cannot be made now and who can fix it."""

    code = "no_cjk_font"
    status = 503


def to_pdf(st: Statement, lang: str = "zh", font_path: str | None = None, *,
           gettext: Callable[[str], str] = str, product: str | None = None) -> bytes:
    """The statement as an A4 PDF with the CJK font embedded (subset); *gettext* and
    *product* as for :func:`header_rows`."""
    # fpdf2 only when a PDF is made: the statement's pages and figures do not need it.
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font_path = font_path or find_cjk_font()
    if font_path is None:
        raise NoCJKFont(msg(N_("The statement cannot be made as a PDF now: no font with "
                               "Chinese characters is installed. An administrator installs "
                               "the package %(package)s."), package="fonts-wqy-microhei"))
    t = LABELS[lang]
    heading = FontFace(emphasis="", fill_color=(235, 235, 235))   # the CJK font has no bold
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.add_font("cjk", fname=font_path)
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, t["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for k, v in header_rows(st, lang, gettext=gettext, product=product):
        pdf.cell(55, 5.5, k)
        pdf.cell(0, 5.5, v, new_x="LMARGIN", new_y="NEXT")
    for k, v in surplus_rows(st, lang):
        pdf.cell(55, 5.5, k)
        pdf.cell(0, 5.5, "¥" + v, new_x="LMARGIN", new_y="NEXT")   # as the header's amounts
    pdf.cell(0, 5.5, t["fen_note"], new_x="LMARGIN", new_y="NEXT")
    if st.schedule:
        pdf.ln(2)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 7, t["schedule"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        with pdf.table(col_widths=(30, 40, 40, 40, 40), text_align="RIGHT",
                       headings_style=heading) as table:
            table.row([t["date"], t["principal"], t["interest"], t["fees"], t["due_total"]])
            for s in st.schedule:
                table.row([s["date"].isoformat(), yuan(s["principal_fen"]),
                           yuan(s["interest_fen"]), yuan(s["fees_fen"]), yuan(s["total_fen"])])
    pdf.ln(2)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, t["movements"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    with pdf.table(col_widths=(22, 60, 26, 26, 24, 22, 22, 22, 28),
                   text_align=("LEFT", "LEFT") + ("RIGHT",) * 7,
                   headings_style=heading) as table:
        table.row([t[c] for c in COLUMNS])
        for line in st.lines:
            table.row(line_cells(line, lang))
    pdf.multi_cell(0, 4.5, t["sign_note"], new_x="LMARGIN", new_y="NEXT")
    if st.collection:
        pdf.ln(2)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 7, t["collection"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        pdf.multi_cell(0, 5, t["collection_note"], new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(22, 80, 30, 30), width=162,
                       text_align=("LEFT", "LEFT", "RIGHT", "RIGHT"),
                       headings_style=heading) as table:
            table.row([t[c] for c in COLLECTION_COLUMNS])
            for cells in collection_rows(st, lang):
                table.row(cells)
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, f"{t['still_owed']}: {yuan(st.owed_fen)}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
