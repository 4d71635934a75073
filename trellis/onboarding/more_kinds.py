"""Planning the import kinds beyond firms and trade documents.

Deliveries, credit notes and returns, confirmation status (确权) from the anchor's ledger,
tax filings with their period, historical loans and their outcomes, monthly utility
readings and monthly social-insurance headcount. Each planner works like those in
:mod:`trellis.onboarding.importer`: it checks every row against the database, records
problems by row and column, and plans inserts and updates; nothing is written unless the
whole file is clean. Natural keys make a re-import of an unchanged file change nothing:

- a delivery: (order, date, amount, n-th identical row), so two equal deliveries on one
  day stay two;
- a credit note: (seller, number); a tax filing: (firm, period start, period end), a
  later file with other figures is an amended filing and updates it;
- a historical loan: (firm, disbursement date, amount); a reading: (firm, utility,
  month); a headcount: (firm, month): other figures for the same key update it;
- a confirmation row updates the status of an invoice (seller, number) or an order
  (buyer, number) already imported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time
from types import ModuleType

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from trellis.clock import utcnow
from trellis.trade.models import (
    CreditNote,
    Delivery,
    DocStatus,
    HeadcountRecord,
    Invoice,
    LoanOutcome,
    PurchaseOrder,
    TaxFiling,
    UtilityReading,
)

IMPORTED = "imported"  # LoanOutcome.source of loans from a bank's own book


def _core() -> ModuleType:
    # Late: the importer imports this module at its end for PLANNERS (a real cycle).
    from trellis.onboarding import importer

    return importer


def _by_owner(session: Session, model, owner_col, owners: set, *cols) -> list:
    out: list = []
    for chunk in _core()._chunks(sorted(owners)):
        out.extend(session.execute(select(model.id, *cols).where(owner_col.in_(chunk))))
    return out


def _plan_deliveries(plan, session: Session, rows) -> None:
    core = _core()
    with_seller = [(n, v) for n, v in rows if "seller_uscc" in v]
    without = [(n, v) for n, v in rows if "seller_uscc" not in v]
    rows = sorted(core._resolve_firms(plan, session, with_seller, ("buyer_uscc", "seller_uscc"))
                  + core._resolve_firms(plan, session, without, ("buyer_uscc",)),
                  key=lambda r: r[0])
    orders = {(r.buyer_id, r.number): r for r in _by_owner(
        session, PurchaseOrder, PurchaseOrder.buyer_id, {v["buyer_id"] for _, v in rows},
        PurchaseOrder.buyer_id, PurchaseOrder.number, PurchaseOrder.seller_id)}
    good = []
    for number, v in rows:
        order = orders.get((v["buyer_id"], v["order_number"]))
        if order is None:
            plan.error(number, "order_number", v["order_number"],
                       "unknown order number for this buyer: import the orders first")
        elif "seller_id" in v and v["seller_id"] != order.seller_id:
            plan.error(number, "seller_uscc", v["seller_uscc"],
                       "that order was placed with another seller")
        else:
            good.append((number, {**v, "order_id": order.id}))
    existing = Counter((r.order_id, r.delivered_on, r.amount_fen) for r in _by_owner(
        session, Delivery, Delivery.order_id, {v["order_id"] for _, v in good},
        Delivery.order_id, Delivery.delivered_on, Delivery.amount_fen))
    in_file: Counter = Counter()
    for _, v in good:
        key = (v["order_id"], v["delivered_on"], v["amount"])
        in_file[key] += 1
        if in_file[key] <= existing[key]:
            plan.unchanged += 1
        else:
            plan.inserts.append({"order_id": v["order_id"], "delivered_on": v["delivered_on"],
                                 "amount_fen": v["amount"]})


def _plan_credit_notes(plan, session: Session, rows) -> None:
    core = _core()
    rows = core._resolve_firms(plan, session, rows, ("seller_uscc", "buyer_uscc"))
    rows = core._same_firm_check(plan, rows, "seller_id", "buyer_id", "buyer_uscc",
                                 "seller and buyer are the same firm")
    rows = core._first_seen(plan, rows, lambda v: (v["seller_id"], v["number"]), "number",
                            "credit note number")
    sellers = {v["seller_id"] for _, v in rows}
    existing = {(r.seller_id, r.number): r for r in _by_owner(
        session, CreditNote, CreditNote.seller_id, sellers, CreditNote.seller_id,
        CreditNote.number, CreditNote.buyer_id, CreditNote.amount_fen, CreditNote.issued_on)}
    invoices = {(r.seller_id, r.number): r for r in _by_owner(
        session, Invoice, Invoice.seller_id,
        {v["seller_id"] for _, v in rows if v.get("invoice_number")},
        Invoice.seller_id, Invoice.number, Invoice.buyer_id)}
    for number, v in rows:
        v["amount_fen"] = v.pop("amount")
        old = existing.get((v["seller_id"], v["number"]))
        if old is not None:
            core._compare_doc(plan, number, v, old, ("buyer_id", "amount_fen", "issued_on"),
                              "number", "credit note number")
            continue
        invoice_id = None
        if v.get("invoice_number"):
            inv = invoices.get((v["seller_id"], v["invoice_number"]))
            if inv is None or inv.buyer_id != v["buyer_id"]:
                plan.error(number, "invoice_number", v["invoice_number"],
                           "no such invoice from this seller to this buyer: import the "
                           "invoices first")
                continue
            invoice_id = inv.id
        plan.inserts.append({"seller_id": v["seller_id"], "buyer_id": v["buyer_id"],
                             "invoice_id": invoice_id, "number": v["number"],
                             "amount_fen": v["amount_fen"], "issued_on": v["issued_on"],
                             "reason": v.get("reason") or "return"})


def _plan_confirmations(plan, session: Session, rows) -> None:
    core = _core()
    rows = core._resolve_firms(plan, session, rows, ("seller_uscc", "buyer_uscc"))
    rows = core._first_seen(plan, rows, lambda v: (v.get("document") or "invoice",
                                                   v["seller_id"], v["buyer_id"], v["number"]),
                            "number", "document")
    invoices = {(r.seller_id, r.number): r for r in _by_owner(
        session, Invoice, Invoice.seller_id, {v["seller_id"] for _, v in rows
                                              if v.get("document", "invoice") == "invoice"},
        Invoice.seller_id, Invoice.number, Invoice.buyer_id, Invoice.status)}
    orders = {(r.buyer_id, r.number): r for r in _by_owner(
        session, PurchaseOrder, PurchaseOrder.buyer_id,
        {v["buyer_id"] for _, v in rows if v.get("document") == "order"},
        PurchaseOrder.buyer_id, PurchaseOrder.number, PurchaseOrder.seller_id,
        PurchaseOrder.status)}
    updates: dict[str, list[dict]] = {"invoice": [], "order": []}
    for number, v in rows:
        doc = v.get("document") or "invoice"
        if doc == "invoice":
            hit = invoices.get((v["seller_id"], v["number"]))
            other = hit is not None and hit.buyer_id != v["buyer_id"]
        else:
            hit = orders.get((v["buyer_id"], v["number"]))
            other = hit is not None and hit.seller_id != v["seller_id"]
        if hit is None or other:
            plan.error(number, "number", v["number"],
                       f"no such {doc} between this seller and buyer: import the "
                       f"{doc}s first")
            continue
        status = v["status"]
        if status == hit.status:
            plan.unchanged += 1
            continue
        when = (datetime.combine(v["confirmed_on"], time(12), UTC) if v.get("confirmed_on")
                else None)
        change = {"id": hit.id, "status": status,
                  "confirmed_at": when or (plan.extra.setdefault("now", utcnow())
                                           if status != DocStatus.PENDING.value else None),
                  "reject_reason": (v.get("reject_reason") or None)
                  if status == DocStatus.REJECTED.value else None}
        updates[doc].append(change)
        plan.updates.append(change)

    def write(plan, session):
        core._update_many(session, Invoice, updates["invoice"])
        core._update_many(session, PurchaseOrder, updates["order"])

    plan.extra["write"] = write


def _check_tax_period(plan, number: int, v: dict) -> bool:
    if v.get("period"):
        start, end = v.pop("period")
        if ("period_start" in v and v["period_start"] != start) or \
                ("period_end" in v and v["period_end"] != end):
            plan.error(number, "period", f"{start}~{end}",
                       "the period and the period start/end columns disagree")
            return False
        v["period_start"], v["period_end"] = start, end
    if "period_start" not in v or "period_end" not in v:
        plan.error(number, "period", "", "give the filing period (e.g. 2025, 2025Q3, 2025-07)"
                                         " or its start and end dates")
        return False
    if v["period_end"] < v["period_start"]:
        plan.error(number, "period_end", v["period_end"].isoformat(),
                   "the period ends before it starts")
        return False
    if v["period_end"] > plan.today:
        plan.error(number, "period_end", v["period_end"].isoformat(),
                   "the filing period has not ended yet")
        return False
    return True


def _keyed(plan, session: Session, rows, *, model, key_fields: tuple[str, ...],
           value_fields: dict[str, str], what: str, column: str, extra: dict | None = None,
           where=None) -> None:
    """Plan a kind keyed by (firm id, *key_fields*): new keys are inserted, known keys
    with other values updated, equal ones left unchanged."""
    core = _core()
    rows = core._resolve_firms(plan, session, rows, ("uscc",))
    rows = core._first_seen(plan, rows, lambda v: (v["uscc_id"], *[v[k] for k in key_fields]),
                            column, what)
    cols = [getattr(model, k) for k in key_fields] + [getattr(model, c) for c in
                                                       value_fields.values()]
    existing = {}
    for chunk in core._chunks(sorted({v["uscc_id"] for _, v in rows})):
        q = select(model.id, model.firm_id, *cols).where(model.firm_id.in_(chunk))
        if where is not None:
            q = q.where(where)
        for r in session.execute(q):
            existing[(r.firm_id, *[getattr(r, k) for k in key_fields])] = r
    for _, v in rows:
        values = {dst: v.get(src) for src, dst in value_fields.items()}
        old = existing.get((v["uscc_id"], *[v[k] for k in key_fields]))
        if old is None:
            plan.inserts.append({"firm_id": v["uscc_id"], **{k: v[k] for k in key_fields},
                                 **values, **(extra or {})})
            continue
        changes = {k: val for k, val in values.items() if val != getattr(old, k)}
        if changes:
            plan.updates.append({"id": old.id, **changes})
        else:
            plan.unchanged += 1


def _plan_tax(plan, session, rows) -> None:
    good = [(n, v) for n, v in rows if _check_tax_period(plan, n, v)]
    _keyed(plan, session, good, model=TaxFiling, key_fields=("period_start", "period_end"),
           value_fields={"vat_sales": "vat_sales_fen", "tax_paid": "tax_paid_fen"},
           what="filing for this period", column="period")


def _plan_loans(plan, session, rows) -> None:
    for _, v in rows:
        v["amount_fen"] = v.pop("amount")
    _keyed(plan, session, rows, model=LoanOutcome, key_fields=("disbursed_on", "amount_fen"),
           value_fields={"defaulted": "defaulted"}, what="loan (date and amount)",
           column="disbursed_on", extra={"source": IMPORTED},
           where=LoanOutcome.source == IMPORTED)


def _plan_utility(plan, session, rows) -> None:
    for _, v in rows:
        v["utility"] = v.get("utility") or "electricity"
    _keyed(plan, session, rows, model=UtilityReading, key_fields=("utility", "month"),
           value_fields={"quantity": "quantity"}, what="reading for this month",
           column="month")


def _plan_headcount(plan, session, rows) -> None:
    _keyed(plan, session, rows, model=HeadcountRecord, key_fields=("month",),
           value_fields={"headcount": "headcount"}, what="headcount for this month",
           column="month")


#: kind -> (table, planner(plan, session, rows)), added to the importer's own.
PLANNERS: dict[str, tuple[type[SQLModel], Callable[..., None]]] = {
    "deliveries": (Delivery, _plan_deliveries),
    "credit_notes": (CreditNote, _plan_credit_notes),
    "confirmations": (Invoice, _plan_confirmations),
    "tax_filings": (TaxFiling, _plan_tax),
    "loans": (LoanOutcome, _plan_loans),
    "utility_readings": (UtilityReading, _plan_utility),
    "headcount": (HeadcountRecord, _plan_headcount),
}
