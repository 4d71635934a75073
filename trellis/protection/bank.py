"""Declaring and changing a firm's payout bank account: re-authenticate, wait, notify, warn.

:func:`declare` is the vendor's declaration of its payout account (bank, number, holder =
the firm's registered name) with its consent to pay-outs into it
(:mod:`trellis.protection.payout`). A firm's first declaration of the account already on
file (or of one when none is on file) is in force at once; any other account goes
through the delayed change below and is in force when it is applied.

Payee fraud usually arrives as "please pay into our new account". So a change request
needs the requester's password again; it takes effect only after the policy's delay
(24 hours by default), during which any user of the firm can cancel it; every other user
of the firm is notified when it is requested, cancelled and applied. The account in force
until then stays unchanged. :func:`apply_due` (a scheduled job, and on each page view of
the firm) applies the requests whose time has come.

Repayments go only to the platform's settlement account: :func:`check_repayment_account`
refuses any other account a vendor was told to pay into.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from trellis.accounts.models import User
from trellis.accounts.services import has_consent, verify_password
from trellis.accounts.services import withdraw_consent as withdraw_any_consent
from trellis.clock import beijing_text, utcnow
from trellis.db import id_of, is_postgres
from trellis.messages import N_, msg
from trellis.network.build import bump_data_version
from trellis.protection import notifications, payout
from trellis.protection.errors import (
    BadAccount,
    ChangeNotFound,
    ChangePending,
    ConsentMissing,
    HolderMismatch,
    NotPlatformAccount,
    ReauthenticationFailed,
)
from trellis.protection.models import BankAccountChange, ChangeStatus, PayoutAccount
from trellis.protection.warnings import policy
from trellis.trade.models import Firm

logger = logging.getLogger(__name__)
#: 8 to 32 ASCII digits (``\d`` would take any script's digits, e.g. Arabic-Indic ٦)
ACCOUNT_RE = re.compile(r"^[0-9]{8,32}$")


def normalise_account(raw: str | None) -> str:
    """A bank account number as typed, read as NFKC (full-width ``６２２２`` and ``－``
    become ``6222`` and ``-``), without spaces and dashes ("" for None)."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))


def account_digits(raw: str | None, *, field: str = "account") -> str:
    """The account number *raw* as the ASCII digits a bank's systems read: the one check
    of every account number typed in (the vendor's payout account, the platform's
    settlement account). Full-width digits are the same digits typed with a Chinese input
    method and are accepted as ASCII (:func:`normalise_account`); digits of other scripts
    (Arabic-Indic ``٦``, Devanagari ``६`` ...) are refused, as a number that only looks
    right on screen must never become the account money is paid into. Raises
    :class:`BadAccount` on *field* unless the result is 8 to 32 digits."""
    digits = normalise_account(raw)
    foreign = next((c for c in digits if c.isdigit() and not c.isascii()), None)
    if foreign is not None:
        raise BadAccount(msg(N_("Type the account number with the digits 0 to 9: %(digit)s "
                                "is a digit of another script."), digit=foreign), field=field)
    if not ACCOUNT_RE.match(digits):
        raise BadAccount(N_("Enter the account number: 8 to 32 digits."), field=field)
    return digits


def pending_for(*, session: Session, firm_id: int) -> BankAccountChange | None:
    """The firm's change of bank account waiting for its delay to pass, or None."""
    return session.exec(select(BankAccountChange).where(
        BankAccountChange.firm_id == firm_id,
        BankAccountChange.status == ChangeStatus.PENDING)).first()


def history(*, session: Session, firm_id: int, limit: int = 20) -> list[BankAccountChange]:
    """The firm's changes of bank account, newest first, at most *limit*."""
    return list(session.exec(select(BankAccountChange).where(
        col(BankAccountChange.firm_id) == firm_id).order_by(col(BankAccountChange.id).desc())
        .limit(limit)))


