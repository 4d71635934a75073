"""The account a firm's loans are paid into, and the firm's consent to it.

A loan's money goes only to an account the vendor declared (bank, account number, holder)
and consented to: a :class:`~trellis.protection.models.PayoutAccount`. The holder must be
the firm's registered name, so money never leaves for a third party's account. At most one
account is in force per firm (``replaced_at`` empty; a unique partial index keeps it so).

A loan records the account the vendor consented to for it (``loans.payout_account_id``,
at acceptance). :func:`require_for_payout` is the pay-out's check: the firm must have an
account in force, and a loan bound to an earlier account (the account changed after the
offer) waits until the vendor consents to the new one for that loan.

Declaring and changing the account (password, delay, notices) is :mod:`trellis.protection.bank`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime

from sqlmodel import Session, col, select

from trellis.banking import masked, shown
from trellis.clock import utcnow
from trellis.messages import N_, msg
from trellis.protection.errors import NoPayoutAccount, NotOwnPayoutAccount, PayoutAccountChanged
from trellis.protection.models import PayoutAccount

logger = logging.getLogger(__name__)


def label(account: PayoutAccount | None) -> str:
    """A payout account as pages show it (:func:`shown`: ``招商银行 ····1234``); "—" for
    None."""
    if account is None:
        return "—"
    return shown(account.bank_name, account.account_number)


def same_holder(holder: str, firm_name: str) -> bool:
    """Whether *holder* is the firm's registered name *firm_name*, ignoring spaces, case
    and full-width forms (``（`` and ``(``)."""
    def norm(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()
    return bool(norm(holder)) and norm(holder) == norm(firm_name)


def current(*, session: Session, firm_id: int) -> PayoutAccount | None:
    """The firm's consented payout account in force, or None."""
    return session.exec(select(PayoutAccount).where(
        PayoutAccount.firm_id == firm_id, col(PayoutAccount.replaced_at).is_(None))).first()


def install(*, session: Session, firm_id: int, bank_name: str, account_number: str,
            holder_name: str, consented_by_id: int | None, consented_at: datetime | None = None,
            change_id: int | None = None, source: str = "vendor",
            now: datetime | None = None) -> PayoutAccount:
    """Make the given account the firm's payout account in force (the one before is
    marked replaced at *now*). Callers check the number, holder and consent. Flushes."""
    now = now or utcnow()
    old = current(session=session, firm_id=firm_id)
    if old is not None:
        old.replaced_at = now
        session.add(old)
        session.flush()   # the unique index allows one account in force
    row = PayoutAccount(firm_id=firm_id, bank_name=bank_name.strip()[:120],
                        account_number=account_number, holder_name=holder_name.strip()[:200],
                        source=source, consented_by_id=consented_by_id,
                        consented_at=consented_at or now, change_id=change_id)
    session.add(row)
    session.flush()
    logger.info("firm %s: payout account %s in force (%s)", firm_id, row.id, source)
    return row


def retire(*, session: Session, firm_id: int, now: datetime | None = None) -> bool:
    """End the firm's payout account in force (its number changed without the new one
    being consented to); returns whether there was one. Flushes."""
    old = current(session=session, firm_id=firm_id)
    if old is None:
        return False
    old.replaced_at = now or utcnow()
    session.add(old)
    session.flush()
    return True


def require_for_payout(*, session: Session, firm_id: int,
                       bound_id: int | None) -> PayoutAccount:
    """The account a loan of *firm_id* bound to account *bound_id* (None: none yet) is paid
    into. Raises :class:`NoPayoutAccount` when the firm has no consented account and
    :class:`PayoutAccountChanged` when the account changed after the vendor consented to
    *bound_id* for the loan, :class:`NotOwnPayoutAccount` (naming no account) when
    *bound_id* is not one of the firm's own accounts."""
    account = current(session=session, firm_id=firm_id)
    if account is None:
        raise NoPayoutAccount(N_("Not paid out yet: the firm has not declared and consented to a "
                                 "payout account. The vendor does it on its bank-account page; "
                                 "the loan is paid out after that."))
    if bound_id is not None and bound_id != account.id:
        earlier = session.get(PayoutAccount, bound_id)
        if earlier is None or earlier.firm_id != firm_id:
            # never another firm's bank or digits (attack 13, finding 6: a forged id at
            # acceptance was refused with that firm's account called this loan's)
            raise NotOwnPayoutAccount(N_(
                "That payout account is not one of this firm's consented payout accounts; "
                "nothing was changed."))
        raise PayoutAccountChanged(msg(N_(
            "Not paid out yet: the firm's payout account changed to %(account)s after the "
            "vendor consented to %(earlier)s for this loan. The vendor must confirm the new "
            "account on the loan's page before the loan is paid out."),
            account=label(account), earlier=label(earlier)))
    return account


# masked and shown live in trellis.banking (network uses them too); kept importable here
__all__ = ["current", "install", "label", "masked", "require_for_payout", "retire",
           "same_holder", "shown"]
