"""JSON API of the ledger area (under ``/api/v1``).

* ``GET /loans`` - loans visible to the caller (a firm token: its own firm's);
* ``GET /loans/<id>`` - one loan with balances and days past due;
* ``GET /loans/<id>/statement`` - the statement's movements;
* ``POST /loans/<id>/repayments`` - record money received (admin, RM): idempotent by the
  ``Idempotency-Key`` header or ``idempotency_key`` (a string, never coerced); a replay
  answers 200 with the original body and ``Idempotent-Replayed: true``, the same key for
  another payment 409; amounts are whole fen from 1 to ``TRELLIS_LEDGER_MAX_AMOUNT_FEN``,
  ``paid_on`` is ``YYYY-MM-DD`` and not in the future (422 otherwise, nothing written);
  the allocation follows the waterfall; back-dated payments re-compute interest from
  their value date;
* ``GET /ledger/trial-balance`` - admin and auditor.

Money is integer fen; dates ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from trellis import clock
from trellis.accounts.models import IdempotencyRecord
from trellis.errors import NotFound, ValidationError
from trellis.ledger import lifecycle, reports, statement
from trellis.ledger.dates import parse_date
from trellis.ledger.errors import IdempotencyMismatch
from trellis.ledger.models import Loan, LoanStatus
from trellis.platform.api.auth import api_auth
from trellis.platform.api.openapi import doc
from trellis.platform.web import (
    audit,
    commit,
    current_firm_id,
    db,
    firm_visible,
    settings,
    user_role,
    visible_cluster_ids,
)
from trellis.trade.models import Firm

bp = Blueprint("ledger_api", __name__)

MONEY = {"type": "integer", "description": "fen"}
LOAN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "firm_id": {"type": "integer"}, "status": {"type": "string"},
    "amount_fen": MONEY, "principal_fen": MONEY, "interest_fen": MONEY, "penalty_fen": MONEY,
    "fees_fen": MONEY, "outstanding_fen": MONEY, "rate": {"type": "string"},
    "disbursed_on": {"type": ["string", "null"], "format": "date"},
    "due_date": {"type": ["string", "null"], "format": "date"},
    "days_past_due": {"type": "integer"}, "bucket": {"type": "string"}}}
REPAYMENT_REQUEST = {"type": "object", "required": ["amount_fen", "paid_on"],
                     "properties": {"amount_fen": {**MONEY, "minimum": 1,
                                                   "maximum": lifecycle.MAX_AMOUNT_FEN},
                                    "paid_on": {"type": "string", "format": "date",
                                                "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                                    "idempotency_key": {"type": "string", "minLength": 1,
                                                        "maxLength": lifecycle.KEY_MAX,
                                                        "description": "or the "
                                                        "Idempotency-Key header"}}}


def _iso(d):
    return d.isoformat() if d else None


def loan_json(loan: Loan, as_of: date | None = None) -> dict:
    as_of = as_of or clock.today()
    days = lifecycle.dpd(loan, as_of)
    return {"id": loan.id, "firm_id": loan.firm_id, "status": loan.status,
            "amount_fen": loan.amount_fen, "principal_fen": loan.principal_fen,
            "interest_fen": loan.interest_fen, "penalty_fen": loan.penalty_fen,
            "fees_fen": loan.fees_fen, "outstanding_fen": loan.outstanding_fen,
            "rate": f"{loan.rate_micro / 1_000_000:.6f}", "disbursed_on": _iso(loan.disbursed_on),
            "due_date": _iso(loan.due_date), "accrued_until": _iso(loan.accrued_until),
            "closed_on": _iso(loan.closed_on), "days_past_due": days,
            "bucket": lifecycle.bucket(days)}


def _loan(loan_id: int) -> Loan:
    loan = db().get(Loan, loan_id)
    if loan is None or not firm_visible(loan.firm_id):
        raise NotFound(f"No loan {loan_id}.")
    return loan


@bp.get("/loans")
@api_auth()
@doc(summary="Loans visible to the caller (a firm token sees its own firm's)",
     response={"type": "object", "properties": {"loans": {"type": "array",
                                                           "items": LOAN_SCHEMA}}},
     tags=("ledger",))
def loans():
    stmt = select(Loan).order_by(Loan.id.desc()).limit(500)
    if user_role() in ("vendor", "anchor"):
        stmt = stmt.where(Loan.firm_id == current_firm_id())
    else:
        clusters = visible_cluster_ids()
        if clusters is not None:
            stmt = stmt.where(Loan.firm_id.in_(select(Firm.id).where(
                Firm.cluster_id.in_(clusters))))
    wanted = request.args.get("status")
    if wanted:
        if wanted not in {s.value for s in LoanStatus}:
            raise ValidationError(f"Unknown status {wanted!r}.", field="status")
        stmt = stmt.where(Loan.status == wanted)
    return jsonify({"loans": [loan_json(loan) for loan in db().scalars(stmt)]})


@bp.get("/loans/<int:loan_id>")
@api_auth()
@doc(summary="One loan: balances, dates, days past due", response=LOAN_SCHEMA,
     tags=("ledger",))
def loan(loan_id: int):
    return jsonify(loan_json(_loan(loan_id)))


@bp.get("/loans/<int:loan_id>/statement")
@api_auth()
@doc(summary="The loan's statement: every movement with the balance owed after it",
     response={"type": "object"}, tags=("ledger",))
def loan_statement(loan_id: int):
    st = statement.build(session=db(), loan_id=_loan(loan_id).id)
    return jsonify({
        "loan_id": st.loan_id, "as_of": st.as_of.isoformat(), "status": st.status,
        "days_past_due": st.days_past_due,
        "cooling_off_until": _iso(st.cooling_off_until),
        "outstanding_fen": st.owed_fen,   # a write-off does not cancel the debt
        "schedule": [{**s, "date": s["date"].isoformat()} for s in st.schedule],
        "lines": [{"date": x.on.isoformat(), "kind": x.kind, "amount_fen": x.amount_fen,
                   "principal_fen": x.principal_fen, "interest_fen": x.interest_fen,
                   "penalty_fen": x.penalty_fen, "fees_fen": x.fees_fen,
                   "surplus_fen": x.surplus_fen, "balance_fen": x.balance_fen}
                  for x in st.lines]})


@bp.post("/loans/<int:loan_id>/repayments")
@api_auth(roles=("admin", "rm"))
@doc(summary="Record money received for a loan (idempotent by the Idempotency-Key header "
             "or idempotency_key; a replay answers 200 with the original body and "
             "Idempotent-Replayed: true)",
     request=REPAYMENT_REQUEST, response={"type": "object"}, tags=("ledger",))
def repay(loan_id: int):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object.")
    key = _repayment_key(body)
    paid_on = parse_date(body.get("paid_on"), field="paid_on")
    amount = body.get("amount_fen")
    command = {"loan_id": loan_id, "amount_fen": amount, "paid_on": paid_on.isoformat()}
    stored = db().scalars(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == REPAYMENT_SCOPE, IdempotencyRecord.key == key)).first()
    if stored is not None:
        return _replayed(stored, command)
    target = _loan(loan_id)
    rep, replayed = lifecycle.record_repayment(
        session=db(), loan_id=target.id, amount_fen=amount, paid_on=paid_on,
        idempotency_key=key, max_amount_fen=settings().ledger_max_amount_fen)
    answer = {"repayment": {"id": rep.id, "amount_fen": rep.amount_fen,
                            "paid_on": rep.paid_on.isoformat(),
                            "idempotency_key": rep.idempotency_key},
              "loan": loan_json(db().get(Loan, target.id))}
    if replayed:   # a concurrent retry won, or another path recorded it: nothing new
        db().rollback()
        stored = db().scalars(select(IdempotencyRecord).where(
            IdempotencyRecord.scope == REPAYMENT_SCOPE, IdempotencyRecord.key == key)).first()
        if stored is not None:
            return _replayed(stored, command)
        response = jsonify(answer)
        response.headers[REPLAYED] = "true"
        return response, 200
    audit("loan.repayment", "loan", target.id, amount_fen=rep.amount_fen,
          paid_on=paid_on.isoformat(), key=key)
    db().add(IdempotencyRecord(scope=REPAYMENT_SCOPE, key=key, status=201,
                               body={"request": command, "response": answer}))
    commit()
    return jsonify(answer), 201


REPAYMENT_SCOPE = "ledger:repayment"
REPLAYED = "Idempotent-Replayed"


def _repayment_key(body: dict) -> str:
    """The key from the ``Idempotency-Key`` header or the body's ``idempotency_key``
    (both: they must agree). Never coerced: a number is refused."""
    header = request.headers.get("Idempotency-Key")
    raw = body.get("idempotency_key")
    if raw is not None and not isinstance(raw, str):
        raise ValidationError("idempotency_key must be a string.", field="idempotency_key")
    if header is not None and raw is not None and header != raw:
        raise ValidationError("The Idempotency-Key header and idempotency_key differ; send "
                              "one key.", field="idempotency_key")
    key = header if header is not None else raw
    if key is None:
        raise ValidationError("Send an Idempotency-Key header (or idempotency_key) so that a "
                              "retry is applied only once.", field="idempotency_key")
    return lifecycle.check_key(key)


def _replayed(stored: IdempotencyRecord, command: dict):
    if stored.body.get("request") != command:
        raise IdempotencyMismatch("This idempotency key was used for a different payment; "
                                  "use a new key for a new payment.")
    response = jsonify(stored.body.get("response"))
    response.headers[REPLAYED] = "true"
    return response, 200


@bp.get("/ledger/trial-balance")
@api_auth(roles=("admin", "auditor"))
@doc(summary="Trial balance by value date (as_of=YYYY-MM-DD, default all)",
     response={"type": "object"}, tags=("ledger",))
def trial_balance():
    raw = request.args.get("as_of")
    try:
        as_of = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ValidationError("as_of must be a date (YYYY-MM-DD).", field="as_of") from None
    data = reports.trial_balance(session=db(), as_of=as_of).as_dict()
    data["head"] = dict(zip(("seq", "hash"), reports.head(session=db()), strict=True))
    return jsonify(data)


