"""A firm is told when its risk grade changes: from what to what, on what it moved, and
what the change means for its price.

Issue 15 (F7/F13): a vendor's grade went from A to B minutes after two small invoices
were entered, and nothing told it, or why its price had changed. The scoring area stores
every score and finds the changes (:func:`trellis.scoring.history.recent_changes`) and
the characteristics whose points moved most (:func:`~trellis.scoring.history.moved_most`);
this module, run by the notification job (:func:`trellis.notifications.events.collect`),
turns each change into one event of kind ``grade``, keyed by the new score record, for the
firms that have people to tell. Scoring never imports this area (tests/test_layout.py).

The price is the receivable product's rate for each grade at today's LPR
(:func:`trellis.scoring.pricing.quote_rate`, before the discount for an invoice the buyer
confirmed): the rate of a new offer, not of a loan already signed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from trellis import clock
from trellis.accounts.models import User
from trellis.errors import TrellisError
from trellis.ledger.models import Product, ProductKind
from trellis.messages import N_, Message, Percent, msg
from trellis.notifications.models import Kind, NotificationEvent
from trellis.scoring import history, pricing

#: Characteristics named in the message (the in-app text is kept to 300 characters).
NAMED = 2


def _rate(session: Session, product: Product, grade: str, as_of: date) -> Percent | None:
    """The product's annual rate for *grade* on *as_of*, or None when it does not lend to
    the grade or cannot price it (no LPR, above the cap)."""
    if grade not in (product.spreads_bps or {}):
        return None
    try:
        return Percent(
            pricing.quote_rate(
                session=session,
                grade=grade,
                anchor_confirmed=False,
                spreads_bps=product.spreads_bps,
                confirmed_discount_bps=product.confirmed_discount_bps,
                as_of=as_of,
            )
        )
    except TrellisError:
        return None


def price_effect(session: Session, *, old: str, new: str, as_of: date) -> Message | None:
    """What the move from grade *old* to *new* does to the price of the active receivable
    product (the first one), or None when there is no such product or neither grade is
    priced."""
    product = session.scalars(
        select(Product)
        .where(col(Product.active).is_(True), col(Product.kind) == ProductKind.RECEIVABLE.value)
        .order_by(col(Product.id))
        .limit(1)
    ).first()
    if product is None:
        return None
    name = {"en": product.name, "zh": product.name_zh or product.name}
    before, after = _rate(session, product, old, as_of), _rate(session, product, new, as_of)
    if after is None and before is None:
        return None
    if after is None:
        return msg(N_("%(product)s does not lend to grade %(grade)s."), product=name, grade=new)
    if before is None:
        return msg(
            N_("A new offer of %(product)s is priced at %(rate)s a year."), product=name, rate=after
        )
    return msg(
        N_(
            "A new offer of %(product)s is priced at %(after)s a year instead of "
            "%(before)s (loans already signed keep their rate)."
        ),
        product=name,
        after=after,
        before=before,
    )


def _why(session: Session, change: history.Change) -> list[Message]:
    moved, cards = history.moved_most(
        session=session, old_id=change.old_id, new_id=change.new_id, k=NAMED, worse=change.worse
    )
    why = [
        msg(
            N_("%(what)s (%(points)s points)"),
            what={"en": m.label_en, "zh": m.label_zh},
            points=f"{m.delta:+d}".replace("-", "\u2212"),
        )
        for m in moved
    ]
    if cards is not None:
        why.append(msg(N_("the bank's updated scorecard")))
    return why


def message(session: Session, change: history.Change, as_of: date) -> Message:
    """The text a firm reads of *change*: the two grades and the day, the
    characteristics that moved most in the change's direction, and the price effect."""
    why = _why(session, change)
    price = price_effect(session, old=change.old_grade, new=change.new_grade, as_of=as_of)
    day = clock.day_of(change.at)
    if why:
        head = msg(
            N_(
                "Your risk grade changed from %(old)s to %(new)s on %(day)s. It moved "
                "most on: %(why)s."
            ),
            old=change.old_grade,
            new=change.new_grade,
            day=day,
            why=why,
        )
    else:
        head = msg(
            N_("Your risk grade changed from %(old)s to %(new)s on %(day)s."),
            old=change.old_grade,
            new=change.new_grade,
            day=day,
        )
    if price is None:
        return head
    return msg(N_("%(head)s %(price)s"), head=head, price=price)


def events(
    session: Session, since: datetime, as_of: date
) -> Iterator[tuple[int, str, str, Message, str]]:
    """(firm id, kind, key, message, link) of each grade change since *since* of a firm
    with an active user, not told before (read before its reasons are computed)."""
    firms = session.scalars(
        select(col(User.firm_id))
        .distinct()
        .where(
            col(User.firm_id).is_not(None),
            col(User.is_active).is_(True),
            col(User.role) == "vendor",
        )
    ).all()
    changes = history.recent_changes(
        session=session, since=since, firm_ids=[int(f) for f in firms if f is not None]
    )
    keys = {c: f"grade:{c.firm_id}:{c.new_id}" for c in changes}
    told = (
        set(
            session.scalars(
                select(col(NotificationEvent.key)).where(
                    col(NotificationEvent.key).in_(list(keys.values()))
                )
            )
        )
        if keys
        else set()
    )
    for change, key in keys.items():
        if key in told:
            continue
        yield (change.firm_id, Kind.GRADE, key, message(session, change, as_of), "/vendor/")
