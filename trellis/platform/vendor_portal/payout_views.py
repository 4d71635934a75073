"""Where a loan's money goes: the payout account on the loan's page, and the vendor's
consent, for one pending loan, to the firm's new payout account."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from trellis.errors import TrellisError
from trellis.ledger import lifecycle
from trellis.ledger.models import Loan, LoanStatus
from trellis.platform.i18n import error_text
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import own_firm
from trellis.platform.vendor_portal.forms import PayoutConfirmForm
from trellis.platform.web import audit, commit, db, roles_required
from trellis.protection import payout
from trellis.protection.models import PayoutAccount


def payout_context(loan: Loan) -> dict:
    """What a loan's page shows about its payout account: the account the loan is (or
    was) paid into, the firm's account in force, and whether the vendor must confirm the
    account in force for this pending loan (with the form to do it)."""
    bound = db().get(PayoutAccount, loan.payout_account_id) if loan.payout_account_id else None
    in_force = payout.current(session=db(), firm_id=loan.firm_id)
    must_confirm = (loan.status == LoanStatus.PENDING and in_force is not None
                    and bound is not None and bound.id != in_force.id)
    form = PayoutConfirmForm(formdata=None)
    if in_force is not None:
        form.payout_account_id.data = str(in_force.id)
    return {"loan_account": bound, "account_in_force": in_force, "must_confirm": must_confirm,
            "payout_form": form, "payout_label": payout.label}


@bp.post("/loans/<int:loan_id>/payout-account")
@roles_required("vendor")
def confirm_payout_account(loan_id: int):
    """The vendor consents to paying pending loan *loan_id* into the account in force."""
    loan = db().get(Loan, loan_id)
    if loan is None or loan.firm_id != own_firm().id:
        abort(404)
    form = PayoutConfirmForm()
    back = redirect(url_for("vendor.loan", loan_id=loan_id), code=303)
    if not form.validate_on_submit() or not str(form.payout_account_id.data).isdigit():
        flash(_("The form expired; try again."), "error")
        return back
    try:
        loan = lifecycle.confirm_payout_account(
            session=db(), loan_id=loan_id, user_id=current_user.id,
            payout_account_id=int(form.payout_account_id.data))
    except TrellisError as exc:
        db().rollback()
        flash(error_text(exc), "error")
        return back
    account = db().get(PayoutAccount, loan.payout_account_id)
    audit("loan.payout_account_confirmed", "loan", loan_id,
          payout_account_id=loan.payout_account_id, account=payout.label(account))
    commit()
    flash(_("Loan %(n)d will be paid into %(account)s.", n=loan_id,
            account=payout.label(account)), "success")
    return back
