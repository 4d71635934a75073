"""The vendor's payout account through the API: read it (masked), declare it with the
consent to pay-outs into it, and consent, for a pending loan, to the account now in force.

The same core as the page (``/vendor/bank-account``, :mod:`trellis.protection.bank`) with
the same refusals: the holder must be the firm's registered name, the declaring person
types their password again, an account other than the one on file takes effect only after
the policy's delay (the firm's other users are told and may cancel it), and a loan
accepted before the account changed is paid out only after the vendor consents to the new
account for it (:func:`trellis.ledger.lifecycle.confirm_payout_account`).

Who: only users (or the API token) of that vendor firm; another firm's token or user is
refused (403), nobody signed in is refused (401). Reading may use the firm's token;
declaring and consenting are a person's acts (their password, their consent), so they
need a signed-in user of the firm and a token is refused.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from trellis.errors import NotFound, PermissionDenied, TrellisError, ValidationError
from trellis.ledger import lifecycle
from trellis.ledger.models import Loan
from trellis.messages import N_, Ident, msg
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.vendor_portal.common import current_user_obj
from trellis.platform.web import audit, commit, current_firm_id, db
from trellis.protection import bank, payout
from trellis.protection.models import BankAccountChange, PayoutAccount
from trellis.trade.models import Firm

bp = Blueprint("payout_api", __name__)

ACCOUNT_SCHEMA = {"type": ["object", "null"], "properties": {
    "id": {"type": "integer"}, "bank_name": {"type": "string"},
    "account_number": {"type": "string", "description": "masked: ····0001"},
    "label": {"type": "string", "description": "as the pages show it: 招商银行 ····0001"},
    "holder_name": {"type": "string"},
    "consented_at": {"type": "string", "format": "date-time"}}}
CHANGE_SCHEMA = {"type": ["object", "null"], "properties": {
    "id": {"type": "integer"}, "bank_name": {"type": "string"},
    "account_number": {"type": "string", "description": "masked"},
    "effective_at": {"type": "string", "format": "date-time"},
    "consented": {"type": "boolean"}}}
STATE_SCHEMA = {"type": "object", "properties": {
    "firm_id": {"type": "integer"}, "account": ACCOUNT_SCHEMA,
    "pending_change": CHANGE_SCHEMA,
    "account_on_file": {"type": "string", "description": "masked"}}}
DECLARE_SCHEMA = {
    "type": "object", "required": ["bank_name", "account_number", "holder_name", "consent",
                                   "password"],
    "properties": {
        "bank_name": {"type": "string", "minLength": 1, "maxLength": 120,
                      "description": "bank and branch"},
        "account_number": {"type": "string", "pattern": "^[0-9 -]{8,60}$",
                           "description": "8 to 32 digits (spaces and dashes ignored)"},
        "holder_name": {"type": "string", "maxLength": 200,
                        "description": "the firm's registered name"},
        "consent": {"type": "boolean", "const": True,
                    "description": "true: loans may be paid into this account"},
        "password": {"type": "string", "description": "the signed-in user's password, "
                                                      "typed again"}}}
DECLARED_SCHEMA = {"type": "object", "properties": {
    "outcome": {"type": "string", "enum": ["in_force", "change_requested"]},
    "account": ACCOUNT_SCHEMA, "pending_change": CHANGE_SCHEMA}}
CONFIRM_SCHEMA = {"type": "object", "required": ["payout_account_id"], "properties": {
    "payout_account_id": {"type": "integer", "minimum": 1,
                          "description": "the account in force, as read"}}}
CONFIRMED_SCHEMA = {"type": "object", "properties": {
    "loan_id": {"type": "integer"}, "account": ACCOUNT_SCHEMA}}


def _account_json(row: PayoutAccount | None) -> dict | None:
    if row is None:
        return None
    return {"id": row.id, "bank_name": row.bank_name,
            "account_number": payout.masked(row.account_number), "label": payout.label(row),
            "holder_name": row.holder_name,
            "consented_at": row.consented_at.isoformat(timespec="seconds")}


def _change_json(row: BankAccountChange | None) -> dict | None:
    if row is None:
        return None
    return {"id": row.id, "bank_name": row.bank_name,
            "account_number": payout.masked(row.new_account),
            "effective_at": row.effective_at.isoformat(timespec="seconds"),
            "consented": row.consented}


def _own(firm_id: int) -> None:
    if current_firm_id() != firm_id:
        raise PermissionDenied(N_("Only the users of that firm may see or change its payout "
                                  "account."))


def _person():
    """The signed-in user doing a person's act (not a token)."""
    user = current_user_obj()
    if getattr(g, "api_token", None) is not None or user is None:
        raise PermissionDenied(N_("A payout account is declared and consented to by a person "
                                  "of the firm, who types their password again: sign in as "
                                  "that user; an API token cannot consent."))
    return user


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(N_("Send a JSON object."), field="body")
    return body


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ValidationError(msg(N_("%(field)s must be text."), field=name), field=name)
    return value


