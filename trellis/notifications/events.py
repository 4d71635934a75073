"""Find what a firm must be told, from the ledger's own records, and write it once.

:func:`collect` looks at recent decisions, offers and pay-outs, and at the calendar (a
loan due in 3 days or 1 day, a cooling-off period ending tomorrow, a loan overdue: the
day after its due date and as it enters each later days-past-due bucket, a warning; a
loan written off, with what is still owed; a firm's risk grade changed, with why and what
it does to the price: :mod:`trellis.notifications.grades`), and
writes one :class:`~trellis.notifications.models.Notification` per event, keyed so that
running it again (every minute, or twice at once) writes nothing twice. Each new
notification gets its outbox rows: an e-mail to each active user of the firm, a text
message to each user with a phone.

The risk team (admins and RMs, who belong to no firm) is told by :func:`notify_risk_team`:
:func:`collect` also reads the champion scorecard's level report and, when a grade's
observed default rate lies outside its band, tells each of them once per card version.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from trellis import clock
from trellis.accounts.models import User
from trellis.db import id_of
from trellis.ledger import lifecycle, payouts
from trellis.ledger.chart import Acct
from trellis.ledger.journal import EntryKind
from trellis.ledger.models import (
    Application,
    ApplicationStatus,
    JournalEntry,
    JournalPosting,
    Loan,
    LoanStatus,
    Offer,
    OfferStatus,
    Repayment,
)
from trellis.ledger.posting import account_ids
from trellis.messages import N_, Ident, Message, Money, Percent, msg
from trellis.notifications import grades, render
from trellis.notifications.models import Kind, NotificationEvent, OutboxMessage
from trellis.protection import payout as payout_account
from trellis.protection.models import Notification, PayoutAccount
from trellis.protection.notifications import notify_firm
from trellis.scoring.models import Scorecard, ScorecardStatus
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder

#: Days before the due date when the firm is reminded.
DUE_REMINDER_DAYS = (3, 1)
#: How far back decisions, offers, pay-outs and write-offs are looked for.
LOOKBACK_DAYS = 30
#: Days past due at which an overdue loan is told: the day after the due date, then as it
#: enters each later days-past-due bucket (``trellis.ledger.lifecycle.BUCKETS``), never
#: daily. A loan first seen late is told only the step it has reached.
OVERDUE_STEPS = (1, 31, 61, 91)


#: what the seller is told of a decision on one of its documents, by kind and new status
_TOLD = {
    ("invoice", "confirmed"): N_("%(buyer)s confirmed invoice %(number)s (%(amount)s)."),
    ("order", "confirmed"): N_("%(buyer)s confirmed order %(number)s (%(amount)s)."),
    ("invoice", "rejected"): N_("%(buyer)s rejected invoice %(number)s (%(amount)s): "
                                "%(reason)s"),
    ("order", "rejected"): N_("%(buyer)s rejected order %(number)s (%(amount)s): %(reason)s"),
}


#: the same, when the buyer's own system (its ERP, through the API) decided: no person did
_TOLD_BY_SYSTEM = {
    ("invoice", "confirmed"): N_("%(buyer)s's system (its ERP, through the API) confirmed "
                                 "invoice %(number)s (%(amount)s)."),
    ("order", "confirmed"): N_("%(buyer)s's system (its ERP, through the API) confirmed "
                               "order %(number)s (%(amount)s)."),
    ("invoice", "rejected"): N_("%(buyer)s's system (its ERP, through the API) rejected "
                                "invoice %(number)s (%(amount)s): %(reason)s"),
    ("order", "rejected"): N_("%(buyer)s's system (its ERP, through the API) rejected "
                              "order %(number)s (%(amount)s): %(reason)s"),
}


#: what the firm is told of an offer made void (``trellis.ledger.expiry.void_first_loan_offers``)
OFFER_VOID = N_("The offer on your application %(id)s (%(amount)s) is void: another loan of "
                "your firm has been paid out, so the first-loan cooling-off the offer "
                "promised no longer applies and it can no longer be accepted. Its invoices "
                "are free again: apply with them for a new offer.")


def _events(session: Session, as_of: date) -> Iterator[tuple[int, str, str, Message, str]]:
    """(firm id, kind, key, message, link) of every event to tell."""
    since = datetime.combine(as_of - timedelta(days=LOOKBACK_DAYS), datetime.min.time(), UTC)
    for app in session.scalars(select(Application).where(
            col(Application.decided_at).is_not(None), col(Application.decided_at) >= since,
            # approved and since signed or lapsed: still an approval to tell (a vendor
            # who signs within the minute before the job runs was never told otherwise)
            col(Application.status).in_([ApplicationStatus.DECLINED.value,
                                    ApplicationStatus.APPROVED.value,
                                    ApplicationStatus.ACCEPTED.value,
                                    ApplicationStatus.EXPIRED.value]))):
        link = f"/vendor/applications/{app.id}"
        if app.status == ApplicationStatus.DECLINED:
            why = [Message.from_json(r) for r in (app.decline_reasons or [])[:2]]
            yield (app.firm_id, Kind.DECISION, f"decision:{app.id}:declined",
                   msg(N_("Your application %(id)s for %(amount)s was declined: %(why)s"),
                       id=app.id, amount=Money(app.requested_fen), why=why), link)
        else:
            yield (app.firm_id, Kind.DECISION, f"decision:{app.id}:approved",
                   msg(N_("Your application %(id)s for %(amount)s was approved."),
                       id=app.id, amount=Money(app.requested_fen)), link)
    # only an offer still open: one signed, lapsed or out of date before this job saw it
    # is not told "sign it by ..." (reader 12, G19: the message came after the signing)
    for offer, firm_id in session.execute(
            select(Offer, col(Application.firm_id))
            .join(Application, col(Application.id) == col(Offer.application_id))
            .where(col(Offer.created_at) >= since,
                   col(Offer.status) == OfferStatus.OPEN.value,
                   col(Offer.expires_on) >= as_of,
                   col(Application.status) == ApplicationStatus.APPROVED.value)):
        yield (firm_id, Kind.OFFER, f"offer:{offer.id}",
               msg(N_("An offer is ready: %(amount)s at an annualised rate of %(apr)s, "
                      "all fees included. Sign it by %(until)s."),
                   amount=Money(offer.amount_fen), apr=Percent(offer.apr),
                   until=offer.expires_on), f"/vendor/applications/{offer.application_id}")
    # void since another loan of the firm paid out (it promised the first loan's cooling-off;
    # reader 13, J2: the page kept offering it and no message said it was void)
    for offer, firm_id in session.execute(
            select(Offer, col(Application.firm_id))
            .join(Application, col(Application.id) == col(Offer.application_id))
            .where(col(Offer.created_at) >= since,
                   col(Offer.status) == OfferStatus.SUPERSEDED.value)):
        yield (firm_id, Kind.OFFER, f"offer-void:{offer.id}",
               msg(OFFER_VOID, id=offer.application_id, amount=Money(offer.amount_fen)),
               f"/vendor/applications/{offer.application_id}")
    # made lately and cancelled (refused at pay-out): the vendor signed and waits for money
    for loan in session.scalars(select(Loan).where(
            col(Loan.status) == LoanStatus.CANCELLED.value, col(Loan.created_at) >= since)):
        yield (loan.firm_id, Kind.CANCELLED, f"cancelled:{loan.id}",
               msg(N_("Loan %(id)s of %(amount)s: %(why)s"),
                   id=loan.id, amount=Money(loan.amount_fen),
                   why=Message.loads(loan.cancel_reason)), f"/vendor/loans/{loan.id}")
    # a buyer's decision on one of the firm's documents, made by a person on its pages or
    # by its ERP through the API (reader 11, F32: a vendor learnt that its invoice was
    # rejected, and why, only by looking through its list; issue 15: the ERP's decisions
    # carry no user and were never told); documents decided in bulk by an import are not
    for model, kind in ((Invoice, "invoice"), (PurchaseOrder, "order")):
        for doc_id, seller_id, number, amount, status, reason, via, buyer in session.execute(
                select(col(model.id), col(model.seller_id), col(model.number),
                       col(model.amount_fen), col(model.status), col(model.reject_reason),
                       col(model.decided_via), col(Firm.name))
                .join(Firm, col(Firm.id) == col(model.buyer_id))
                .where(or_(col(model.confirmed_by_id).is_not(None),
                           col(model.decided_via) == "api"),
                       col(model.confirmed_at) >= since,
                       col(model.status).in_([DocStatus.CONFIRMED.value,
                                              DocStatus.REJECTED.value]))).tuples():
            told = _TOLD_BY_SYSTEM if via == "api" else _TOLD
            yield (seller_id, Kind.TRADE, f"{kind}:{doc_id}:{status}",
                   msg(told[(kind, str(status))], buyer=buyer, number=number,
                       amount=Money(amount), reason=reason or ""),
                   f"/vendor/trade/{kind}/{doc_id}")
    # the buyer paid an invoice behind a loan: how the money was split (reader 11, F28:
    # the vendor saw only "多还" on the loan's page, and no message)
    for rep in session.scalars(select(Repayment).where(
            col(Repayment.source) == "anchor", col(Repayment.recorded_at) >= since)):
        rest = payouts.surplus_of_repayment(session=session, entry_id=rep.entry_id,
                                            loan_id=rep.loan_id)
        loan = session.get_one(Loan, rep.loan_id)
        yield (loan.firm_id, Kind.PAYOUT, f"buyer-paid:{rep.id}",
               msg(N_("Your buyer paid %(amount)s on %(day)s for the invoice behind loan "
                      "%(loan)s: %(to_loan)s went to the loan, %(rest)s is your firm's and "
                      "is paid on to its registered account."),
                   amount=Money(rep.amount_fen), day=rep.paid_on, loan=rep.loan_id,
                   to_loan=Money(rep.amount_fen - rest), rest=Money(rest)),
               f"/vendor/loans/{rep.loan_id}")
    yield from _surplus_paid(session, since)
    live = [LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value]
    for loan in session.scalars(select(Loan).where(
            col(Loan.disbursed_on).is_not(None), col(Loan.disbursed_on) >= clock.day_of(since))):
        yield (loan.firm_id, Kind.PAYOUT, f"payout:{loan.id}",
               msg(N_("Loan %(id)s: %(amount)s was paid out on %(day)s. Repay by %(due)s."),
                   id=loan.id, amount=Money(loan.amount_fen), day=loan.disbursed_on,
                   due=loan.due_date), f"/vendor/loans/{loan.id}")
    for loan in session.scalars(select(Loan).where(col(Loan.status).in_(live))):
        link = f"/vendor/loans/{loan.id}"
        owed = Money(loan.principal_fen + loan.interest_fen + loan.penalty_fen + loan.fees_fen)
        if loan.due_date is not None and loan.status == LoanStatus.ACTIVE.value:
            days = (loan.due_date - as_of).days
            if days in DUE_REMINDER_DAYS:
                yield (loan.firm_id, Kind.DUE_SOON, f"due:{loan.id}:{loan.due_date}:{days}",
                       msg(N_("Loan %(id)s is due in %(n)s day(s), on %(due)s: %(owed)s to "
                              "repay."), id=loan.id, n=days, due=loan.due_date, owed=owed),
                       link)
        overdue = _overdue_event(loan, as_of, owed, link)
        if overdue is not None:
            yield overdue
        if loan.first_loan and loan.cooling_off_days and loan.disbursed_on is not None:
            ends = loan.disbursed_on + timedelta(days=loan.cooling_off_days)
            if (ends - as_of).days == 1:
                yield (loan.firm_id, Kind.COOLING_OFF_END, f"cooling_off:{loan.id}",
                       msg(N_("The cooling-off period of loan %(id)s ends on %(day)s: repay "
                              "%(amount)s in full by then and pay no interest or fees."),
                           id=loan.id, day=ends, amount=Money(loan.principal_fen)), link)
    yield from _written_off(session, clock.day_of(since))
    # the firm's risk grade changed: from what to what, why, and the price (issue 15)
    yield from grades.events(session, since, as_of)


def _surplus_paid(session: Session, since: datetime
                  ) -> Iterator[tuple[int, str, str, Message, str]]:
    """Each payout of surplus (money paid above what the firm's loans owed, paid back to
    it: a ``payout`` entry of the journal) posted since *since*: how much, on which day,
    from which loans and into which account, masked (the firm's consented payout account
    in force when the entry was posted: ``payouts.pay_out_surplus`` pays into no other).
    Reader 13, H13: a payout of surplus sent no message."""
    payable = account_ids(session)[Acct.VENDOR_PAYABLE.value]
    paid: dict[int, dict] = {}
    for entry_id, posted_at, day, firm_id, loan_id, amount in session.execute(
            select(col(JournalEntry.id), col(JournalEntry.posted_at),
                   col(JournalEntry.value_date), col(Loan.firm_id), col(Loan.id),
                   func.sum(col(JournalPosting.amount_fen)))
            .join(JournalPosting, col(JournalPosting.entry_id) == col(JournalEntry.id))
            .join(Loan, col(Loan.id) == col(JournalPosting.loan_id))
            .where(col(JournalEntry.kind) == EntryKind.PAYOUT.value,
                   col(JournalEntry.posted_at) >= since,
                   col(JournalPosting.account_id) == payable)
            .group_by(col(JournalEntry.id), col(JournalEntry.posted_at),
                      col(JournalEntry.value_date), col(Loan.firm_id), col(Loan.id))
            .order_by(col(JournalEntry.id), col(Loan.id))).tuples():
        one = paid.setdefault(entry_id, {"at": posted_at, "day": day, "firm": firm_id,
                                         "loans": [], "amount": 0})
        one["loans"].append(loan_id)
        one["amount"] += int(amount)
    for entry_id, one in paid.items():
        account = session.scalars(select(PayoutAccount).where(
            col(PayoutAccount.firm_id) == one["firm"],
            col(PayoutAccount.consented_at) <= one["at"],
            or_(col(PayoutAccount.replaced_at).is_(None),
                col(PayoutAccount.replaced_at) > one["at"]))
            .order_by(col(PayoutAccount.consented_at).desc())).first()
        loans = one["loans"]
        yield (one["firm"], Kind.PAYOUT, f"surplus-paid:{entry_id}",
               msg(N_("%(amount)s was paid to your firm's account %(account)s on %(day)s: "
                      "the money paid above what loan %(loan_ids)s owed, returned to you."),
                   amount=Money(one["amount"]), account=payout_account.label(account),
                   day=one["day"], loan_ids=[Ident(n) for n in loans]),
               f"/vendor/loans/{loans[0]}" if len(loans) == 1 else "/vendor/loans")


def _overdue_event(loan: Loan, as_of: date, owed: Money, link: str
                   ) -> tuple[int, str, str, Message, str] | None:
    """The overdue step *loan* has reached on *as_of*, as an event, or None. Read from the
    due date, not the status: the overdue job may not have marked the loan yet."""
    if loan.due_date is None or owed <= 0:
        return None
    dpd = (as_of - loan.due_date).days
    reached = [step for step in OVERDUE_STEPS if step <= dpd]
    if not reached:
        return None
    step = reached[-1]
    if step == OVERDUE_STEPS[0]:   # the first notice keeps the key it always had
        return (loan.firm_id, Kind.OVERDUE, f"overdue:{loan.id}:{loan.due_date}",
                msg(N_("Loan %(id)s was due on %(due)s and is overdue: %(owed)s is owed "
                       "and penalty interest runs. Repay as soon as you can."),
                    id=loan.id, due=loan.due_date, owed=owed), link)
    if step < OVERDUE_STEPS[-1]:
        text = N_("Loan %(id)s is %(n)s days overdue (due on %(due)s): %(owed)s is owed "
                  "and penalty interest runs. Repay now, or call your relationship manager "
                  "to agree a plan: a loan more than 90 days overdue may be passed "
                  "to collection.")
    else:
        text = N_("Loan %(id)s is %(n)s days overdue (due on %(due)s): %(owed)s is owed. "
                  "It may now be passed to collection. "
                  "Repay now or call your relationship manager.")
    return (loan.firm_id, Kind.WARNING, f"overdue:{loan.id}:{loan.due_date}:{step}",
            msg(text, id=loan.id, n=dpd, due=loan.due_date, owed=owed), link)


def _written_off(session: Session, since: date) -> Iterator[tuple[int, str, str, Message, str]]:
    """A loan written off since *since*: the borrower is told the debt stands."""
    for loan in session.scalars(select(Loan).where(
            col(Loan.status) == LoanStatus.WRITTEN_OFF.value, col(Loan.closed_on) >= since)):
        owed = lifecycle.owed_by_borrower(loan)
        if owed:
            yield (loan.firm_id, Kind.WARNING, f"collection:{loan.id}",
                   msg(N_("Loan %(id)s was passed to collection on %(day)s: %(owed)s is "
                          "still owed. Repay it, or call your relationship manager to "
                          "agree a plan."), id=loan.id, day=loan.closed_on,
                       owed=Money(owed)), f"/vendor/loans/{loan.id}")


#: Keys' prefixes of the reminders that ask a live loan to be repaid.
LOAN_REMINDERS = ("due", "cooling_off", "overdue")


def stale(session: Session, event: NotificationEvent) -> str | None:
    """Why *event* must no longer be sent, checked at send time (its subject changed since
    it was written), or None when it still holds. An offer's "sign it by ..." is stale
    once the offer is no longer open (signed, lapsed) or its application no longer waits
    for the signature (reader 12, G19); a reminder to repay a loan
    (:data:`LOAN_REMINDERS`) once the loan is no longer live (repaid, cancelled). The
    reason is for the outbox row's ``last_error`` (the operators' record, in English),
    not for the firm."""
    prefix, _, rest = event.key.partition(":")
    if prefix in LOAN_REMINDERS:
        # "due in 3 days", "the cooling-off ends tomorrow", "overdue": only while the loan
        # is still live (a loan repaid since is not told to repay)
        try:
            loan = session.get(Loan, int(rest.split(":", 1)[0]))
        except ValueError:
            return None
        if loan is None:
            return "not sent: the loan no longer exists"
        if loan.status not in (LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value):
            return f"not sent: the loan is {loan.status}"
        return None
    if event.kind != Kind.OFFER.value or prefix != "offer":
        return None
    try:
        offer = session.get(Offer, int(event.key.split(":", 1)[1]))
    except ValueError:
        return None
    if offer is None:
        return "not sent: the offer no longer exists"
    if offer.status != OfferStatus.OPEN.value:
        return f"not sent: the offer is {offer.status}"
    app = session.get(Application, offer.application_id)
    if app is None or app.status != ApplicationStatus.APPROVED.value:
        return f"not sent: the application is {getattr(app, 'status', 'gone')}"
    return None


def _new_event(session: Session, *, firm_id: int | None, kind: str, key: str,
               message: Message, link: str = "") -> NotificationEvent | None:
    """Event *key* written and flushed, or None when it exists already (also when a
    concurrent writer of the same key wins: the unique key decides, in a savepoint)."""
    if session.scalars(select(col(NotificationEvent.id)).where(
            col(NotificationEvent.key) == key)).first():
        return None
    try:
        with session.begin_nested():
            event = NotificationEvent(firm_id=firm_id, kind=str(kind), key=key[:120],
                                      message=message.to_json(), link=link)
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    return event


def notify(session: Session, *, firm_id: int, kind: str, key: str, message: Message,
           link: str = "") -> NotificationEvent | None:
    """Record event *key* unless it exists, with an in-app message for each active user
    of the firm (in Chinese and English) and the outbox rows; return it if new. Safe
    against a concurrent writer of the same key (the unique key decides)."""
    event = _new_event(session, firm_id=firm_id, kind=kind, key=key, message=message,
                       link=link)
    if event is None:
        return None
    notify_firm(session=session, firm_id=firm_id, kind=str(kind),
                message_en=render.text(event.message, "en"),
                message_zh=render.text(event.message, "zh_CN"), link=link)
    for user in session.scalars(select(User).where(col(User.firm_id) == firm_id,
                                                   col(User.is_active).is_(True))):
        session.add(OutboxMessage(event_id=id_of(event), channel="email",
                                  address=user.email, locale=user.locale or "zh_CN"))
        if user.phone:
            session.add(OutboxMessage(event_id=id_of(event), channel="sms",
                                      address=user.phone, locale=user.locale or "zh_CN"))
    session.flush()
    return event


#: Kinds of event told to a whole firm (by :func:`notify`): the firm's messages, which a
#: user who joins the firm later also reads (:func:`share_with_new_user`). Staff messages
#: (a ticket to the RMs) and one person's password reset are not the firm's.
FIRM_KINDS = (Kind.DECISION.value, Kind.OFFER.value, Kind.PAYOUT.value, Kind.CANCELLED.value,
              Kind.DUE_SOON.value,
              Kind.COOLING_OFF_END.value, Kind.OVERDUE.value, Kind.WARNING.value,
              Kind.VOUCHER.value, Kind.TRADE.value, Kind.GRADE.value)
#: How many of the firm's past messages a user who joins it later is given.
SHARED_ON_JOIN = 50


def share_with_new_user(session: Session, *, user) -> int:
    """Give *user*, new to a firm, an in-app message for each of the firm's recent
    messages (the last :data:`SHARED_ON_JOIN`), dated when they were recorded: messages
    belong to the firm, so a user created after an overdue notice still reads it. No
    outbox row (it was sent then). Returns how many. Flushes."""
    if user.firm_id is None:
        return 0
    past = session.scalars(select(NotificationEvent).where(
        col(NotificationEvent.firm_id) == user.firm_id,
        col(NotificationEvent.kind).in_(FIRM_KINDS))
        .order_by(col(NotificationEvent.created_at).desc(), col(NotificationEvent.id).desc())
        .limit(SHARED_ON_JOIN)).all()
    for event in reversed(past):
        session.add(Notification(user_id=id_of(user), firm_id=user.firm_id, kind=event.kind,
                                 message_en=render.text(event.message, "en")[:500],
                                 message_zh=render.text(event.message, "zh_CN")[:300],
                                 created_at=event.created_at, link=event.link))
    session.flush()
    return len(past)


def notify_staff(session: Session, *, user_ids: list[int], firm_id: int, kind: str, key: str,
                 message: Message, link: str = "") -> NotificationEvent | None:
    """Record event *key* (about *firm_id*) for the staff in *user_ids* (an RM, not the
    firm's own people): an in-app message each, in Chinese and English (the page shows the
    reader's), and an e-mail each in the outbox in the user's own language (``locale``).
    Written once per key, like :func:`notify`."""
    event = _new_event(session, firm_id=firm_id, kind=kind, key=key, message=message,
                       link=link) if user_ids else None
    if event is None:
        return None
    en, zh = render.text(event.message, "en"), render.text(event.message, "zh_CN")
    for user in session.scalars(select(User).where(col(User.id).in_(user_ids),
                                                   col(User.is_active).is_(True))):
        session.add(Notification(user_id=id_of(user), firm_id=firm_id, kind=str(kind),
                                 message_en=en[:500], message_zh=zh[:300], link=link[:200]))
        session.add(OutboxMessage(event_id=id_of(event), channel="email", address=user.email,
                                  locale=user.locale or "zh_CN"))
    session.flush()
    return event


def tell_user(*, session: Session, user, key: str, message: Message,
              kind: str = Kind.PASSWORD_RESET) -> NotificationEvent | None:
    """Record message *key* to one person (any role, firm or not): one e-mail in the
    outbox, in the user's language (Chinese by default), and no in-app message (the
    firm's other people must not see it). Written once per key; returns the event if
    new. Flushes; the caller queues ``deliver_outbox``."""
    event = _new_event(session, firm_id=user.firm_id, kind=kind, key=key, message=message)
    if event is None:
        return None
    session.add(OutboxMessage(event_id=id_of(event), channel="email", address=user.email,
                              locale=user.locale or "zh_CN"))
    session.flush()
    return event


def _scorecard_flag(session: Session) -> tuple[str, Message, str] | None:
    """(key, message, link) when the champion scorecard's level report is flagged: a
    grade's observed default rate lies outside the confidence band of its PD."""
    card = session.scalars(select(Scorecard).where(
        col(Scorecard.status) == ScorecardStatus.CHAMPION)).first()
    report = ((card.validation or {}).get("calibration") or {}) if card else {}
    if card is None or not report.get("flag"):
        return None
    return (f"calibration:{card.version}",
            msg(N_("Scorecard %(v)s: the observed default rate of grade(s) %(g)s lies "
                   "outside the confidence band of the predicted PD."),
                v=card.version, g=", ".join(report.get("grades_outside_band", []))),
            f"/scoring/scorecards/{card.version}")


def collect(*, session: Session, as_of: date | None = None) -> int:
    """Write every notification due as of *as_of*; return how many are new (a staff
    message counts once per user told). Flushes."""
    as_of = as_of or clock.today()
    new = 0
    flagged = _scorecard_flag(session)
    if flagged is not None:
        key, message, link = flagged
        new += notify_risk_team(session, kind="scorecard_flag", key=key, message=message,
                                link=link)
    for firm_id, kind, key, message, link in list(_events(session, as_of)):
        if notify(session, firm_id=firm_id, kind=kind, key=key, message=message,
                  link=link) is not None:
            new += 1
    return new


#: The staff roles that make up the risk team.
RISK_TEAM = ("admin", "rm")


def notify_risk_team(session: Session, *, kind: str, key: str, message: Message,
                     roles: tuple[str, ...] = RISK_TEAM, link: str = "") -> int:
    """Tell every active staff user of *roles* (the risk team by default) of event *key*:
    an in-app message in Chinese and English, shown on the pages of the area that raised
    it (e.g. the scoring overview). Written once per user and message: *key* names the
    message's content (e.g. the scorecard version), so running it again writes nothing
    twice. Returns how many users were
    told now. Staff belong to no firm, so there is no firm event and no outbox row."""
    stored = message.to_json()
    en, zh = render.text(stored, "en"), render.text(stored, "zh_CN")
    text_en = (en + (f" {link}" if link else ""))[:500]
    told = 0
    for user in session.scalars(select(User).where(col(User.role).in_(roles),
                                                   col(User.is_active).is_(True))):
        seen = session.scalars(select(col(Notification.id)).where(
            col(Notification.user_id) == user.id, col(Notification.kind) == kind,
            col(Notification.message_en) == text_en)).first()
        if seen:
            continue
        session.add(Notification(user_id=id_of(user), firm_id=None, kind=kind[:32],
                                 message_en=text_en,
                                 message_zh=zh[:300]))
        told += 1
    session.flush()
    return told
