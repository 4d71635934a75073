"""Reading the journal: trial balance, balances at a date, the ledger check, the chain.

All figures are integer fen. "At a date" means by *value date*: the postings whose value
date is on or before it, including corrections posted later for that date (the ledger as
now known). Nothing here writes.

:func:`check` returns a list of problems (empty: the books are right) rather than raising,
so a report can go on and show all of them: an entry that does not balance (overall, on
one value date, or for one loan on one date), a trial balance that does not sum to zero, a
loan whose balance columns differ from its sub-ledger, a negative receivable, a broken
hash chain (in any shard), an entry no business fact explains.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from trellis.ledger.chart import BY_CODE, CHART, LOAN_BALANCE_ACCOUNTS, Acct, account
from trellis.ledger.journal import GENESIS_HASH, entry_hash, entry_label
from trellis.ledger.models import JournalEntry, JournalPosting, LedgerAccount, LedgerHead, Loan
from trellis.ledger.posting import account_codes, account_ids

if TYPE_CHECKING:
    from trellis.chain.client import Chain


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One account of a trial balance; ``balance_fen`` is signed (debit +), ``natural_fen``
    is shown in the account's normal direction."""

    code: str
    name: str
    name_zh: str
    kind: str
    balance_fen: int

    @property
    def debit_fen(self) -> int:
        """The balance if it is a debit (fen, >= 0), else 0."""
        return self.balance_fen if self.balance_fen > 0 else 0

    @property
    def credit_fen(self) -> int:
        """The balance if it is a credit (fen, >= 0), else 0."""
        return -self.balance_fen if self.balance_fen < 0 else 0

    @property
    def natural_fen(self) -> int:
        """The balance in the account's normal direction (fen; positive when usual)."""
        return self.balance_fen * account(self.code).sign

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data (amounts in fen)."""
        return {"code": self.code, "name": self.name, "name_zh": self.name_zh,
                "kind": self.kind, "debit_fen": self.debit_fen, "credit_fen": self.credit_fen,
                "balance_fen": self.natural_fen}


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """Every account of the chart with its balance at ``as_of`` (None: everything)."""

    currency: str
    as_of: date | None
    rows: tuple[BalanceRow, ...]

    @property
    def total_debit_fen(self) -> int:
        """The sum of debit balances, in fen."""
        return sum(r.debit_fen for r in self.rows)

    @property
    def total_credit_fen(self) -> int:
        """The sum of credit balances, in fen."""
        return sum(r.credit_fen for r in self.rows)

    @property
    def balanced(self) -> bool:
        """Whether debits equal credits (they must, always)."""
        return self.total_debit_fen == self.total_credit_fen

    def balance(self, code: str | Acct) -> int:
        """The signed balance of account *code* (debit positive)."""
        return next((r.balance_fen for r in self.rows if r.code == str(code)), 0)

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data (amounts in fen)."""
        return {"currency": self.currency,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "accounts": [r.as_dict() for r in self.rows],
                "total_debit_fen": self.total_debit_fen,
                "total_credit_fen": self.total_credit_fen, "balanced": self.balanced}


def balances(*, session: Session, as_of: date | None = None, loan_id: int | None = None,
             currency: str = "CNY") -> dict[str, int]:
    """Signed balance per account code at *as_of* (value date), for one loan or all."""
    codes = account_codes(session, currency)
    stmt = (select(col(JournalPosting.account_id), func.sum(col(JournalPosting.amount_fen)))
            .where(col(JournalPosting.account_id).in_(list(codes)))
            .group_by(col(JournalPosting.account_id)))
    if as_of is not None:
        stmt = stmt.where(col(JournalPosting.value_date) <= as_of)
    if loan_id is not None:
        stmt = stmt.where(col(JournalPosting.loan_id) == loan_id)
    out = {a.code.value: 0 for a in CHART}
    for account_id, total in session.execute(stmt):
        out[codes[account_id]] = int(total or 0)
    return out


def trial_balance(*, session: Session, as_of: date | None = None,
                  currency: str = "CNY") -> TrialBalance:
    """The trial balance of *currency* at *as_of* (by value date; None: all postings)."""
    sums = balances(session=session, as_of=as_of, currency=currency)
    rows = tuple(BalanceRow(a.code.value, a.name, a.name_zh, a.kind.value, sums[a.code.value])
                 for a in CHART)
    return TrialBalance(currency=currency, as_of=as_of, rows=rows)


