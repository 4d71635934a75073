"""Orders, invoices, payments and the anchors' confirmation ledger of the hidden world.

Amounts are integer fen throughout; an invoice's total (价税合计) is what the buyer owes
and what orders and payments refer to.  Mechanics, all driven by latent health:

* Buyers call off on a schedule: k = round(freq x weight) orders a month, each kept with
  probability sigmoid(2.5 + 2 h_driver), each sized by exp(h_seller (+ 0.3 h_buyer for a
  vendor buyer)) x season x lognormal(0.25 for anchors, 0.3 otherwise); the driver is the
  seller, except on distribution edges (anchor -> distributor) where the distributor's own
  health sets its purchases.
* About 8% of orders are invoiced in two parts, 3% never; 7% of invoices omit the order
  number, and small spot sales (no order at all) come on top.  Some sellers invoice a
  month's orders at the month end.
* Anchors pay at month ends, in one payment per supplier for everything due (term 60/90
  days), sometimes a month late, and deduct a few percent for quality more often from
  unhealthy suppliers.  Other buyers pay one to three invoices at a time, later and more
  often in parts the worse their health.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from tests.outside.world import World, sigmoid


class Numbers:
    """Unique invoice and order numbers in the styles a park really mixes."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()
        self.next: dict[int, int] = {}
        self.orders: dict[tuple[int, str], int] = {}

    def invoice(self, world: World, seller: int, day: date) -> str:
        firm = world.firms[seller]
        while True:
            if firm.long_invoice_no:  # 数电票: 2-digit year, province 32, 16 digits
                tail = "".join(str(d) for d in self.rng.integers(10, size=16))
                number = f"{day.year % 100:02d}32{tail}"
            else:
                n = self.next.get(seller)
                if n is None:
                    n = int(self.rng.integers(0, 99_000_000))
                n += int(self.rng.integers(1, 4))
                self.next[seller] = n
                number = f"{n % 100_000_000:08d}"
            if number not in self.used:
                self.used.add(number)
                return number

    def order(self, world: World, buyer: int, day: date) -> str:
        firm = world.firms[buyer]
        stamp = day.strftime("%Y%m%d") if firm.role != "anchor" else day.strftime("%Y%m")
        key = (buyer, stamp)
        seq = self.orders.get(key, 0) + 1
        self.orders[key] = seq
        if firm.role == "anchor":
            return f"PO-{firm.idx + 1:02d}-{stamp}-{seq:05d}"
        return f"CG{stamp}{buyer:04d}{seq:02d}"


def yuan_fen(rng, scale_fen: float, sigma: float = 0.35) -> int:
    return max(100, int(round(scale_fen * float(np.exp(rng.normal(-sigma * sigma / 2, sigma))))))


def make_invoice(world, numbers, *, seller, buyer, day, total, order_no, kind):
    return {"no": numbers.invoice(world, seller, day), "date": day, "seller": seller,
            "buyer": buyer, "total": int(total), "order_no": order_no, "kind": kind}


def normal_trade(rng, world: World, numbers: Numbers) -> tuple[list, list]:
    """Orders and invoices of the ordinary supply and distribution edges."""
    orders, invoices = [], []
    end = world.export_end
    h = world.health
    for edge in world.edges:
        seller, buyer = world.firms[edge.seller], world.firms[edge.buyer]
        driver = buyer if edge.kind == "distribution" else seller
        s = world.sector_index(seller)  # the season of the goods sold
        first = max(edge.start, seller.entry, buyer.entry)
        for t in range(first, edge.end + 1):
            if edge.kind == "distribution":
                act = np.exp(1.0 * h[buyer.idx, t])
            else:
                act = np.exp(1.0 * h[seller.idx, t]
                             + (0.3 * h[buyer.idx, t] if buyer.role != "anchor" else 0.0))
            m0 = world.month_start(t)
            # buyers call off on a schedule; demand and health set the size, and an
            # unhealthy driver misses some call-offs
            k = max(1, round(driver.freq * edge.weight))
            n = int(rng.binomial(k, float(sigmoid(2.5 + 2 * h[driver.idx, t]))))
            scale = driver.size * edge.weight / k * act * world.season[s, t]
            sigma = 0.25 if buyer.role == "anchor" else 0.3
            for _ in range(n):
                day = m0 + timedelta(days=int(rng.integers(0, 28)))
                total = yuan_fen(rng, scale, sigma)
                order_no = numbers.order(world, buyer.idx, day)
                orders.append({"no": order_no, "date": day, "seller": seller.idx,
                               "buyer": buyer.idx, "total": total})
                r = rng.random()
                if r < 0.03:
                    continue  # cancelled or still open: never invoiced
                parts = [total]
                if r < 0.11:
                    first_part = int(total * rng.uniform(0.4, 0.6))
                    parts = [first_part, total - first_part]
                inv_day = day
                for part in parts:
                    inv_day = inv_day + timedelta(days=int(rng.integers(3, 26)))
                    if seller.statement_invoicing:
                        inv_day = world.month_end(world.month_of(inv_day))
                    if inv_day > end:
                        break
                    ref = order_no if rng.random() > 0.07 else ""
                    invoices.append(make_invoice(world, numbers, seller=seller.idx,
                                                 buyer=buyer.idx, day=inv_day, total=part,
                                                 order_no=ref, kind="normal"))
            if rng.random() < 0.05 * act:  # a small spot sale with no order behind it
                day = m0 + timedelta(days=int(rng.integers(0, 28)))
                invoices.append(make_invoice(world, numbers, seller=seller.idx,
                                             buyer=buyer.idx, day=day,
                                             total=yuan_fen(rng, scale * 0.3), order_no="",
                                             kind="normal"))
    return orders, invoices


