"""Loan and application statuses: the allowed moves, and one exception per illegal move.

::

    pending --disburse--> active --mark_overdue--> overdue --write_off--> written_off
       |                   |  ^                      |
       +--cancel-->        |  +--------cure----------+
       cancelled           +--settle--> repaid <--settle--+
                           +--cool_off--> cooled_off <--cool_off--+  (from overdue too)

Each move has a name, the statuses it may start from, the status it ends in and the
exception raised otherwise. The set-based overdue job encodes the same "from" states in
its WHERE clause; everything else moves a loan through :func:`move`.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from trellis.ledger import errors
from trellis.ledger.models import Application, Offer
from trellis.ledger.models import ApplicationStatus as A
from trellis.ledger.models import LoanStatus as S
from trellis.ledger.models import OfferStatus as O


class HasStatus(Protocol):
    """What a status move reads and sets: a :class:`~trellis.ledger.models.Loan`, or a
    stand-in carrying its id and status (the repayment fast path's)."""

    id: int | None
    status: str


class Move(NamedTuple):
    sources: frozenset[S]
    target: S
    error: type[errors.IllegalTransition]
    phrase: str


LOAN_MOVES: dict[str, Move] = {
    "disburse": Move(frozenset({S.PENDING}), S.ACTIVE, errors.CannotDisburse, "paid out"),
    "cancel": Move(frozenset({S.PENDING}), S.CANCELLED, errors.CannotCancel, "cancelled"),
    "mark_overdue": Move(frozenset({S.ACTIVE}), S.OVERDUE, errors.CannotMarkOverdue,
                         "marked overdue"),
    "cure": Move(frozenset({S.OVERDUE}), S.ACTIVE, errors.CannotCure,
                 "returned to active"),
    "settle": Move(frozenset({S.ACTIVE, S.OVERDUE}), S.REPAID, errors.CannotSettle,
                   "marked repaid"),
    # overdue too: a back-dated full payment inside the window of a loan due within it
    "cool_off": Move(frozenset({S.ACTIVE, S.OVERDUE}), S.COOLED_OFF, errors.CannotCoolOff,
                     "closed in the cooling-off period"),
    "write_off": Move(frozenset({S.OVERDUE}), S.WRITTEN_OFF, errors.CannotWriteOff,
                      "written off"),
}

LABELS = {
    S.PENDING: "awaiting disbursement", S.ACTIVE: "active", S.OVERDUE: "overdue",
    S.REPAID: "repaid", S.COOLED_OFF: "repaid in the cooling-off period",
    S.WRITTEN_OFF: "written off", S.CANCELLED: "cancelled",
}

LIVE = frozenset({S.ACTIVE, S.OVERDUE})
CLOSED = frozenset({S.REPAID, S.COOLED_OFF, S.WRITTEN_OFF, S.CANCELLED})


def allowed(current: str, name: str) -> bool:
    """Whether a loan in status *current* may make move *name* (``disburse``, ...)."""
    return S(current) in LOAN_MOVES[name].sources


def move(loan: HasStatus, name: str) -> None:
    """Apply move *name* to *loan* (a :class:`~trellis.ledger.models.Loan`) or raise the
    move's own exception (e.g. :class:`~trellis.ledger.errors.CannotWriteOff`)."""
    spec = LOAN_MOVES[name]
    current = S(loan.status)
    if current not in spec.sources:
        raise spec.error(f"Loan {loan.id} is {LABELS[current]}; it cannot be "
                         f"{spec.phrase}.")
    loan.status = spec.target.value


def require_live(loan: HasStatus) -> None:
    """Raise :class:`~trellis.ledger.errors.CannotRepay` unless money can be applied."""
    if loan.status not in LIVE:
        raise errors.CannotRepay(
            f"Loan {loan.id} is {LABELS[S(loan.status)]}; payments cannot be applied to it.")


#: application target -> allowed current statuses (refusals raise CannotDecide/CannotAccept)
APPLICATION_MOVES: dict[A, frozenset[A]] = {
    A.REVIEW: frozenset({A.SUBMITTED}),
    A.SECOND_APPROVAL: frozenset({A.REVIEW}),
    A.APPROVED: frozenset({A.SUBMITTED, A.REVIEW, A.SECOND_APPROVAL}),
    A.DECLINED: frozenset({A.SUBMITTED, A.REVIEW, A.SECOND_APPROVAL}),
    A.ACCEPTED: frozenset({A.APPROVED}),
    A.EXPIRED: frozenset({A.APPROVED}),
}


class CannotExpire(errors.IllegalTransition):
    """Raised when an offer that is not open, or an application that is not approved (its
    offer open), is marked expired."""


#: application target -> the exception an illegal move to it raises
APPLICATION_ERRORS: dict[A, type[errors.IllegalTransition]] = {
    A.ACCEPTED: errors.CannotAccept,
    A.EXPIRED: CannotExpire,
}


def move_application(app: Application, target: A) -> None:
    """Move an application to status *target*; raises the exception of that move if it
    is not allowed from where the application is."""
    if A(app.status) not in APPLICATION_MOVES[target]:
        exc = APPLICATION_ERRORS.get(target, errors.CannotDecide)
        raise exc(f"Application {app.id} is {app.status}; it cannot become {target.value}.")
    app.status = target.value


#: offer target -> (allowed current statuses, exception otherwise). The set-based expiry
#: job (:mod:`trellis.ledger.expiry`) encodes the same "from" states in its WHERE clause.
OFFER_MOVES: dict[O, tuple[frozenset[O], type[errors.IllegalTransition]]] = {
    O.ACCEPTED: (frozenset({O.OPEN}), errors.CannotAccept),
    O.EXPIRED: (frozenset({O.OPEN}), CannotExpire),
}


def move_offer(offer: Offer, target: O) -> None:
    """Move *offer* to *target* or raise that move's own exception."""
    sources, exc = OFFER_MOVES[target]
    if O(offer.status) not in sources:
        raise exc(f"Offer {offer.id} is {offer.status}; it cannot become {target.value}.")
    offer.status = target.value
