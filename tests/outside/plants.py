"""Planted frauds, each with its ground truth.

* circular_ring: 3-5 firms invoice each other round a cycle every month for 7-9 months
  before the cut-off; each month's legs are dated at random days (any order, not cycle
  order), amounts within +-3% of that month's ring amount, and each buyer pays its leg in
  full 3-20 days later, so the money goes round too.
* duplicate_invoice: the seller issues a second invoice to the same buyer copying one of
  its invoices: amount 1 fen off on the same day, or the same amount one day later.
* shared_identity: two firms share a phone, address, legal representative and/or bank
  account in the firm list.
* invoice_spike: in the last two months before the cut-off, invoices to the main buyer
  worth 3-5 times the usual monthly sales on top of ordinary trade, mostly without orders.
* paper_trade: invoiced sales that grow 3-4 times over the last year while power use
  and insured headcount (both present) stay flat: the firm's real activity is held flat
  (such firms are taken from sectors without a season; power still has the park-wide
  summer bump, so compare a year with the year before).
* decoy_cycle (not fraud, ``fraud`` stays ``none``): two triangles of clean suppliers that
  really trade round a cycle, with unrelated amounts and ordinary payments; a ring screen
  that flags them is a false flag.
"""

from __future__ import annotations

from datetime import timedelta

from tests.outside.trade import Numbers, make_invoice, yuan_fen
from tests.outside.world import Edge, World

KINDS = ("circular_ring", "duplicate_invoice", "shared_identity", "invoice_spike",
         "paper_trade")


def _take(rng, pool: list, k: int, taken: set[int]) -> list:
    free = [f for f in pool if f.idx not in taken]
    picks = [free[int(j)] for j in rng.choice(len(free), size=k, replace=False)]
    taken.update(f.idx for f in picks)
    return picks


def choose(rng, world: World) -> None:
    """Pick the planted firms and mark them before any default or trade is drawn."""
    t_cut = world.cutoff_month
    vendors = [f for f in world.firms if f.role != "anchor" and f.entry <= t_cut - 14]
    suppliers = [f for f in vendors if f.role == "supplier"]
    taken: set[int] = set()
    plants: dict[str, list] = {k: [] for k in KINDS}
    for size in (int(rng.integers(3, 6)), int(rng.integers(3, 6))):
        members = _take(rng, suppliers, size, taken)
        plants["circular_ring"].append({"firms": [f.idx for f in members]})
    # paper traders sit in sectors without a season, so "flat" power means flat
    steady = [f for f in suppliers if f.sector.amplitude < 0.1]
    tier2 = [f for f in steady if f.tier == 2]
    for firm in _take(rng, tier2 if len(tier2) >= 8 else steady, 4, taken):
        firm.has_power = firm.has_headcount = True
        # real activity held flat: the firm's power and headcount will not move
        world.health[firm.idx] = float(rng.normal(0.0, 0.15)) + rng.normal(0, 0.05,
                                                                            world.months)
        plants["paper_trade"].append({"firm": firm.idx})
    for firm in _take(rng, suppliers, 4, taken):
        plants["invoice_spike"].append({"firm": firm.idx})
    for firm in _take(rng, suppliers, 4, taken):
        plants["duplicate_invoice"].append({"seller": firm.idx})
    shares = [("phone", "legal_rep"), ("address", "bank_account"), ("bank_account",)]
    for shared in shares:
        a, b = _take(rng, vendors, 2, taken)
        for attr in shared:
            if attr == "bank_account":
                b.bank, b.bank_account = a.bank, a.bank_account
            else:
                setattr(b, attr, getattr(a, attr))
        plants["shared_identity"].append({"firms": [a.idx, b.idx], "shared": list(shared)})
    for kind, items in plants.items():
        for item in items:
            for idx in item.get("firms", []) + [item[k] for k in ("firm", "seller") if k in item]:
                world.firms[idx].fraud = kind
    # Decoys, not fraud: clean suppliers that really trade round a triangle (packaging ->
    # parts -> tooling -> packaging), with unrelated amounts and ordinary payments.
    decoys = []
    for _ in range(2):
        members = _take(rng, suppliers, 3, taken)
        start = max(f.entry for f in members) + int(rng.integers(0, 6))
        for j in range(3):
            world.edges.append(Edge(members[j].idx, members[(j + 1) % 3].idx, start,
                                    world.months - 1, float(rng.uniform(0.1, 0.3))))
        decoys.append({"firms": [f.idx for f in members], "start": str(world.month_start(start))})
    plants["decoy_cycle"] = decoys
    world.plants = plants


