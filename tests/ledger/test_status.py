"""Loan status moves: the allowed ones, and one exception per illegal move."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from trellis.ledger import errors, status
from trellis.ledger.models import ApplicationStatus as A
from trellis.ledger.models import LoanStatus as S

ALLOWED = {
    ("disburse", S.PENDING): S.ACTIVE,
    ("cancel", S.PENDING): S.CANCELLED,
    ("mark_overdue", S.ACTIVE): S.OVERDUE,
    ("cure", S.OVERDUE): S.ACTIVE,
    ("settle", S.ACTIVE): S.REPAID,
    ("settle", S.OVERDUE): S.REPAID,
    ("cool_off", S.ACTIVE): S.COOLED_OFF,
    ("cool_off", S.OVERDUE): S.COOLED_OFF,
    ("write_off", S.OVERDUE): S.WRITTEN_OFF,
}
ERRORS = {"disburse": errors.CannotDisburse, "cancel": errors.CannotCancel,
          "mark_overdue": errors.CannotMarkOverdue, "cure": errors.CannotCure,
          "settle": errors.CannotSettle, "cool_off": errors.CannotCoolOff,
          "write_off": errors.CannotWriteOff}


@pytest.mark.parametrize("move", list(ERRORS))
@pytest.mark.parametrize("current", list(S))
def test_every_move_from_every_status(move, current):
    loan = SimpleNamespace(id=7, status=current.value)
    target = ALLOWED.get((move, current))
    if target is not None:
        status.move(loan, move)
        assert loan.status == target.value
    else:
        with pytest.raises(ERRORS[move]) as info:
            status.move(loan, move)
        assert loan.status == current.value
        assert info.value.message.startswith(f"Loan 7 is {status.LABELS[current]}")
        assert info.value.status == 409


def test_each_illegal_move_has_its_own_exception():
    assert len({spec.error for spec in status.LOAN_MOVES.values()}) == len(status.LOAN_MOVES)
    assert all(issubclass(e, errors.IllegalTransition) for e in ERRORS.values())


@pytest.mark.parametrize("current", list(S))
def test_money_applies_only_to_live_loans(current):
    loan = SimpleNamespace(id=1, status=current.value)
    if current in (S.ACTIVE, S.OVERDUE):
        status.require_live(loan)
    else:
        with pytest.raises(errors.CannotRepay):
            status.require_live(loan)


@pytest.mark.parametrize("target, error", [(A.ACCEPTED, errors.CannotAccept),
                                           (A.APPROVED, errors.CannotDecide)])
def test_application_moves(target, error):
    app = SimpleNamespace(id=3, status=A.DECLINED.value)
    with pytest.raises(error):
        status.move_application(app, target)
