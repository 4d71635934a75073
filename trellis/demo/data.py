"""The simulator's output: plain rows per trade table plus the planted facts.

Rows are dicts whose keys are the column names of :mod:`trellis.trade.models`, except that
firms are referenced by USCC instead of id:

- relationships: ``supplier_uscc``, ``buyer_uscc``;
- purchase_orders: ``buyer_uscc``, ``seller_uscc`` (natural key ``(buyer_uscc, number)``);
- deliveries: ``order_buyer_uscc``, ``order_number``;
- invoices: ``seller_uscc``, ``buyer_uscc``, ``order_number`` (an order of the same buyer,
  or ``None`` when no order stands behind the invoice);
- payments: ``payer_uscc``, ``payee_uscc`` (natural key ``(payer_uscc, reference)``);
- payment_allocations: ``payer_uscc``, ``payment_reference``, ``seller_uscc``,
  ``invoice_number``;
- credit_notes: ``seller_uscc``, ``buyer_uscc``, ``invoice_number`` (of the same seller);
- loan_outcomes: ``firm_uscc``.

Money is integer fen; dates are :class:`datetime.date`; ``confirmed_at`` is a UTC-aware
datetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

TABLES = ("firms", "relationships", "purchase_orders", "deliveries", "invoices", "payments",
          "payment_allocations", "credit_notes", "loan_outcomes")


@dataclass
class Truth:
    """What the simulator planted, for tests, benchmarks and the demo's walkthrough.

    ``tiers``: USCC -> tier (anchors 0, upstream suppliers +1..+3, distributors -1).
    ``ring``: USCCs in trading order (each sells to the next, the last to the first).
    ``duplicate_invoices``: pairs of ``(seller_uscc, number)``; the second is the copy.
    ``burst``: USCC -> the application date before which its sales jumped.
    """

    anchors: set[str] = field(default_factory=set)
    tiers: dict[str, int] = field(default_factory=dict)
    defaulters: set[str] = field(default_factory=set)
    default_dates: dict[str, date] = field(default_factory=dict)
    decline_dates: dict[str, date] = field(default_factory=dict)
    ring: list[str] = field(default_factory=list)
    duplicate_invoices: list[tuple[tuple[str, str], tuple[str, str]]] = field(
        default_factory=list)
    burst: dict[str, date] = field(default_factory=dict)
    shared_phone: list[set[str]] = field(default_factory=list)
    shared_bank_account: list[set[str]] = field(default_factory=list)
    shared_address: list[set[str]] = field(default_factory=list)
    with_tax: set[str] = field(default_factory=set)
    young: set[str] = field(default_factory=set)
    anchor_by_industry: dict[str, str] = field(default_factory=dict)


@dataclass
class ClusterData:
    """Rows for every trade table of one cluster, and the planted :class:`Truth`."""

    start: date
    end: date
    firms: list[dict] = field(default_factory=list)
    relationships: list[dict] = field(default_factory=list)
    purchase_orders: list[dict] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    payment_allocations: list[dict] = field(default_factory=list)
    credit_notes: list[dict] = field(default_factory=list)
    loan_outcomes: list[dict] = field(default_factory=list)
    # Meter readings and headcount (see :mod:`trellis.demo.meters`); loaded only where
    # the database has the reading tables.
    utility_readings: list[dict] = field(default_factory=list)
    headcount_records: list[dict] = field(default_factory=list)
    truth: Truth = field(default_factory=Truth)

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(getattr(self, name)) for name in TABLES}

    def firm(self, uscc: str) -> dict:
        """The firm row for *uscc* (KeyError when absent)."""
        for row in self.firms:
            if row["uscc"] == uscc:
                return row
        raise KeyError(uscc)