def _memo(rng, group: list[dict], day: date) -> str:
    r = rng.random()
    if r < 0.45:
        return "付发票" + "/".join(inv["no"] for inv in group) + "货款"
    if r < 0.75:
        return f"{day.month}月货款"
    return ("货款", "采购款", "往来款", "")[int(rng.integers(4))]


def payments(rng, world: World, invoices: list[dict]) -> list[dict]:
    """Bank payments for ordinary, paper and spike invoices (ring legs pay themselves)."""
    end = world.export_end
    by_pair: dict[tuple[int, int], list[dict]] = {}
    for inv in invoices:
        if inv["kind"] in ("normal", "paper", "spike"):
            by_pair.setdefault((inv["buyer"], inv["seller"]), []).append(inv)
    out: list[dict] = []
    h = world.health
    for (buyer, seller), group in sorted(by_pair.items()):
        group.sort(key=lambda inv: (inv["date"], inv["no"]))
        if world.firms[buyer].role == "anchor":
            _anchor_pays(rng, world, buyer, seller, group, out)
            continue
        i = 0
        while i < len(group):
            size = 1 if rng.random() < 0.7 else int(rng.integers(2, 4))
            chunk = [inv for inv in group[i:i + size]]
            i += size
            chunk = [inv for inv in chunk if inv["kind"] != "spike" or rng.random() < 0.3]
            if not chunk:
                continue
            last = max(inv["date"] for inv in chunk)
            # how late depends on the buyer's health when the money falls due
            t = min(world.month_of(last + timedelta(days=30)), world.months - 1)
            hb = float(h[buyer, t])
            if chunk[0]["kind"] == "paper":
                delay = int(rng.integers(20, 41))
            else:
                mean = 2 + 60 * float(sigmoid(-2.5 * hb - 1.0))
                delay = 30 + int(rng.gamma(4.0, mean / 4))
            day = last + timedelta(days=delay)
            total = sum(inv["total"] for inv in chunk)
            if rng.random() < 0.12 + 0.3 * float(sigmoid(-2 * hb)):
                first = int(total * rng.uniform(0.3, 0.7))
                _pay(out, rng, world, buyer, seller, day, first, chunk, end)
                if hb > -1.2 or rng.random() < 0.5:
                    later = day + timedelta(days=int(rng.integers(15, 61)))
                    _pay(out, rng, world, buyer, seller, later, total - first, chunk, end)
            else:
                _pay(out, rng, world, buyer, seller, day, total, chunk, end)
    return out


def _anchor_pays(rng, world, anchor, seller, group, out) -> None:
    term = world.firms[anchor].sector.anchor_term_days
    end = world.export_end
    pending = [inv for inv in group if inv["kind"] != "spike" and inv["kind"] != "paper"]
    t = world.month_of(pending[0]["date"]) if pending else world.months
    while pending and t < world.months:
        me = world.month_end(t)
        due = [inv for inv in pending if inv["date"] + timedelta(days=term) <= me]
        t += 1
        if not due or rng.random() < 0.08:  # nothing due, or paid a month late
            continue
        pending = [inv for inv in pending if inv not in due]
        total = sum(inv["total"] for inv in due)
        hs = float(world.health[seller, min(world.month_of(me), world.months - 1)])
        if rng.random() < 0.04 + 0.25 * float(sigmoid(-2 * hs - 1)):
            total = int(total * rng.uniform(0.90, 0.98))  # quality deduction, never paid
        _pay(out, rng, world, anchor, seller, me, total, due, end)


def _pay(out, rng, world, payer, payee, day, amount, group, end) -> None:
    if day > end or amount <= 0:
        return
    out.append({"date": day, "payer": payer, "payee": payee, "amount": int(amount),
                "memo": _memo(rng, group, day), "invoices": [inv["no"] for inv in group]})


def confirmations(rng, world: World, invoices: list[dict]) -> list[dict]:
    """The anchors' ledger of 确权: one row per supplier invoice it holds."""
    end = world.export_end
    rows = []
    for inv in invoices:
        if world.firms[inv["buyer"]].role != "anchor" or rng.random() < 0.03:
            continue  # 3% of invoices never reached the anchor's ledger
        t = min(world.month_of(inv["date"]), world.months - 1)
        hs = float(world.health[inv["seller"], t])
        day = inv["date"] + timedelta(days=int(rng.integers(2, 21)))
        if inv["kind"] in ("duplicate", "spike", "paper"):
            status = "已拒绝" if rng.random() < 0.4 else "待确权"
        elif day > end:
            status = "待确权"
        elif rng.random() < 0.02 + 0.10 * float(sigmoid(-2 * hs - 1)):
            status = "已拒绝"
        else:
            status = "已确权"
        rows.append({"invoice": inv, "status": status,
                     "date": day if status != "待确权" else None})
    return rows
