"""Every journal entry explained by a business fact (part of ``trellis ledger check``).

Only :mod:`trellis.ledger.posting` writes the journal, and only services that record or
follow from a fact call it. So each entry must trace back to that fact; one that does
not was written by someone else, however well it balances and however correctly it is
hashed into the chain. The rules, per kind (account codes as in :mod:`~.chart`):

============  ===========================================================  ================
kind          the fact behind it                                           accounts
============  ===========================================================  ================
disbursement  the loan was paid out; key ``disbursement:<loan>``           1002 1303 1134
                                                                           6021
repayment     the ``loan_repayments`` row (vendor or anchor) whose         a replay's
              ``entry_id`` is this entry; key ``repayment:<its key>``
recovery      the same with source ``recovery``; key ``recovery:<key>``    1002 6301 2241
accrual       the daily run (no loan on the entry; key ``accrual:<cur>:     1132 1133 6011
              <day>:...``) or the interest up to a write-off (key          6012 (a replay's
              ``write-off-accrual:...``, the loan written off)             for a write-off)
provision     an allowance run; key ``provision:...``                      6701 1304
write_off     the loan is written off; key ``write-off:<loan>``; expense   1304 6701 1303
              plus allowance used equal its ``written_off_fen``            1132 1133 1134
payout        key ``payout:...``; per loan, the vendor payable never       2241 1002
              turns to a debit on any value date (no more paid out than
              the surplus owed)
reversal      the entry it reverses exists and it is its exact opposite    (as that one)
============  ===========================================================  ================

and every posting names a loan that was paid out, dated on or after its pay-out day
(every service books per loan; a posting without a loan is nobody's fact). The amounts
are proved elsewhere: cash against the payment records, disbursement, accrual and
repayment postings against a replay of each loan (:mod:`~.reconcile`), allowances against
the loan rows (:func:`~.reports.check`). Problems are plain sentences naming each entry
(first in chain order first), one reason per entry.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Row, func, or_, select
from sqlmodel import Session, col

from trellis.ledger.chart import Acct
from trellis.ledger.journal import EntryKind, entry_label
from trellis.ledger.models import JournalEntry, JournalPosting, Loan, LoanStatus, Repayment
from trellis.ledger.posting import account_codes

#: How many unexplained entries are named one by one before the rest are counted.
NAMED = 20

# An entry as read here: (id, shard, seq, kind, currency, idempotency_key, loan_id,
# reverses_id, value_date); a loan: (status, written_off_fen); a repayment: (its key,
# loan id, source).
_Entry = Row[tuple[int | None, int, int, str, str, str, int | None, int | None, date]]
_LoanFacts = tuple[str, int]
_PaymentFact = tuple[str, int, str]

_A = Acct
_REPLAY = frozenset(a.value for a in (_A.CASH, _A.LOANS, _A.INTEREST_RECEIVABLE,
                                      _A.PENALTY_RECEIVABLE, _A.FEES_RECEIVABLE,
                                      _A.INTEREST_INCOME, _A.PENALTY_INCOME, _A.FEE_INCOME,
                                      _A.VENDOR_PAYABLE))
_ACCOUNTS: dict[str, frozenset[str]] = {
    EntryKind.DISBURSEMENT: frozenset({_A.CASH, _A.LOANS, _A.FEES_RECEIVABLE, _A.FEE_INCOME}),
    EntryKind.REPAYMENT: _REPLAY,
    EntryKind.RECOVERY: frozenset({_A.CASH, _A.RECOVERIES, _A.VENDOR_PAYABLE}),
    EntryKind.ACCRUAL: frozenset({_A.INTEREST_RECEIVABLE, _A.PENALTY_RECEIVABLE,
                                  _A.INTEREST_INCOME, _A.PENALTY_INCOME}),
    EntryKind.PROVISION: frozenset({_A.WRITE_OFF_EXPENSE, _A.LOSS_ALLOWANCE}),
    EntryKind.WRITE_OFF: frozenset({_A.LOSS_ALLOWANCE, _A.WRITE_OFF_EXPENSE, _A.LOANS,
                                    _A.INTEREST_RECEIVABLE, _A.PENALTY_RECEIVABLE,
                                    _A.FEES_RECEIVABLE}),
    EntryKind.PAYOUT: frozenset({_A.VENDOR_PAYABLE, _A.CASH}),
}


def unexplained_problems(session: Session, currency: str = "CNY") -> list[str]:
    """One sentence per journal entry of *currency* that no business fact explains (see
    the module), in chain order; an empty list when every entry is explained."""
    codes = account_codes(session, currency)
    reasons: dict[int, str] = {}
    entries = session.execute(
        select(col(JournalEntry.id), col(JournalEntry.shard), col(JournalEntry.seq),
               col(JournalEntry.kind), col(JournalEntry.currency),
               col(JournalEntry.idempotency_key), col(JournalEntry.loan_id),
               col(JournalEntry.reverses_id), col(JournalEntry.value_date))
        .where(col(JournalEntry.currency) == currency)).all()
    if not entries:
        return []
    by_id = {e.id: e for e in entries}
    in_currency = col(JournalEntry.currency) == currency
    # 1. every posting names a paid-out loan, on or after its pay-out day
    for entry_id, loan_id, disbursed_on, vd in session.execute(
            select(col(JournalPosting.entry_id), col(JournalPosting.loan_id),
                   col(Loan.disbursed_on), col(JournalPosting.value_date))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
            .outerjoin(Loan, col(Loan.id) == col(JournalPosting.loan_id))
            .where(in_currency, or_(col(JournalPosting.loan_id).is_(None),
                                    col(Loan.disbursed_on).is_(None),
                                    col(JournalPosting.value_date) < col(Loan.disbursed_on)))):
        if loan_id is None:
            why = "it posts to an account without a loan"
        elif disbursed_on is None:
            why = f"it posts to loan {loan_id}, which was never paid out"
        else:
            why = f"it posts to loan {loan_id} on {vd}, before its pay-out on {disbursed_on}"
        reasons.setdefault(entry_id, why)
    # 2. the kind's fact, key and accounts
    accounts: dict[int, set[str]] = defaultdict(set)
    for entry_id, account_id in session.execute(
            select(col(JournalPosting.entry_id), col(JournalPosting.account_id))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
            .where(in_currency)
            .group_by(col(JournalPosting.entry_id), col(JournalPosting.account_id))):
        accounts[entry_id].add(codes[account_id])
    span = {entry_id: (lo, hi) for entry_id, lo, hi in session.execute(
        select(col(JournalPosting.entry_id), func.min(col(JournalPosting.loan_id)),
               func.max(col(JournalPosting.loan_id)))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
        .where(in_currency).group_by(col(JournalPosting.entry_id)))}
    facts = {entry_id: (key, loan_id, source) for entry_id, key, loan_id, source in
             session.execute(select(col(Repayment.entry_id), col(Repayment.idempotency_key),
                                    col(Repayment.loan_id), col(Repayment.source))
                             .where(col(Repayment.entry_id).is_not(None)))}
    loans = {lid: (st, written) for lid, st, written in session.execute(
        select(col(Loan.id), col(Loan.status), col(Loan.written_off_fen)).where(
            col(Loan.id).in_(select(col(JournalEntry.loan_id)).where(
                in_currency, col(JournalEntry.loan_id).is_not(None)))))}
    for e in entries:
        if e.id not in reasons:
            kind_why = _kind_reason(e, accounts.get(e.id, set()),
                                    span.get(e.id, (None, None)), facts.get(e.id),
                                    loans.get(e.loan_id))
            if kind_why:
                reasons[e.id] = kind_why
    _write_off_amounts(session, by_id, loans, reasons, codes)
    _reversals(session, by_id, reasons)
    _payouts_within_surplus(session, by_id, reasons, codes, currency)
    named = sorted(reasons, key=lambda i: (by_id[i].shard, by_id[i].seq))
    problems = [f"{entry_label(by_id[i].seq, by_id[i].shard)} ({by_id[i].idempotency_key}) "
                f"is explained by no business fact: {reasons[i]}." for i in named[:NAMED]]
    if len(named) > NAMED:
        problems.append(f"{len(named) - NAMED} more entries are explained by no business "
                        "fact.")
    return problems


def _kind_reason(e: _Entry, accounts: set[str], span: tuple[int | None, int | None],
                 fact: _PaymentFact | None, loan: _LoanFacts | None) -> str | None:
    kind, key, loan_id = e.kind, e.idempotency_key, e.loan_id
    if kind == EntryKind.REVERSAL:
        return None if e.reverses_id is not None else "a reversal that reverses nothing"
    allowed = _ACCOUNTS.get(kind)
    if allowed is None:
        return f"no service posts entries of kind {kind!r}"
    one_loan = loan_id is not None and span == (loan_id, loan_id)
    if kind == EntryKind.ACCRUAL and loan_id is not None:
        if not key.startswith("write-off-accrual:"):
            return "an accrual for one loan that is not the interest up to a write-off"
        if loan is None or loan[0] != LoanStatus.WRITTEN_OFF or not one_loan:
            return f"interest up to a write-off of loan {loan_id}, which is not written off"
        allowed = _REPLAY
    elif kind in (EntryKind.ACCRUAL, EntryKind.PROVISION, EntryKind.PAYOUT):
        if kind == EntryKind.ACCRUAL:   # accrual:<currency>:<day>:<loans, totals>
            ok = key.split(":")[:3] == ["accrual", e.currency, e.value_date.isoformat()]
        else:
            ok = key.startswith(f"{kind}:")
        if loan_id is not None or not ok:
            return f"a {kind} entry whose key or loan is not that of a {kind} run"
    elif kind == EntryKind.DISBURSEMENT:
        if key != f"disbursement:{loan_id}" or not one_loan:
            return "a disbursement whose key does not name the loan it pays out"
    elif kind in (EntryKind.REPAYMENT, EntryKind.RECOVERY):
        recovery = kind == EntryKind.RECOVERY
        if (fact is None or not one_loan or fact[1] != loan_id
                or key != f"{kind}:{fact[0]}" or (fact[2] == "recovery") != recovery):
            return f"no payment record of loan {loan_id} points to this {kind}"
    elif kind == EntryKind.WRITE_OFF:
        if key != f"write-off:{loan_id}" or not one_loan:
            return "a write-off whose key does not name the loan it writes off"
        if loan is None or loan[0] != LoanStatus.WRITTEN_OFF:
            return f"loan {loan_id} is not written off"
    extra = sorted(accounts - allowed)
    if extra:
        return f"a {kind} entry never posts to account {', '.join(extra)}"
    return None


def _write_off_amounts(session: Session, by_id: dict[int, _Entry],
                       loans: dict[int, _LoanFacts], reasons: dict[int, str],
                       codes: dict[int, str]) -> None:
    ids = [i for i, e in by_id.items() if e.kind == EntryKind.WRITE_OFF and i not in reasons]
    if not ids:
        return
    losses = {v for k, v in _ids(codes).items() if k in (_A.LOSS_ALLOWANCE,
                                                          _A.WRITE_OFF_EXPENSE)}
    sums: dict[int, int | None] = dict(session.execute(
        select(col(JournalPosting.entry_id), func.sum(col(JournalPosting.amount_fen)))
        .where(col(JournalPosting.entry_id).in_(ids), col(JournalPosting.account_id).in_(losses))
        .group_by(col(JournalPosting.entry_id))).tuples().all())
    for i in ids:
        written = loans.get(by_id[i].loan_id, (None, 0))[1]
        if int(sums.get(i) or 0) != written:
            reasons[i] = (f"it writes off {int(sums.get(i) or 0)} fen of loan "
                          f"{by_id[i].loan_id}, whose write-off was {written} fen")


def _reversals(session: Session, by_id: dict[int, _Entry], reasons: dict[int, str]) -> None:
    pairs = {i: e.reverses_id for i, e in by_id.items()
             if e.kind == EntryKind.REVERSAL and i not in reasons}
    if not pairs:
        return
    legs: dict[int, list[tuple[int, int, date, int]]] = defaultdict(list)
    for entry_id, account_id, loan_id, vd, amount in session.execute(
            select(col(JournalPosting.entry_id), col(JournalPosting.account_id),
                   col(JournalPosting.loan_id), col(JournalPosting.value_date),
                   col(JournalPosting.amount_fen))
            .where(col(JournalPosting.entry_id).in_(set(pairs) | set(pairs.values())))):
        legs[entry_id].append((account_id, loan_id or 0, vd, amount))
    for i, original in pairs.items():
        mirrored = sorted((a, lo, vd, -amt) for a, lo, vd, amt in legs.get(original, ()))
        if original not in by_id or mirrored != sorted(legs.get(i, ())):
            reasons[i] = f"it is not the exact opposite of entry id {original}"


def _payouts_within_surplus(session: Session, by_id: dict[int, _Entry],
                            reasons: dict[int, str], codes: dict[int, str],
                            currency: str) -> None:
    payable = _ids(codes)[_A.VENDOR_PAYABLE]
    rows = session.execute(
        select(col(JournalPosting.loan_id), col(JournalPosting.value_date),
               func.sum(col(JournalPosting.amount_fen)))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
        .where(col(JournalEntry.currency) == currency, col(JournalPosting.account_id) == payable,
               col(JournalPosting.loan_id).is_not(None))
        .group_by(col(JournalPosting.loan_id), col(JournalPosting.value_date))).all()
    by_loan: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for loan_id, vd, total in rows:
        by_loan[loan_id].append((vd, int(total or 0)))
    overdrawn: dict[int, date] = {}
    for loan_id, days in by_loan.items():
        running = 0
        for vd, amount in sorted(days):
            running += amount
            if running > 0:   # a debit: more paid out than the surplus owed
                overdrawn[loan_id] = vd
                break
    if not overdrawn:
        return
    for entry_id, loan_id, vd in session.execute(
            select(col(JournalPosting.entry_id), col(JournalPosting.loan_id),
                   col(JournalPosting.value_date))
            .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
            .where(col(JournalEntry.kind) == EntryKind.PAYOUT.value,
                   col(JournalPosting.account_id) == payable,
                   col(JournalPosting.loan_id).in_(list(overdrawn)))):
        if vd <= overdrawn[loan_id]:
            reasons.setdefault(entry_id, f"it pays out more surplus than the vendor of loan "
                                         f"{loan_id} was owed on {overdrawn[loan_id]}")


def _ids(codes: dict[int, str]) -> dict[str, int]:
    return {code: account_id for account_id, code in codes.items()}


__all__ = ["NAMED", "unexplained_problems"]
