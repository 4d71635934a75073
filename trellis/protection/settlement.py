"""The platform's settlement account (where vendors repay), changed under four eyes.

Every vendor is told to repay into this one account, so changing it is the most valuable
thing a single compromised administrator could do. :func:`propose` records a new account
(number checked: 8 to 32 digits, not a placeholder such as a long run of one digit or a
counting sequence); only :func:`approve` by a *different* administrator puts it in force
(the policy row keeps the approved proposal's id, so the pages show who proposed and who
approved it); :func:`reject` ends a proposal (its proposer may withdraw it this way).

Held under concurrency, not only one request at a time (outside drill attack13):

- One proposal waits at a time. :func:`propose` refuses a second one naming the one that
  waits, and the partial unique index ``uq_settlement_account_changes_waiting`` refuses it
  too when two proposals race past that check (the loser gets the same refusal).
- A decision is one conditional state transition (``UPDATE ... WHERE status =
  'proposed'``): of sixteen simultaneous approvals exactly one moves the row, and only
  its caller goes on (puts the account in force, writes the audit entry); the others get
  :class:`SettlementChangeRefused` saying who already decided it.
- The approver must be another *person*, as far as the accounts can tell
  (:func:`approval_refusal`): not the proposer, not an account in the proposer's chain of
  creation (one the proposer created, or one created by such an account, or one that
  created the proposer), and not an account created after the proposal was made. An
  administrator can always make a second admin account; the rule keeps that account from
  being the second pair of eyes. The check constraint ``four_eyes`` refuses a proposal
  decided by its proposer even if a caller skipped this module.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.clock import beijing_text, utcnow
from trellis.db import id_of
from trellis.errors import PermissionDenied
from trellis.messages import N_, Ident, Message, msg
from trellis.protection.bank import account_digits, normalise_account
from trellis.protection.errors import BadAccount, SettlementChangeRefused
from trellis.protection.models import SettlementAccountChange, SettlementStatus
from trellis.protection.warnings import policy

logger = logging.getLogger(__name__)

#: a run of this many equal digits marks a placeholder ("6217 0000 0000 0000 888")
SAME_DIGIT_RUN = 6
#: a counting run of this many digits marks a placeholder ("1234567890")
COUNTING_RUN = 6


def looks_like_placeholder(digits: str) -> bool:
    """Whether *digits* (an account number, digits only) looks made up: a run of
    :data:`SAME_DIGIT_RUN` equal digits, or :data:`COUNTING_RUN` digits counting up or down."""
    if re.search(rf"(\d)\1{{{SAME_DIGIT_RUN - 1},}}", digits):
        return True
    up = "01234567890123456789"
    down = up[::-1]
    return any(digits[i:i + COUNTING_RUN] in up or digits[i:i + COUNTING_RUN] in down
               for i in range(len(digits) - COUNTING_RUN + 1))


def check_account(raw: str) -> str:
    """The settlement account number *raw* as ASCII digits (the payout account's rule,
    :func:`trellis.protection.bank.account_digits`), or :class:`BadAccount` when it is not
    8 to 32 digits 0-9 (full-width ones read as such) or looks like a placeholder."""
    digits = account_digits(raw, field="account")
    if looks_like_placeholder(digits):
        raise BadAccount(N_("This number looks like a placeholder (a long run of one digit or "
                            "a counting sequence); enter the real account number."),
                         field="account")
    return digits


def _group(digits: str) -> str:
    """Digits in groups of four, as a bank prints an account number."""
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def open_proposal(*, session: Session) -> SettlementAccountChange | None:
    """The proposal waiting for a second administrator, or None."""
    return session.exec(select(SettlementAccountChange).where(
        SettlementAccountChange.status == SettlementStatus.PROPOSED)).first()


def in_force(*, session: Session) -> SettlementAccountChange | None:
    """The approved proposal behind the settlement account in force (None: the account
    was set at installation, e.g. the demo's, and never changed through approval)."""
    change_id = policy(session=session).settlement_change_id
    return session.get(SettlementAccountChange, change_id) if change_id else None


def history(*, session: Session, limit: int = 10) -> list[SettlementAccountChange]:
    """The latest proposals, newest first."""
    return list(session.exec(select(SettlementAccountChange)
                             .order_by(col(SettlementAccountChange.id).desc()).limit(limit)))


def _who(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return (user.name or user.email) if user else "—"


def _waiting(session: Session, change: SettlementAccountChange) -> SettlementChangeRefused:
    return SettlementChangeRefused(msg(N_(
        "Proposal %(id)s (account %(account)s, proposed by %(by)s at %(at)s, Beijing time) is "
        "already waiting for approval; approve or reject it first."),
        id=Ident(id_of(change)), account=change.account, by=_who(session, change.proposed_by_id),
        at=beijing_text(change.proposed_at)))


def _admin(user: User | None) -> User:
    if user is None or user.role != "admin":
        raise PermissionDenied(N_("Only an administrator can change the settlement account."))
    return user


def propose(*, session: Session, user: User | None, account: str, account_name: str,
            bank_name: str, now: datetime | None = None) -> SettlementAccountChange:
    """Administrator *user* proposes a new settlement account; nothing changes until
    another administrator approves it. Raises :class:`BadAccount` (number, name, bank),
    :class:`SettlementChangeRefused` when a proposal is already open or the account is
    the one in force. Flushes."""
    user = _admin(user)
    digits = check_account(account)
    account_name, bank_name = (account_name or "").strip(), (bank_name or "").strip()
    if not account_name:
        raise BadAccount(N_("Enter the account's name."), field="account_name")
    if not bank_name:
        raise BadAccount(N_("Enter the bank and branch of the account."), field="bank_name")
    waiting = open_proposal(session=session)
    if waiting is not None:
        raise _waiting(session, waiting)
    rules = policy(session=session)
    if (normalise_account(rules.settlement_account) == digits
            and rules.settlement_account_name == account_name
            and rules.settlement_bank == bank_name):
        raise SettlementChangeRefused(N_("This is already the settlement account in force."))
    change = SettlementAccountChange(account=_group(digits), account_name=account_name[:120],
                                     bank_name=bank_name[:120], proposed_by_id=id_of(user),
                                     proposed_at=now or utcnow())
    try:
        with session.begin_nested():   # a concurrent proposal got in after the check above
            session.add(change)
            session.flush()
    except IntegrityError:
        waiting = open_proposal(session=session)
        if waiting is None:
            raise
        raise _waiting(session, waiting) from None
    logger.info("settlement account change %s proposed by user %s", change.id, user.id)
    return change


def _as_utc(value: datetime) -> datetime:
    """*value* as aware UTC: a time read back from the database is naive UTC, one just
    made by :func:`trellis.clock.utcnow` is aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _creation_chain(session: Session, user: User) -> set[int]:
    """The ids of the accounts that created *user*, that one's creator, and so on (a
    cycle or a long chain ends the walk)."""
    chain: set[int] = set()
    creator = user.created_by_id
    while creator is not None and creator not in chain and len(chain) < 64:
        chain.add(creator)
        above = session.get(User, creator)
        creator = above.created_by_id if above is not None else None
    return chain


def approval_refusal(*, session: Session, user: User,
                     change: SettlementAccountChange) -> Message | None:
    """Why administrator *user* may not approve *change* (None: they may). The approver
    must not be the proposer, nor linked to them by account creation (either made the
    other, directly or through accounts they made), nor an account created after the
    proposal: one person holding two admin accounts is still one pair of eyes."""
    if change.proposed_by_id == user.id:
        return msg(N_("You proposed this account: a different administrator must approve it."))
    proposer = session.get(User, change.proposed_by_id)
    if proposer is not None and (proposer.id in _creation_chain(session, user)
                                 or user.id in _creation_chain(session, proposer)):
        return msg(N_("Your account and the proposer's were created one by the other: a "
                      "second administrator who is independent of the proposer must approve "
                      "it."))
    if _as_utc(user.created_at) > _as_utc(change.proposed_at):
        return msg(N_("Your account was created after this proposal was made: an "
                      "administrator who already existed then must approve it."))
    return None


def _decided(session: Session, change_id: int) -> SettlementChangeRefused:
    """The refusal for a proposal that is not (or no longer) waiting, saying why."""
    change = session.get(SettlementAccountChange, change_id, populate_existing=True)
    if change is None or change.status == SettlementStatus.PROPOSED:
        return SettlementChangeRefused(N_("This proposal is not waiting for a decision."))
    if change.status == SettlementStatus.APPROVED:
        return SettlementChangeRefused(msg(N_(
            "This proposal was already approved by %(by)s at %(at)s (Beijing time); nothing "
            "changed."), by=_who(session, change.decided_by_id),
            at=beijing_text(change.decided_at or change.proposed_at)))
    if change.decided_by_id is None:
        return SettlementChangeRefused(N_("This proposal was already withdrawn by its proposer; "
                                          "nothing changed."))
    return SettlementChangeRefused(msg(N_("This proposal was already rejected by %(by)s; "
                                          "nothing changed."),
                                       by=_who(session, change.decided_by_id)))


def _decidable(session: Session, change_id: int) -> SettlementAccountChange:
    change = session.get(SettlementAccountChange, change_id)
    if change is None or change.status != SettlementStatus.PROPOSED:
        raise _decided(session, change_id)
    return change


def _move(session: Session, change: SettlementAccountChange, status: SettlementStatus,
          decided_by_id: int | None, at: datetime) -> None:
    """The one conditional transition out of "proposed": only the caller whose UPDATE
    found the row still waiting goes on; a concurrent decision that got there first (on
    PostgreSQL this UPDATE waits for it to commit, then finds the row decided) raises
    :class:`SettlementChangeRefused` saying who decided it."""
    moved = session.execute(
        update(SettlementAccountChange)
        .where(col(SettlementAccountChange.id) == change.id,
               col(SettlementAccountChange.status) == SettlementStatus.PROPOSED)
        .values(status=status, decided_by_id=decided_by_id, decided_at=at)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:   # type: ignore[attr-defined]
        raise _decided(session, id_of(change))
    session.refresh(change)


def approve(*, session: Session, user: User | None, change_id: int,
            now: datetime | None = None) -> SettlementAccountChange:
    """A second administrator approves proposal *change_id*: its account is in force now.
    Raises :class:`SettlementChangeRefused` when the approver may not approve it
    (:func:`approval_refusal`) or it is not waiting (also when a simultaneous decision
    got there first). Flushes."""
    user = _admin(user)
    change = _decidable(session, change_id)
    refusal = approval_refusal(session=session, user=user, change=change)
    if refusal is not None:
        raise SettlementChangeRefused(refusal)
    _move(session, change, SettlementStatus.APPROVED, user.id, now or utcnow())
    rules = policy(session=session)
    rules.settlement_account, rules.settlement_account_name = (change.account,
                                                               change.account_name)
    rules.settlement_bank, rules.settlement_change_id = change.bank_name, change.id
    rules.updated_at, rules.updated_by_id = change.decided_at or utcnow(), user.id
    session.add(rules)
    session.flush()
    logger.info("settlement account change %s approved by user %s", change.id, user.id)
    return change


def reject(*, session: Session, user: User | None, change_id: int,
           now: datetime | None = None) -> SettlementAccountChange:
    """Reject (or, by its proposer, withdraw) proposal *change_id*; the account in force
    stays. Raises :class:`SettlementChangeRefused` when it is not waiting (also when a
    simultaneous decision got there first). Flushes."""
    user = _admin(user)
    change = _decidable(session, change_id)
    # the four-eyes constraint: a proposer's withdrawal records no decider
    decider = None if change.proposed_by_id == user.id else user.id
    _move(session, change, SettlementStatus.REJECTED, decider, now or utcnow())
    return change


__all__ = ["approval_refusal", "approve", "check_account", "history", "in_force",
           "looks_like_placeholder", "open_proposal", "propose", "reject"]
