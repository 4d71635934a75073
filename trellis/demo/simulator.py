"""Simulate an industrial-park cluster: three anchors, a few hundred vendors, 18 months of
trade, and the facts a real cluster hides (see :mod:`trellis.demo.plant`).

``simulate`` is deterministic: the same ``(n_vendors, months, seed, end)`` give identical
rows. It draws from one :class:`random.Random` seeded with *seed* and never touches the
global random state.
"""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta

from trellis import clock
from trellis.demo import books, flows, meters, plant
from trellis.demo.data import ClusterData, Truth
from trellis.demo.errors import BadSimulation
from trellis.demo.identity import Identities
from trellis.demo.structure import build
from trellis.messages import N_, msg

logger = logging.getLogger(__name__)

MIN_VENDORS, MAX_VENDORS = 30, 20_000
MIN_MONTHS, MAX_MONTHS = 12, 60


def simulate(*, n_vendors: int = 300, months: int = 18, seed: int = 7,
             end: date | None = None) -> ClusterData:
    """Simulate a cluster with *n_vendors* vendors and *months* calendar months of trade
    ending on *end* (default today; the last month is partial). Returns plain rows per
    trade table with the planted facts in ``truth``. Money is integer fen."""
    if not MIN_VENDORS <= n_vendors <= MAX_VENDORS:
        raise BadSimulation(msg(N_("n_vendors must be between %(low)s and %(high)s."),
                                low=MIN_VENDORS, high=MAX_VENDORS),
                            field="n_vendors")
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise BadSimulation(msg(N_("months must be between %(low)s and %(high)s."),
                                low=MIN_MONTHS, high=MAX_MONTHS),
                            field="months")
    end = end or clock.today()
    rng = random.Random(seed)
    month_list = _months(end, months)
    start = date(*month_list[0], 1)
    truth = Truth()
    st = build(rng, Identities(rng), n_vendors, start, end)
    for industry, anchor in st.anchors.items():
        truth.anchors.add(anchor.uscc)
        truth.anchor_by_industry[industry] = anchor.uscc
    for f in st.firms:
        truth.tiers[f.uscc] = f.tier
        if f.founded_on > end - timedelta(days=730):
            truth.young.add(f.uscc)

    plant.defaulters(rng, st, start, end, truth)
    deals = flows.regular_deals(rng, st.edges, month_list, end)
    deals += plant.ring(rng, st, start, end, truth)
    exclude = set(truth.ring) | truth.defaulters
    deals += plant.burst(rng, st, deals, end, truth, exclude)
    exclude |= set(truth.burst)
    deals += plant.duplicates(rng, deals, end, exclude, n=4 if n_vendors >= 200 else 3)
    plant.shared_identities(rng, st, truth)

    data = ClusterData(start=start, end=end, truth=truth)
    firm_rows = {f.uscc: f.row() for f in st.firms}
    data.firms = list(firm_rows.values())
    data.relationships = [{"supplier_uscc": e.supplier.uscc, "buyer_uscc": e.buyer.uscc,
                           "since": e.since, "payment_terms_days": e.terms}
                          for e in st.edges]
    firm_no = {f.uscc: i + 1 for i, f in enumerate(st.firms)}
    books.write(rng, deals, firm_no, end, data)
    for d in deals:
        # a copy and its original are both invoiced, so both have numbers by now
        if (d.kind == "dup" and d.dup_of is not None and d.dup_of.invoice_number is not None
                and d.invoice_number is not None):
            truth.duplicate_invoices.append(((d.seller.uscc, d.dup_of.invoice_number),
                                             (d.seller.uscc, d.invoice_number)))
    data.loan_outcomes = plant.loans(rng, st, deals, start, end, truth)
    plant.tax(rng, st, deals, end, truth, firm_rows)
    data.utility_readings, data.headcount_records = meters.readings(seed, st, deals,
                                                                    month_list, end)
    logger.info("simulated cluster: %s", data.counts())
    return data


def _months(end: date, months: int) -> list[tuple[int, int]]:
    """The *months* calendar months ending with *end*'s month, oldest first."""
    index = end.year * 12 + end.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - months + 1, index + 1)]