def loan_ledger_balances(*, session: Session, loan_ids: list[int] | None = None,
                         as_of: date | None = None) -> dict[int, dict[str, int]]:
    """Per loan id, the sub-ledger balance (fen, debit positive) behind each of its
    balance columns (``principal_fen``, ...), from the postings dated up to *as_of*
    (None: all); *loan_ids* limits the loans. Loans without such postings are left out."""
    ids = account_ids(session)
    by_id = {ids[a.value]: name for name, a in LOAN_BALANCE_ACCOUNTS.items()}
    stmt = (select(col(JournalPosting.loan_id), col(JournalPosting.account_id),
                   func.sum(col(JournalPosting.amount_fen)))
            .where(col(JournalPosting.loan_id).is_not(None),
                   col(JournalPosting.account_id).in_(list(by_id)))
            .group_by(col(JournalPosting.loan_id), col(JournalPosting.account_id)))
    if loan_ids is not None:
        stmt = stmt.where(col(JournalPosting.loan_id).in_(loan_ids))
    if as_of is not None:
        stmt = stmt.where(col(JournalPosting.value_date) <= as_of)
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LOAN_BALANCE_ACCOUNTS, 0))
    for loan_id, account_id, total in session.execute(stmt):
        out[loan_id][by_id[account_id]] = int(total or 0)
    return dict(out)


def check(*, session: Session, hashes: bool = True, loan_ids: list[int] | None = None,
          facts: bool = True, chain: Chain | None = None) -> list[str]:
    """Every problem with the books, as plain sentences; an empty list means all is well.

    *hashes* also recomputes the hash chain (reads every posting); *loan_ids* limits the
    loan comparison to those loans (the journal checks always cover everything); *facts*
    reconciles the payment records and loan terms with the journal
    (:mod:`trellis.ledger.reconcile`: cash per loan and day, and a replay of every loan)
    and proves every entry explained by a business fact
    (:mod:`trellis.ledger.explained`: a balanced, correctly chained entry that no service
    would have posted is named).
    With *hashes*, the chain is also compared with the entries anchored on chain
    (:func:`trellis.ledger.anchoring.anchored_problems`; *chain* to ask the node whether it
    holds each batch root).
    """
    problems: list[str] = []
    # 1. every entry has >= 2 postings and sums to zero, on each value date
    stmt: Select[Any]   # the queries below, each with columns of its own
    stmt = (select(col(JournalPosting.entry_id), func.count(),
                   func.sum(col(JournalPosting.amount_fen)))
            .group_by(col(JournalPosting.entry_id))
            .having((func.count() < 2) | (func.sum(col(JournalPosting.amount_fen)) != 0)))
    for entry_id, n, total in session.execute(stmt):
        problems.append(f"Entry {entry_id} has {n} postings summing to {total} fen.")
    stmt = (select(col(JournalPosting.entry_id), col(JournalPosting.value_date),
                   func.sum(col(JournalPosting.amount_fen)))
            .group_by(col(JournalPosting.entry_id), col(JournalPosting.value_date))
            .having(func.sum(col(JournalPosting.amount_fen)) != 0))
    for entry_id, vd, total in session.execute(stmt):
        problems.append(f"Entry {entry_id} does not balance on {vd}: {total} fen.")
    entries_without = session.execute(
        select(func.count()).select_from(JournalEntry)
        .where(~col(JournalEntry.id).in_(select(col(JournalPosting.entry_id))))).scalar_one()
    if entries_without:
        problems.append(f"{entries_without} entries have no postings.")
    # 2. each loan's sub-ledger balances on every date
    stmt = (select(col(JournalPosting.loan_id), col(JournalPosting.value_date),
                   func.sum(col(JournalPosting.amount_fen)))
            .where(col(JournalPosting.loan_id).is_not(None))
            .group_by(col(JournalPosting.loan_id), col(JournalPosting.value_date))
            .having(func.sum(col(JournalPosting.amount_fen)) != 0))
    for loan_id, vd, total in session.execute(stmt):
        problems.append(f"Loan {loan_id}'s postings on {vd} do not balance: {total} fen.")
    # 3. the trial balance
    tb = trial_balance(session=session)
    if not tb.balanced:
        problems.append(f"Trial balance: debits {tb.total_debit_fen} fen, credits "
                        f"{tb.total_credit_fen} fen.")
    # 4. loans against their sub-ledgers
    ledger = loan_ledger_balances(session=session, loan_ids=loan_ids)
    cols = list(LOAN_BALANCE_ACCOUNTS)
    stmt = select(col(Loan.id), col(Loan.allowance_fen), *(getattr(Loan, c) for c in cols))
    if loan_ids is not None:
        stmt = stmt.where(col(Loan.id).in_(loan_ids))
    zero = dict.fromkeys(LOAN_BALANCE_ACCOUNTS, 0)
    allowance = _loan_allowances(session, loan_ids)
    for loan_id, allowance_fen, *values in session.execute(stmt):
        book = ledger.get(loan_id, zero)
        for name, own in zip(cols, values, strict=True):
            if own != book[name]:
                problems.append(f"Loan {loan_id}: {name} is {own} fen but "
                                f"{account(LOAN_BALANCE_ACCOUNTS[name]).name} for the loan is "
                                f"{book[name]} fen.")
            if own < 0:
                problems.append(f"Loan {loan_id}: {name} is negative ({own} fen).")
        if allowance_fen != allowance.get(loan_id, 0):
            problems.append(f"Loan {loan_id}: allowance_fen is {allowance_fen} fen but the "
                            f"loss allowance for the loan is {allowance.get(loan_id, 0)} fen.")
    for loan_id, book in ledger.items():
        if any(v < 0 for v in book.values()):
            problems.append(f"Loan {loan_id}: a receivable is negative in the ledger: {book}.")
    if facts:
        # A real cycle inside the ledger: the checks below read the journal through this
        # module's helpers (head, loan_ledger_balances), so they are imported when run.
        from trellis.ledger.explained import unexplained_problems
        from trellis.ledger.reconcile import (
            cash_problems,
            disbursement_problems,
            replay_problems,
        )

        problems.extend(unexplained_problems(session))
        problems.extend(cash_problems(session, loan_ids))
        problems.extend(disbursement_problems(session, loan_ids))
        problems.extend(replay_problems(session, loan_ids))
    if hashes:
        # The same cycle: anchoring reads this module's head().
        from trellis.ledger.anchoring import anchored_problems

        problems.extend(verify_chain(session=session))
        problems.extend(anchored_problems(session=session, chain=chain))
    return problems