def request_change(*, session: Session, firm_id: int, user: User, password: str,
                   new_account: str, account_name: str = "", bank_name: str = "",
                   now: datetime | None = None, consented: bool = False) -> BankAccountChange:
    """Ask to change the firm's payout account; effective after the policy's delay.
    *consented*: the requester consented to pay-outs into the new account (then it becomes
    the firm's consented payout account when applied; otherwise the firm has none then).

    Raises :class:`ReauthenticationFailed` (wrong password), :class:`BadAccount`,
    :class:`ChangePending` (one is already waiting).
    """
    now = now or utcnow()
    if user.firm_id != firm_id:
        raise ChangeNotFound(N_("You can only change your own firm's account."))
    if not password or not verify_password(user.password_hash, password):
        raise ReauthenticationFailed(N_("Your password was not correct; the account was not "
                                        "changed."))
    account = account_digits(new_account, field="new_account")
    query = select(Firm).where(Firm.id == firm_id)
    if is_postgres(session):
        query = query.with_for_update()
    firm = session.exec(query).one()
    if normalise_account(firm.bank_account) == account:
        raise BadAccount(N_("This is already your firm's account."), field="new_account")
    if pending_for(session=session, firm_id=firm_id) is not None:
        raise ChangePending(N_("A change of account is already waiting; cancel it first if it "
                               "is wrong."))
    delay = policy(session=session).bank_change_delay_hours
    change = BankAccountChange(firm_id=firm_id, requested_by_id=id_of(user),
                               old_account=firm.bank_account, new_account=account,
                               account_name=(account_name or "").strip()[:120],
                               bank_name=(bank_name or "").strip()[:120], requested_at=now,
                               effective_at=now + timedelta(hours=delay), consented=consented)
    session.add(change)
    session.flush()
    when = beijing_text(change.effective_at)
    new = payout.shown(change.bank_name, account)
    notifications.notify_firm(
        session=session, firm_id=firm_id, kind="bank_change_requested",
        exclude_user_id=user.id,
        message_en=f"{user.email} asked to change your firm's payout account to "
                   f"{new}. It takes effect at {when} (Beijing time) unless someone "
                   "cancels it. "
                   "If you did not expect this, cancel it now and call us.",
        message_zh=f"{user.email} 申请将贵公司收款账户改为 {new}，"
                   f"将于 {when}（北京时间）生效。"
                   "如非本公司所为，请立即取消并联系我们。")
    logger.info("firm %s: bank account change %s requested, effective %s", firm_id, change.id,
                change.effective_at)
    return change


def cancel_change(*, session: Session, firm_id: int, change_id: int, user: User,
                  now: datetime | None = None) -> BankAccountChange:
    """Cancel the firm's pending change *change_id* (by *user*); raises ChangeNotFound for another
    firm's or a missing one, ChangePending when it is no longer pending. Flushes."""
    change = session.get(BankAccountChange, change_id)
    if change is None or change.firm_id != firm_id:
        raise ChangeNotFound(N_("That change request does not exist."))
    if change.status != ChangeStatus.PENDING:
        raise ChangePending(msg(N_("This change was already %(status)s; nothing changed."),
                                status=msg(N_("applied") if change.status == ChangeStatus.APPLIED
                                           else N_("cancelled"))))
    change.status = ChangeStatus.CANCELLED
    change.cancelled_at = now or utcnow()
    change.cancelled_by_id = user.id
    session.add(change)
    session.flush()
    new = payout.shown(change.bank_name, change.new_account)
    notifications.notify_firm(
        session=session, firm_id=firm_id, kind="bank_change_cancelled",
        exclude_user_id=user.id,
        message_en=f"{user.email} cancelled the change of your payout account to "
                   f"{new}.",
        message_zh=f"{user.email} 已取消将收款账户改为 {new} 的申请。")
    return change


def apply_due(*, session: Session, now: datetime | None = None,
              firm_id: int | None = None) -> int:
    """Apply every pending change whose delay has passed; returns how many."""
    now = now or utcnow()
    query = select(BankAccountChange).where(BankAccountChange.status == ChangeStatus.PENDING,
                                            BankAccountChange.effective_at <= now)
    if firm_id is not None:
        query = query.where(BankAccountChange.firm_id == firm_id)
    changes = session.exec(query).all()
    for change in changes:
        firm = session.get_one(Firm, change.firm_id)
        firm.bank_account = change.new_account
        change.status = ChangeStatus.APPLIED
        change.applied_at = now
        session.add(firm)
        session.add(change)
        session.flush()
        if change.consented:
            payout.install(session=session, firm_id=firm.id or change.firm_id,
                           bank_name=change.bank_name, account_number=change.new_account,
                           holder_name=change.account_name,
                           consented_by_id=change.requested_by_id,
                           consented_at=change.requested_at, change_id=change.id, now=now)
        else:
            # a change made without the consent to pay-outs: nothing is paid out until
            # the vendor declares and consents to an account
            payout.retire(session=session, firm_id=change.firm_id, now=now)
        if firm.cluster_id is not None:
            # the shared-account screen reads the cluster's firms, kept per data version
            bump_data_version(session=session, cluster_id=firm.cluster_id)
        notifications.notify_firm(
            session=session, firm_id=change.firm_id, kind="bank_change_applied",
            message_en="Your firm's payout account is now "
                       f"{payout.shown(change.bank_name, change.new_account)}.",
            message_zh="贵公司收款账户已变更为 "
                       f"{payout.shown(change.bank_name, change.new_account)}。")
    return len(changes)