def _state(firm_id: int) -> dict:
    firm = db().get(Firm, firm_id)
    return {"firm_id": firm_id,
            "account": _account_json(payout.current(session=db(), firm_id=firm_id)),
            "pending_change": _change_json(bank.pending_for(session=db(), firm_id=firm_id)),
            "account_on_file": payout.masked(firm.bank_account if firm else None)}


@bp.get("/firms/<int:firm_id>/payout-account")
@api_auth(roles=("vendor",))
@doc(summary="The vendor's payout account in force (masked), and a change waiting for its "
             "delay", response=STATE_SCHEMA, tags=("vendor",))
def read(firm_id: int):
    _own(firm_id)
    bank.apply_due(session=db(), firm_id=firm_id)   # as the page does: a change now due
    commit()
    return jsonify(_state(firm_id))


@bp.post("/firms/<int:firm_id>/payout-account")
@api_auth(roles=("vendor",))
@doc(summary="Declare the vendor's payout account and consent to pay-outs into it (a "
             "signed-in user of the firm, password typed again); an account other than "
             "the one on file takes effect after the delay",
     request=DECLARE_SCHEMA, response=DECLARED_SCHEMA, tags=("vendor",))
def declare(firm_id: int):
    _own(firm_id)
    user = _person()
    body = _body()
    consent = body.get("consent")
    if not isinstance(consent, bool):
        raise ValidationError(msg(N_("%(field)s must be true or false."), field="consent"),
                              field="consent")
    bank.apply_due(session=db(), firm_id=firm_id)
    try:
        result = bank.declare(session=db(), firm_id=firm_id, user=user,
                              password=_text(body, "password"),
                              bank_name=_text(body, "bank_name"),
                              account_number=_text(body, "account_number"),
                              holder_name=_text(body, "holder_name"), consent=consent)
    except TrellisError as exc:
        db().rollback()
        if exc.code == "reauthentication_failed":   # kept, as on the page
            audit("bank_account.reauth_failed", "firm", firm_id, via="api")
            commit()
        raise
    if isinstance(result, PayoutAccount):
        audit("payout_account.consent", "firm", firm_id, payout_account_id=result.id,
              account=payout.label(result), via="api")
        outcome, status = "in_force", 201
    else:
        audit("bank_account.change_requested", "firm", firm_id, change_id=result.id,
              new_account=payout.masked(result.new_account),
              effective_at=result.effective_at.isoformat(), consented=True, via="api")
        outcome, status = "change_requested", 202
    commit()
    return jsonify({"outcome": outcome} | {k: v for k, v in _state(firm_id).items()
                                           if k in ("account", "pending_change")}), status


@bp.post("/loans/<int:loan_id>/payout-account")
@api_auth(roles=("vendor",))
@doc(summary="Consent, for a loan waiting to be paid out, to the firm's payout account now "
             "in force (needed when the account changed after the offer was accepted)",
     request=CONFIRM_SCHEMA, response=CONFIRMED_SCHEMA, tags=("vendor",))
def confirm_for_loan(loan_id: int):
    loan = db().get(Loan, loan_id)
    if loan is None or loan.firm_id != current_firm_id():
        raise NotFound(msg(N_("Your firm has no loan %(loan)s."), loan=Ident(loan_id)))
    user = _person()
    account_id = _body().get("payout_account_id")
    if not isinstance(account_id, int) or isinstance(account_id, bool) or account_id < 1:
        raise ValidationError(msg(N_("%(field)s must be the id of the payout account in "
                                     "force."), field="payout_account_id"),
                              field="payout_account_id")
    loan = lifecycle.confirm_payout_account(session=db(), loan_id=loan_id, user_id=user.id,
                                            payout_account_id=account_id)
    account = db().get(PayoutAccount, loan.payout_account_id)
    audit("loan.payout_account_confirmed", "loan", loan_id,
          payout_account_id=loan.payout_account_id, account=payout.label(account), via="api")
    commit()
    return jsonify({"loan_id": loan_id, "account": _account_json(account)})
