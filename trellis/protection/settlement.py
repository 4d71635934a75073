"""The platform's settlement account (where vendors repay), changed under four eyes.

Every vendor is told to repay into this one account, so changing it is the most valuable
thing a single compromised administrator could do. :func:`propose` records a new account
(number checked: 8 to 32 digits, not a placeholder such as a long run of one digit or a
counting sequence); only :func:`approve` by a *different* administrator puts it in force
(the policy row keeps the approved proposal's id, so the pages show who proposed and who
approved it); :func:`reject` ends a proposal (its proposer may withdraw it this way). One
proposal is open at a time. The check constraint ``four_eyes`` refuses a proposal decided
by its proposer even if a caller skipped this module.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.clock import utcnow
from trellis.db import id_of
from trellis.errors import PermissionDenied
from trellis.messages import N_
from trellis.protection.bank import ACCOUNT_RE, normalise_account
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
    """The settlement account number *raw* without spaces and dashes, or
    :class:`BadAccount` when it is not 8 to 32 digits or looks like a placeholder."""
    digits = normalise_account(raw)
    if not ACCOUNT_RE.match(digits):
        raise BadAccount(N_("Enter the account number: 8 to 32 digits."), field="account")
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
    if open_proposal(session=session) is not None:
        raise SettlementChangeRefused(N_("A proposal is already waiting for approval; approve "
                                         "or reject it first."))
    rules = policy(session=session)
    if (normalise_account(rules.settlement_account) == digits
            and rules.settlement_account_name == account_name
            and rules.settlement_bank == bank_name):
        raise SettlementChangeRefused(N_("This is already the settlement account in force."))
    change = SettlementAccountChange(account=_group(digits), account_name=account_name[:120],
                                     bank_name=bank_name[:120], proposed_by_id=id_of(user),
                                     proposed_at=now or utcnow())
    session.add(change)
    session.flush()
    logger.info("settlement account change %s proposed by user %s", change.id, user.id)
    return change


def _decidable(session: Session, change_id: int) -> SettlementAccountChange:
    change = session.get(SettlementAccountChange, change_id)
    if change is None or change.status != SettlementStatus.PROPOSED:
        raise SettlementChangeRefused(N_("This proposal is not waiting for a decision."))
    return change


def approve(*, session: Session, user: User | None, change_id: int,
            now: datetime | None = None) -> SettlementAccountChange:
    """A second administrator approves proposal *change_id*: its account is in force now.
    Raises :class:`SettlementChangeRefused` when the approver proposed it or it is not
    open. Flushes."""
    user = _admin(user)
    change = _decidable(session, change_id)
    if change.proposed_by_id == user.id:
        raise SettlementChangeRefused(N_("You proposed this account: a different "
                                         "administrator must approve it."))
    change.status, change.decided_by_id, change.decided_at = (SettlementStatus.APPROVED,
                                                              user.id, now or utcnow())
    rules = policy(session=session)
    rules.settlement_account, rules.settlement_account_name = (change.account,
                                                               change.account_name)
    rules.settlement_bank, rules.settlement_change_id = change.bank_name, change.id
    rules.updated_at, rules.updated_by_id = change.decided_at, user.id
    session.add_all([change, rules])
    session.flush()
    logger.info("settlement account change %s approved by user %s", change.id, user.id)
    return change


def reject(*, session: Session, user: User | None, change_id: int,
           now: datetime | None = None) -> SettlementAccountChange:
    """Reject (or, by its proposer, withdraw) proposal *change_id*; the account in force
    stays. Flushes."""
    user = _admin(user)
    change = _decidable(session, change_id)
    change.status, change.decided_at = SettlementStatus.REJECTED, now or utcnow()
    # the four-eyes constraint: a proposer's withdrawal records no decider
    change.decided_by_id = None if change.proposed_by_id == user.id else user.id
    session.add(change)
    session.flush()
    return change


__all__ = ["approve", "check_account", "history", "in_force", "looks_like_placeholder",
           "open_proposal", "propose", "reject"]
