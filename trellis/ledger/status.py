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

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from trellis.ledger import errors
from trellis.ledger.models import Application, Offer
from trellis.ledger.models import ApplicationStatus as A
from trellis.ledger.models import LoanStatus as S
from trellis.ledger.models import OfferStatus as O
from trellis.messages import N_, Message, msg


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
    "disburse": Move(frozenset({S.PENDING}), S.ACTIVE, errors.CannotDisburse, N_("paying out")),
    "cancel": Move(frozenset({S.PENDING}), S.CANCELLED, errors.CannotCancel, N_("cancelling")),
    "mark_overdue": Move(frozenset({S.ACTIVE}), S.OVERDUE, errors.CannotMarkOverdue,
                         N_("marking overdue")),
    "cure": Move(frozenset({S.OVERDUE}), S.ACTIVE, errors.CannotCure,
                 N_("returning to active")),
    "settle": Move(frozenset({S.ACTIVE, S.OVERDUE}), S.REPAID, errors.CannotSettle,
                   N_("marking repaid")),
    # overdue too: a back-dated full payment inside the window of a loan due within it
    "cool_off": Move(frozenset({S.ACTIVE, S.OVERDUE}), S.COOLED_OFF, errors.CannotCoolOff,
                     N_("closing in the cooling-off period")),
    "write_off": Move(frozenset({S.OVERDUE}), S.WRITTEN_OFF, errors.CannotWriteOff,
                      N_("writing off")),
}

#: The one word for each loan state, wherever a person reads it: the vendor's and the
#: staff's loan pages and lists, the statement, and this module's refusals (rendered
#: through the catalogues). Reader 13, G24: one loan read 正常 on one page and 还款中
#: on another, from four tables that had drifted.
LABELS = {
    S.PENDING: N_("awaiting pay-out"), S.ACTIVE: N_("repaying"), S.OVERDUE: N_("overdue"),
    S.REPAID: N_("repaid"), S.COOLED_OFF: N_("repaid in cooling-off"),
    S.WRITTEN_OFF: N_("written off"), S.CANCELLED: N_("not paid out"),
}
#: A written-off loan as its borrower reads it while anything is still owed: the write-off
#: is the lender's accounting, the debt stands and went to collection.
COLLECTION = N_("overdue (passed to collection)")


def borrower_word(status: str, owed_fen: int) -> str:
    """The word (marked for the catalogues, untranslated) for a loan in *status* as its
    borrower reads it: a written-off loan still owing *owed_fen* (> 0) is overdue and
    passed to collection, one paid back in full is repaid; otherwise :data:`LABELS`."""
    if status == S.WRITTEN_OFF:
        return COLLECTION if owed_fen > 0 else LABELS[S.REPAID]
    try:
        return LABELS[S(status)]
    except ValueError:
        return status

#: application and offer statuses as words in a message (rendered through the catalogues)
APPLICATION_WORDS = {
    A.SUBMITTED: N_("submitted"), A.REVIEW: N_("waiting for review"),
    A.SECOND_APPROVAL: N_("waiting for a second approval"), A.APPROVED: N_("approved"),
    A.DECLINED: N_("declined"), A.ACCEPTED: N_("accepted"), A.EXPIRED: N_("expired"),
}
OFFER_WORDS = {O.OPEN: N_("open for acceptance"), O.ACCEPTED: N_("accepted"),
               O.EXPIRED: N_("expired"), O.SUPERSEDED: N_("void")}


def _word(words: Mapping[Any, str], status: str) -> Message:
    found = words.get(status)
    return msg(found) if found else msg(N_("in an unknown state"))


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
        raise spec.error(msg(N_("Loan %(loan)s is %(status)s: %(move)s is not possible."),
                             loan=loan.id, status=msg(LABELS[current]),
                             move=msg(spec.phrase)))
    loan.status = spec.target.value


def require_live(loan: HasStatus) -> None:
    """Raise :class:`~trellis.ledger.errors.CannotRepay` unless money can be applied."""
    if loan.status not in LIVE:
        raise errors.CannotRepay(
            msg(N_("Loan %(loan)s is %(status)s; payments cannot be applied to it."),
                loan=loan.id, status=msg(LABELS[S(loan.status)])))


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
        raise exc(msg(N_("Application %(application)s is %(status)s; it cannot become "
                         "%(target)s."), application=app.id,
                      status=_word(APPLICATION_WORDS, app.status),
                      target=_word(APPLICATION_WORDS, target.value)))
    app.status = target.value


#: offer target -> (allowed current statuses, exception otherwise). The set-based expiry
#: job (:mod:`trellis.ledger.expiry`) encodes the same "from" states in its WHERE clause.
OFFER_MOVES: dict[O, tuple[frozenset[O], type[errors.IllegalTransition]]] = {
    O.ACCEPTED: (frozenset({O.OPEN}), errors.CannotAccept),
    O.EXPIRED: (frozenset({O.OPEN}), CannotExpire),
    O.SUPERSEDED: (frozenset({O.OPEN}), CannotExpire),
}


def move_offer(offer: Offer, target: O) -> None:
    """Move *offer* to *target* or raise that move's own exception."""
    sources, exc = OFFER_MOVES[target]
    if O(offer.status) not in sources:
        raise exc(msg(N_("Offer %(offer)s is %(status)s; it cannot become %(target)s."),
                      offer=offer.id, status=_word(OFFER_WORDS, offer.status),
                      target=_word(OFFER_WORDS, target.value)))
    offer.status = target.value