def _loan_allowances(session: Session, loan_ids: list[int] | None) -> dict[int, int]:
    """Per loan, the loss allowance held (credit balance shown positive)."""
    ids = account_ids(session)
    stmt = (select(col(JournalPosting.loan_id), func.sum(col(JournalPosting.amount_fen)))
            .where(col(JournalPosting.loan_id).is_not(None),
                   col(JournalPosting.account_id) == ids[Acct.LOSS_ALLOWANCE.value])
            .group_by(col(JournalPosting.loan_id)))
    if loan_ids is not None:
        stmt = stmt.where(col(JournalPosting.loan_id).in_(loan_ids))
    return {loan_id: -int(total) for loan_id, total in session.execute(stmt)}


def verify_chain(*, session: Session, currency: str = "CNY") -> list[str]:
    """Recompute every entry's hash, shard by shard in sequence order; list each mismatch,
    gap or head that does not point at its shard's last entry."""
    codes = account_codes(session, currency)
    problems: list[str] = []
    entries = session.execute(
        select(col(JournalEntry.id), col(JournalEntry.shard), col(JournalEntry.seq),
               col(JournalEntry.kind),
               col(JournalEntry.idempotency_key), col(JournalEntry.value_date),
               col(JournalEntry.loan_id),
               col(JournalEntry.reverses_id), col(JournalEntry.memo), col(JournalEntry.prev_hash),
               col(JournalEntry.hash))
        .where(col(JournalEntry.currency) == currency)
        .order_by(col(JournalEntry.shard), col(JournalEntry.seq))).all()
    postings = iter(session.execute(
        select(col(JournalPosting.entry_id), col(JournalPosting.account_id),
               col(JournalPosting.loan_id),
               col(JournalPosting.value_date), col(JournalPosting.amount_fen))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_id))
        .where(col(JournalEntry.currency) == currency)
        .order_by(col(JournalEntry.shard), col(JournalEntry.seq), col(JournalPosting.id))
        .execution_options(yield_per=20_000)))
    pending = next(postings, None)
    ends: dict[int, tuple[int, str]] = {}   # shard -> (last seq, last hash)
    for (id_, shard, seq, kind, key, vd, loan_id, reverses_id, memo, stored_prev,
         stored) in entries:
        rows = []
        while pending is not None and pending[0] == id_:
            rows.append((codes[pending[1]], pending[2], pending[3], pending[4]))
            pending = next(postings, None)
        last_seq, prev_hash = ends.get(shard, (0, GENESIS_HASH))
        if seq != last_seq + 1:
            problems.append(f"{entry_label(last_seq + 1, shard)} is missing (found {seq}).")
        if stored_prev != prev_hash:
            problems.append(f"{entry_label(seq, shard)} does not link to the hash of entry "
                            f"{seq - 1}.")
        digest = entry_hash(prev_hash=stored_prev, seq=seq, currency=currency, kind=kind,
                            idempotency_key=key, value_date=vd, loan_id=loan_id,
                            reverses_id=reverses_id, memo=memo, postings=rows, shard=shard)
        if digest != stored:
            problems.append(f"{entry_label(seq, shard)} ({key}) was altered: its hash does "
                            "not match.")
        ends[shard] = (seq, stored)
    for shard, seq, digest in heads(session=session, currency=currency):
        end_seq, end_hash = ends.pop(shard, (0, GENESIS_HASH))
        if seq != end_seq or digest != end_hash:
            where = "The chain head" if shard == 0 else f"The chain head of shard {shard}"
            problems.append(f"{where} says entry {seq} but the journal ends at {end_seq}.")
    for shard, (end_seq, _h) in sorted(ends.items()):
        problems.append(f"Shard {shard} has entries up to {end_seq} but no chain head.")
    return problems