def declare(*, session: Session, firm_id: int, user: User, password: str, bank_name: str,
            account_number: str, holder_name: str, consent: bool,
            now: datetime | None = None) -> PayoutAccount | BankAccountChange:
    """The vendor declares its payout account and consents to pay-outs into it.

    Returns the :class:`PayoutAccount` now in force when this is the firm's first
    declaration and the number is the account on file (or none is on file); otherwise the
    delayed :class:`BankAccountChange` (:func:`request_change`) that puts it in force.
    Raises :class:`ReauthenticationFailed` (wrong password), :class:`ConsentMissing` (the
    consent not ticked, or no consent to the use of bank account data), :class:`BadAccount`
    (number, bank) and :class:`HolderMismatch` (holder not the firm's registered name).
    """
    now = now or utcnow()
    if user.firm_id != firm_id:
        raise ChangeNotFound(N_("You can only change your own firm's account."))
    if not password or not verify_password(user.password_hash, password):
        raise ReauthenticationFailed(N_("Your password was not correct; the account was not "
                                        "changed."))
    if not has_consent(session=session, firm_id=firm_id, purpose="bank_account"):
        raise ConsentMissing(N_("First consent to the use of your bank account data."),
                             field="consent")
    if not consent:
        raise ConsentMissing(N_("Tick the consent: loans are paid out only into an account "
                                "you consented to."), field="consent")
    number = account_digits(account_number, field="new_account")
    bank_name = (bank_name or "").strip()
    if not bank_name:
        raise BadAccount(N_("Enter the bank and branch of the account."), field="bank_name")
    firm = session.get_one(Firm, firm_id)
    if not payout.same_holder(holder_name, firm.name):
        raise HolderMismatch(msg(N_("The account must be in your firm's registered name, "
                                    "%(name)s: Trellis pays out only to the firm's own account."),
                                 name=firm.name), field="account_name")
    in_force = payout.current(session=session, firm_id=firm_id)
    on_file = normalise_account(firm.bank_account)
    if in_force is None and on_file in ("", number):
        if pending_for(session=session, firm_id=firm_id) is not None:
            raise ChangePending(N_("A change of account is already waiting; cancel it first if "
                                   "it is wrong."))
        firm.bank_account = number
        session.add(firm)
        row = payout.install(session=session, firm_id=firm_id, bank_name=bank_name,
                             account_number=number, holder_name=firm.name,
                             consented_by_id=id_of(user), now=now)
        if not on_file and firm.cluster_id is not None:
            bump_data_version(session=session, cluster_id=firm.cluster_id)
        notifications.notify_firm(
            session=session, firm_id=firm_id, kind="payout_account_declared",
            exclude_user_id=user.id,
            message_en=f"{user.email} declared {payout.label(row)} as your firm's payout "
                       "account and consented to loans being paid into it.",
            message_zh=f"{user.email} 已将 {payout.label(row)} 登记为贵公司收款账户，"
                       "并同意贷款发放至该账户。")
        return row
    return request_change(session=session, firm_id=firm_id, user=user, password=password,
                          new_account=number, account_name=firm.name, bank_name=bank_name,
                          now=now, consented=True)


def withdraw_consent(*, session: Session, firm_id: int, purpose: str) -> int:
    """Withdraw the firm's consent to *purpose* (returns how many were withdrawn); for
    ``bank_account`` the payout account in force ends too, so no loan is paid into an
    account whose data the firm no longer lets Trellis use. Flushes."""
    n = withdraw_any_consent(session=session, firm_id=firm_id, purpose=purpose)
    if n and purpose == "bank_account" and payout.retire(session=session, firm_id=firm_id):
        logger.info("firm %s withdrew its bank account consent: payout account ended", firm_id)
    return n


def check_repayment_account(*, session: Session, account: str | None) -> None:
    """Refuse a repayment the vendor was told to make to an account that is not Trellis's
    settlement account (an empty *account* means "the one shown on the page": fine)."""
    given = normalise_account(account)
    if not given:
        return
    official = normalise_account(policy(session=session).settlement_account)
    if given != official:
        raise NotPlatformAccount(
            N_("This is not Trellis's account. Trellis only accepts repayments into its "
               "settlement account shown on this page. Whoever gave you another account may be "
               "a fraudster: do not pay, and call us."), field="payee_account")
