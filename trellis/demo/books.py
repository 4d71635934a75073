"""Turn drawn deals into table rows: number orders and invoices, confirm or reject the
anchor-facing ones, issue credit notes, and pay (on time, late, in parts, or never).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from trellis.demo.data import ClusterData
from trellis.demo.flows import (
    ANCHOR_LATENESS,
    ANCHOR_PAY_DAYS,
    CREDIT_REASONS,
    REJECT_REASONS,
    Deal,
    confirmed_at,
)
from trellis.demo.structure import SimFirm


def write(rng: random.Random, deals: list[Deal], firm_no: dict[str, int], end: date,
          data: ClusterData) -> None:
    """Append the rows for *deals* to *data* (orders, deliveries, invoices, credit notes,
    payments and their allocations)."""
    for i, deal in enumerate(deals):
        deal.seq = i
    _orders(rng, deals, end, data)
    invoiced = _invoices(rng, deals, firm_no, end, data)
    _credit_notes(rng, invoiced, end, data)
    _payments(rng, invoiced, end, data)
    for row, deal in zip(data.invoices, invoiced, strict=True):
        row["paid_fen"] = deal.paid


def _issued(deal: Deal) -> date:
    """The issue day of a deal that was invoiced (only those reach the invoice steps)."""
    if deal.issue_date is None:
        raise ValueError(f"deal {deal.seq} was not invoiced")
    return deal.issue_date


def _orders(rng: random.Random, deals: list[Deal], end: date, data: ClusterData) -> None:
    ordered = sorted(((d, d.order_date) for d in deals if d.order_date is not None),
                     key=lambda pair: (pair[1], pair[0].seq))
    counters: dict[str, int] = defaultdict(int)
    for deal, ordered_on in ordered:
        buyer = deal.buyer.uscc
        counters[buyer] += 1
        deal.order_number = f"PO{ordered_on:%Y%m}{counters[buyer]:05d}"
        status, at = "pending", None
        if deal.buyer.role == "anchor" and rng.random() < 0.9:
            day = ordered_on + timedelta(days=rng.randint(0, 2))
            if day <= end:
                status, at = "confirmed", confirmed_at(day, rng.randint(9, 17))
        data.purchase_orders.append({
            "buyer_uscc": buyer, "seller_uscc": deal.seller.uscc,
            "number": deal.order_number, "amount_fen": deal.amount,
            "order_date": ordered_on, "status": status, "confirmed_at": at,
            "reject_reason": None})
        for day, amount in deal.deliveries:
            data.deliveries.append({"order_buyer_uscc": buyer,
                                    "order_number": deal.order_number,
                                    "delivered_on": day, "amount_fen": amount})


def _invoices(rng: random.Random, deals: list[Deal], firm_no: dict[str, int], end: date,
              data: ClusterData) -> list[Deal]:
    invoiced = sorted((d for d in deals if d.issue_date is not None),
                      key=lambda d: (_issued(d), d.seq))
    counters: dict[str, int] = defaultdict(int)
    for deal in invoiced:
        seller = deal.seller.uscc
        counters[seller] += 1
        issue = _issued(deal)
        deal.invoice_number = (f"{issue.year % 100:02d}332{firm_no[seller]:05d}"
                               f"{counters[seller]:010d}")
        terms = deal.edge.terms if deal.edge is not None else 30
        status, at, reason = _confirmation(rng, deal, end)
        deal.status = status
        data.invoices.append({
            "seller_uscc": seller, "buyer_uscc": deal.buyer.uscc,
            "number": deal.invoice_number, "amount_fen": deal.amount,
            "issue_date": issue, "due_date": issue + timedelta(days=terms),
            "order_number": deal.order_number if deal.kind != "dup" else None,
            "status": status, "confirmed_at": at, "reject_reason": reason, "paid_fen": 0})
    return invoiced


def _confirmation(rng: random.Random, deal: Deal, end: date
                  ) -> tuple[str, datetime | None, str | None]:
    """Anchors confirm about 80% of the invoices they receive, reject a few, and have not
    yet looked at the newest ones. Invoices between vendors stay ``pending``."""
    if deal.buyer.role != "anchor" or deal.kind in ("dup", "ring"):
        return "pending", None, None
    draw = rng.random()
    if deal.kind == "burst":
        draw = 0.4 + draw * 0.6  # the anchor is slow to confirm a sudden flood
    if draw < 0.06:
        return "rejected", None, rng.choice(REJECT_REASONS)
    if draw < 0.86:
        day = _issued(deal) + timedelta(days=rng.randint(1, 7))
        if day <= end:
            return "confirmed", confirmed_at(day, rng.randint(9, 18)), None
    return "pending", None, None


def _credit_notes(rng: random.Random, invoiced: list[Deal], end: date,
                  data: ClusterData) -> None:
    counters: dict[str, int] = defaultdict(int)
    reasons = [r for r, _ in CREDIT_REASONS]
    weights = [w for _, w in CREDIT_REASONS]
    for deal in invoiced:
        if deal.kind not in ("trade", "burst"):
            continue
        if deal.status == "rejected" and rng.random() < 0.5:  # the seller reverses it
            amount, reason, day = deal.amount, "dispute", _issued(deal) + timedelta(
                days=rng.randint(3, 20))
        elif rng.random() < 0.02 + 0.06 * (1.0 - deal.seller.health):
            amount = max(100, int(deal.amount * rng.uniform(0.03, 0.3)) // 100 * 100)
            reason = rng.choices(reasons, weights)[0]
            day = _issued(deal) + timedelta(days=rng.randint(3, 40))
        else:
            continue
        if day > end or amount >= deal.amount and deal.status != "rejected":
            continue
        seller = deal.seller.uscc
        counters[seller] += 1
        deal.credit = amount
        data.credit_notes.append({
            "seller_uscc": seller, "buyer_uscc": deal.buyer.uscc,
            "invoice_number": deal.invoice_number,
            "number": f"HZ{day.year % 100:02d}{counters[seller]:06d}", "amount_fen": amount,
            "issued_on": day, "reason": reason})


def _pay_day(rng: random.Random, deal: Deal) -> date | None:
    """When the buyer pays, or ``None`` when it never does."""
    buyer: SimFirm = deal.buyer
    due = _issued(deal) + timedelta(days=deal.edge.terms if deal.edge else 30)
    if deal.kind == "ring":
        return due + timedelta(days=rng.randint(-3, 3))
    if buyer.role == "anchor":
        p_late, worst = ANCHOR_LATENESS[buyer.industry]
    else:
        p_late, worst = 0.05 + 0.4 * (1.0 - buyer.health), 60
        if buyer.decline_from is not None and due >= buyer.decline_from:
            p_late, worst = 0.9, 150
    if rng.random() < p_late:
        day = due + timedelta(days=rng.randint(5, worst))
    else:
        day = max(_issued(deal), due - timedelta(days=rng.randint(0, 5)))
    if buyer.default_on is not None and day >= buyer.default_on:
        return None
    if buyer.role == "anchor":
        day = _next_run(day)
    return day


def _next_run(day: date) -> date:
    for d in ANCHOR_PAY_DAYS:
        if day.day <= d:
            return day.replace(day=d)
    nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=ANCHOR_PAY_DAYS[0])
    return nxt


def _payments(rng: random.Random, invoiced: list[Deal], end: date, data: ClusterData) -> None:
    batches: dict[tuple[str, str, date], list[tuple[Deal, int]]] = defaultdict(list)
    for deal in invoiced:
        if deal.kind == "dup" or deal.status == "rejected":
            continue
        owed = deal.amount - deal.credit
        if owed <= 0:
            continue
        day = _pay_day(rng, deal)
        if day is None:
            continue
        parts = [(day, owed)]
        if owed >= 200_00 and rng.random() < 0.04:  # paid in two instalments
            first = owed * rng.randint(40, 70) // 100
            parts = [(day, first), (day + timedelta(days=rng.randint(15, 45)), owed - first)]
        for when, amount in parts:
            if when <= end:
                batches[(deal.buyer.uscc, deal.seller.uscc, when)].append((deal, amount))
    counters: dict[str, int] = defaultdict(int)
    for payer, payee, when in sorted(batches, key=lambda k: (k[2], k[0], k[1])):
        items = batches[(payer, payee, when)]
        counters[payer] += 1
        reference = f"FK{when:%Y%m%d}{counters[payer]:06d}"
        data.payments.append({"payer_uscc": payer, "payee_uscc": payee,
                              "reference": reference,
                              "amount_fen": sum(a for _, a in items), "paid_on": when})
        for deal, amount in items:
            deal.paid += amount
            data.payment_allocations.append({
                "payer_uscc": payer, "payment_reference": reference,
                "seller_uscc": payee, "invoice_number": deal.invoice_number,
                "amount_fen": amount})