def heads(*, session: Session, currency: str = "CNY") -> list[tuple[int, int, str]]:
    """Every shard's (shard, sequence number, hash) of its latest entry, by shard."""
    return [tuple(r) for r in session.execute(
        select(col(LedgerHead.shard), col(LedgerHead.seq), col(LedgerHead.hash))
        .where(col(LedgerHead.currency) == currency).order_by(col(LedgerHead.shard)))]


def entries_up_to(*, session: Session, as_of: date, currency: str = "CNY") -> int:
    """How many journal entries of *currency* are dated (value date) up to *as_of*: what a
    trial balance of that day sums."""
    return int(session.scalar(select(func.count()).select_from(JournalEntry).where(
        col(JournalEntry.currency) == currency, col(JournalEntry.value_date) <= as_of)) or 0)


def head(*, session: Session, currency: str = "CNY") -> tuple[int, str]:
    """(entries in the journal, fingerprint of its heads): what anchoring fixes.

    With one shard in use (SQLite, or a book whose entries are all in shard 0) that is
    shard 0's (sequence number, hash) of its latest entry; with several, the number of
    entries across shards and the SHA-256 of every non-empty shard's ``shard:seq:hash``.
    """
    rows = [r for r in heads(session=session, currency=currency) if r[1]]
    if not rows:
        return 0, GENESIS_HASH
    if [r[0] for r in rows] == [0]:
        return rows[0][1], rows[0][2]
    text_ = "".join(f"{shard}:{seq}:{digest}\n" for shard, seq, digest in rows)
    return sum(r[1] for r in rows), hashlib.sha256(text_.encode()).hexdigest()


__all__ = ["BY_CODE", "BalanceRow", "LedgerAccount", "TrialBalance", "balances", "check",
           "entries_up_to", "head", "heads", "loan_ledger_balances", "trial_balance",
           "verify_chain"]


def borrowers(*, session: Session, cluster_id: int) -> set[int]:
    """The firms of *cluster_id* that applied for or hold a loan: the bank's customers
    already, whether or not anyone of theirs has a login (onboarding's invitation list
    is given this, so it does not offer them an account as if they had none)."""
    from trellis.ledger.models import Application
    from trellis.trade.models import Firm

    in_cluster = select(col(Firm.id)).where(col(Firm.cluster_id) == cluster_id)
    found = set(session.execute(select(col(Loan.firm_id)).where(
        col(Loan.firm_id).in_(in_cluster)).distinct()).scalars())
    found |= set(session.execute(select(col(Application.firm_id)).where(
        col(Application.firm_id).in_(in_cluster)).distinct()).scalars())
    return found
