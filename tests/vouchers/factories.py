"""Plain helpers that build a small supply chain for the journey tests (vouchers,
protection, anchor and vendor areas import them; each area's conftest wraps them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from trellis import clock
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder, Relationship


@dataclass
class Chain:
    """anchor <- tier1 <- tier2 <- tier3 (goods flow right to left), plus an outsider."""

    anchor: Firm
    tier1: Firm
    tier2: Firm
    tier3: Firm
    outsider: Firm


def supply_chain(session, make_firm, make_cluster) -> Chain:
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id, name="江北制造集团")
    tier1 = make_firm(cluster_id=cluster.id, name="一级供应商", founded_on=date(2015, 3, 1))
    tier2 = make_firm(cluster_id=cluster.id, name="二级供应商")
    tier3 = make_firm(cluster_id=cluster.id, name="三级供应商")
    outsider = make_firm(cluster_id=cluster.id, name="无关企业")
    for supplier, buyer in ((tier1, anchor), (tier2, tier1), (tier3, tier2)):
        session.add(Relationship(supplier_id=supplier.id, buyer_id=buyer.id,
                                 since=date(2020, 1, 1)))
    session.flush()
    return Chain(anchor, tier1, tier2, tier3, outsider)


_numbers = iter(range(1, 10**9))


def invoice(session, seller: Firm, buyer: Firm, amount_fen: int = 1_000_000, *,
            status: str = DocStatus.CONFIRMED, issue_date: date | None = None,
            terms_days: int = 60, number: str | None = None) -> Invoice:
    issue_date = issue_date or clock.today() - timedelta(days=10)
    inv = Invoice(seller_id=seller.id, buyer_id=buyer.id,
                  number=number or f"INV-{next(_numbers):06d}", amount_fen=amount_fen,
                  issue_date=issue_date, due_date=issue_date + timedelta(days=terms_days),
                  status=status)
    session.add(inv)
    session.flush()
    return inv


def order(session, seller: Firm, buyer: Firm, amount_fen: int = 500_000, *,
          status: str = DocStatus.PENDING, number: str | None = None) -> PurchaseOrder:
    po = PurchaseOrder(buyer_id=buyer.id, seller_id=seller.id,
                       number=number or f"PO-{next(_numbers):06d}", amount_fen=amount_fen,
                       order_date=clock.today() - timedelta(days=20), status=status)
    session.add(po)
    session.flush()
    return po