def documents(rng, world: World, numbers: Numbers, invoices: list, orders: list,
              payments: list) -> None:
    """Add the planted documents to the export lists and fill in their ground truth."""
    t_cut, end = world.cutoff_month, world.export_end
    for ring, months in zip(world.plants["circular_ring"], (9, 7), strict=True):
        members = ring["firms"]
        k = len(members)
        start = t_cut - months + 1
        amount = float(rng.uniform(400_000, 1_200_000)) * 100
        ring.update(start=str(world.month_start(start)), invoices=[])
        for j in range(k):
            world.edges.append(Edge(members[j], members[(j + 1) % k], start, world.months - 1,
                                    0.0, "ring"))
        for t in range(start, t_cut + 1):
            m0 = world.month_start(t)
            for j in range(k):
                seller, buyer = members[j], members[(j + 1) % k]
                day = m0 + timedelta(days=int(rng.integers(0, 28)))
                total = int(amount * rng.uniform(0.97, 1.03))
                order_no = ""
                if rng.random() < 0.5:
                    ordered = day - timedelta(days=int(rng.integers(1, 6)))
                    order_no = numbers.order(world, buyer, ordered)
                    orders.append({"no": order_no, "date": ordered, "seller": seller,
                                   "buyer": buyer, "total": total})
                inv = make_invoice(world, numbers, seller=seller, buyer=buyer, day=day,
                                   total=total, order_no=order_no, kind="ring")
                invoices.append(inv)
                ring["invoices"].append(inv["no"])
                paid = day + timedelta(days=int(rng.integers(3, 21)))
                if paid <= end:
                    payments.append({"date": paid, "payer": buyer, "payee": seller,
                                     "amount": total, "memo": "货款" if rng.random() < 0.5
                                     else f"付{inv['no']}", "invoices": [inv["no"]]})
            amount *= 1.04
    for plant in world.plants["paper_trade"]:
        _paper(rng, world, numbers, plant, invoices, orders)
    for plant in world.plants["invoice_spike"]:
        _spike(rng, world, numbers, plant, invoices)
    for n, plant in enumerate(world.plants["duplicate_invoice"]):
        seller = plant["seller"]
        lo = world.month_start(t_cut - 11)
        own = [inv for inv in invoices if inv["seller"] == seller and inv["kind"] == "normal"
               and lo <= inv["date"] < world.cutoff]
        if not own:
            own = [inv for inv in invoices if inv["seller"] == seller]
        orig = own[int(rng.integers(len(own)))]
        variant = "amount_1fen" if n % 2 == 0 else "date_1day"
        day = orig["date"] + timedelta(days=1 if variant == "date_1day" else 0)
        total = orig["total"] + (int(rng.choice([-1, 1])) if variant == "amount_1fen" else 0)
        dup = make_invoice(world, numbers, seller=seller, buyer=orig["buyer"], day=day,
                           total=total, order_no=orig["order_no"] if rng.random() < 0.6 else "",
                           kind="duplicate")
        invoices.append(dup)
        plant.update(buyer=orig["buyer"], original=orig["no"], duplicate=dup["no"],
                     variant=variant)


def _main_buyer(world: World, firm_idx: int, prefer_vendor: bool) -> int:
    edges = [e for e in world.edges if e.seller == firm_idx and e.kind == "supply"
             and e.end >= world.cutoff_month]
    if prefer_vendor:
        vendor_edges = [e for e in edges if world.firms[e.buyer].role != "anchor"]
        edges = vendor_edges or edges
    return max(edges, key=lambda e: (e.weight, -e.buyer)).buyer


def _paper(rng, world, numbers, plant, invoices, orders) -> None:
    firm = world.firms[plant["firm"]]
    t_cut = world.cutoff_month
    buyer = _main_buyer(world, firm.idx, prefer_vendor=True)
    growth = float(rng.uniform(2.0, 3.0))
    start = t_cut - 11
    lo, hi = world.month_start(t_cut - 23), world.month_start(start)
    usual = sum(inv["total"] for inv in invoices
                if inv["seller"] == firm.idx and lo <= inv["date"] < hi) / 12
    usual = max(usual, firm.size * 0.5)  # what the firm really sells in a month
    plant.update(buyer=buyer, start=str(world.month_start(start)), growth=round(1 + growth, 2),
                 invoices=[])
    for t in range(start, world.months):
        extra = usual * growth * min(1.0, (t - start + 1) / 12)
        n = int(rng.integers(2, 5))
        for _ in range(n):
            day = world.month_start(t) + timedelta(days=int(rng.integers(0, 28)))
            total = yuan_fen(rng, extra / n, 0.2)
            order_no = ""
            if rng.random() < 0.5:
                order_no = numbers.order(world, buyer, day - timedelta(days=2))
                orders.append({"no": order_no, "date": day - timedelta(days=2),
                               "seller": firm.idx, "buyer": buyer, "total": total})
            inv = make_invoice(world, numbers, seller=firm.idx, buyer=buyer, day=day,
                               total=total, order_no=order_no, kind="paper")
            invoices.append(inv)
            plant["invoices"].append(inv["no"])


def _spike(rng, world, numbers, plant, invoices) -> None:
    firm = world.firms[plant["firm"]]
    t_cut = world.cutoff_month
    buyer = _main_buyer(world, firm.idx, prefer_vendor=False)
    lo, hi = world.month_start(t_cut - 12), world.month_start(t_cut - 1)
    usual = sum(inv["total"] for inv in invoices
                if inv["seller"] == firm.idx and lo <= inv["date"] < hi) / 11
    usual = max(usual, firm.size * 0.5)
    plant.update(buyer=buyer, months=[], invoices=[])
    for t in (t_cut - 1, t_cut):
        factor = float(rng.uniform(3.0, 5.0))
        n = int(rng.integers(3, 8))
        plant["months"].append(str(world.month_start(t))[:7])
        for _ in range(n):
            day = world.month_start(t) + timedelta(days=int(rng.integers(0, 28)))
            order_no = ""
            if rng.random() < 0.3:
                order_no = numbers.order(world, buyer, day)
            inv = make_invoice(world, numbers, seller=firm.idx, buyer=buyer, day=day,
                               total=yuan_fen(rng, usual * factor / n, 0.2),
                               order_no=order_no, kind="spike")
            invoices.append(inv)
            plant["invoices"].append(inv["no"])


def truth(world: World) -> dict:
    """Plants with firms named by USCC, for truth.json."""
    def u(idx: int) -> str:
        return world.firms[idx].uscc

    out: dict[str, list] = {}
    for kind, items in world.plants.items():
        rows = []
        for item in items:
            row = dict(item)
            for key in ("firms",):
                if key in row:
                    row[key] = [u(i) for i in row[key]]
            for key in ("firm", "seller", "buyer"):
                if key in row:
                    row[key] = u(row[key])
            rows.append(row)
        out[kind] = rows
    return out

