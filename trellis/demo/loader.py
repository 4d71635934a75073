"""Bulk-load a simulated cluster into the trade tables.

Rows go in with SQLAlchemy Core ``insert`` executemany, table by table in dependency
order; natural keys (USCC, order and invoice numbers, payment references) are mapped to
the new ids by reading them back once per table. Works on SQLite and PostgreSQL; only
flushes, never commits.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from trellis import db
from trellis.clock import utcnow
from trellis.demo.data import ClusterData
from trellis.demo.errors import ClusterExists, FirmExists
from trellis.messages import N_, msg
from trellis.trade import readings
from trellis.trade.models import (
    Cluster,
    CreditNote,
    Delivery,
    Firm,
    Invoice,
    LoanOutcome,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)

logger = logging.getLogger(__name__)

CHUNK = 50_000  # rows per bulk write (COPY or executemany): bounded memory, few round trips
IN_CHUNK = 500  # values per IN (...) when checking USCCs


def load(*, session: Session, data: ClusterData, cluster_code: str, cluster_name: str,
         region: str = "") -> dict[str, int]:
    """Insert the cluster, its firms and their trade history; return rows per table.

    Raises :class:`ClusterExists` when *cluster_code* is taken and :class:`FirmExists` when
    a simulated USCC already belongs to a firm.
    """
    if session.execute(select(col(Cluster.id)).where(col(Cluster.code) == cluster_code)).first():
        raise ClusterExists(msg(N_("A cluster with code %(cluster_code)s already exists; "
                                   "choose another code or delete that cluster first."),
                                cluster_code=cluster_code))
    usccs = [f["uscc"] for f in data.firms]
    for i in range(0, len(usccs), IN_CHUNK):
        taken = session.execute(select(col(Firm.uscc)).where(
            col(Firm.uscc).in_(usccs[i:i + IN_CHUNK])).limit(1)).scalar()
        if taken:
            raise FirmExists(msg(N_("Firm %(taken)s already exists in another cluster; a simulated "
                                    "cluster must not reuse real USCCs (use another seed)."),
                                 taken=taken))
    anchors = [f for f in data.firms if f["role"] == "anchor"]
    cluster = Cluster(code=cluster_code, name=cluster_name,
                      region=region or (anchors[0]["region"] if anchors else ""),
                      data_version=1)
    session.add(cluster)
    session.flush()
    cid = cluster.id

    _insert(session, Firm, [{**f, "cluster_id": cid} for f in data.firms])
    firm_id = dict(session.execute(select(col(Firm.uscc),
                                          col(Firm.id)).where(col(Firm.cluster_id) == cid))
                   .tuples().all())
    in_cluster = select(col(Firm.id)).where(col(Firm.cluster_id) == cid).scalar_subquery()

    _insert(session, Relationship, [
        {"supplier_id": firm_id[r["supplier_uscc"]], "buyer_id": firm_id[r["buyer_uscc"]],
         "since": r["since"], "payment_terms_days": r["payment_terms_days"]}
        for r in data.relationships])

    _insert(session, PurchaseOrder, [
        {"buyer_id": firm_id[o["buyer_uscc"]], "seller_id": firm_id[o["seller_uscc"]],
         "number": o["number"], "amount_fen": o["amount_fen"], "order_date": o["order_date"],
         "status": o["status"], "confirmed_at": o["confirmed_at"],
         "reject_reason": o["reject_reason"]} for o in data.purchase_orders])
    order_id = {(b, n): i for i, b, n in session.execute(
        select(col(PurchaseOrder.id), col(PurchaseOrder.buyer_id), col(PurchaseOrder.number))
        .where(col(PurchaseOrder.buyer_id).in_(in_cluster)))}

    _insert(session, Delivery, [
        {"order_id": order_id[(firm_id[d["order_buyer_uscc"]], d["order_number"])],
         "delivered_on": d["delivered_on"], "amount_fen": d["amount_fen"]}
        for d in data.deliveries])

    rows = []
    for v in data.invoices:
        buyer = firm_id[v["buyer_uscc"]]
        rows.append({
            "seller_id": firm_id[v["seller_uscc"]], "buyer_id": buyer, "number": v["number"],
            "amount_fen": v["amount_fen"], "issue_date": v["issue_date"],
            "due_date": v["due_date"],
            "order_id": order_id[(buyer, v["order_number"])] if v["order_number"] else None,
            "status": v["status"], "confirmed_at": v["confirmed_at"],
            "reject_reason": v["reject_reason"], "paid_fen": v["paid_fen"]})
    _insert(session, Invoice, rows)
    invoice_id = {(s, n): i for i, s, n in session.execute(
        select(col(Invoice.id), col(Invoice.seller_id), col(Invoice.number))
        .where(col(Invoice.seller_id).in_(in_cluster)))}

    _insert(session, Payment, [
        {"payer_id": firm_id[p["payer_uscc"]], "payee_id": firm_id[p["payee_uscc"]],
         "reference": p["reference"], "amount_fen": p["amount_fen"], "paid_on": p["paid_on"]}
        for p in data.payments])
    payment_id = {(p, r): i for i, p, r in session.execute(
        select(col(Payment.id), col(Payment.payer_id), col(Payment.reference))
        .where(col(Payment.payer_id).in_(in_cluster)))}

    _insert(session, PaymentAllocation, [
        {"payment_id": payment_id[(firm_id[a["payer_uscc"]], a["payment_reference"])],
         "invoice_id": invoice_id[(firm_id[a["seller_uscc"]], a["invoice_number"])],
         "amount_fen": a["amount_fen"]} for a in data.payment_allocations])

    _insert(session, CreditNote, [
        {"seller_id": firm_id[c["seller_uscc"]], "buyer_id": firm_id[c["buyer_uscc"]],
         "invoice_id": (invoice_id[(firm_id[c["seller_uscc"]], c["invoice_number"])]
                        if c["invoice_number"] else None),
         "number": c["number"], "amount_fen": c["amount_fen"], "issued_on": c["issued_on"],
         "reason": c["reason"]} for c in data.credit_notes])

    _insert(session, LoanOutcome, [
        {"firm_id": firm_id[o["firm_uscc"]], "disbursed_on": o["disbursed_on"],
         "amount_fen": o["amount_fen"], "defaulted": o["defaulted"], "source": o["source"]}
        for o in data.loan_outcomes])
    if readings.available(session):
        for table, rows in ((readings.UTILITY_READINGS, [
                {"firm_id": firm_id[r["uscc"]], "utility": r["utility"], "month": r["month"],
                 "quantity": r["quantity"]} for r in data.utility_readings]),
                (readings.HEADCOUNT_RECORDS, [
                    {"firm_id": firm_id[r["uscc"]], "month": r["month"],
                     "headcount": r["headcount"]} for r in data.headcount_records])):
            for i in range(0, len(rows), CHUNK):
                session.execute(insert(table), rows[i:i + CHUNK])
    session.flush()
    counts = {"clusters": 1, **data.counts()}
    logger.info("loaded cluster %s (id %s): %s", cluster_code, cid, counts)
    return counts


def _insert(session: Session, model, rows: list[dict]) -> None:
    table = model.__table__
    if "created_at" in table.c:  # Core inserts skip the model's default_factory
        now = utcnow()
        rows = [{**r, "created_at": now} for r in rows]
    session.flush()  # the ORM's pending rows first: the bulk write bypasses it
    conn = session.connection()
    for i in range(0, len(rows), CHUNK):
        db.bulk_insert(conn, table, rows[i:i + CHUNK])


def cluster_counts(*, session: Session, cluster_id: int) -> dict[str, int]:
    """Rows per trade table belonging to a cluster's firms (for checks and benchmarks)."""
    firms = select(col(Firm.id)).where(col(Firm.cluster_id) == cluster_id).scalar_subquery()
    by_firm = {
        "firms": (Firm, col(Firm.cluster_id) == cluster_id),
        "relationships": (Relationship, col(Relationship.supplier_id).in_(firms)),
        "purchase_orders": (PurchaseOrder, col(PurchaseOrder.buyer_id).in_(firms)),
        "invoices": (Invoice, col(Invoice.seller_id).in_(firms)),
        "payments": (Payment, col(Payment.payer_id).in_(firms)),
        "credit_notes": (CreditNote, col(CreditNote.seller_id).in_(firms)),
        "loan_outcomes": (LoanOutcome, col(LoanOutcome.firm_id).in_(firms)),
    }
    out = {name: session.execute(select(func.count()).select_from(model).where(cond))
           .scalar_one() for name, (model, cond) in by_firm.items()}
    out["deliveries"] = session.execute(
        select(func.count()).select_from(Delivery).join(PurchaseOrder)
        .where(col(PurchaseOrder.buyer_id).in_(firms))).scalar_one()
    out["payment_allocations"] = session.execute(
        select(func.count()).select_from(PaymentAllocation).join(Payment)
        .where(col(Payment.payer_id).in_(firms))).scalar_one()
    return out
