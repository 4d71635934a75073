"""The cluster's structure: anchors, vendors by tier and chain, and the supply edges.

A vendor's *chain* is the industry of the anchor its goods finally reach (manufacturing,
construction or wholesale/retail). Tier-1 vendors sell to an anchor, tier-2 to tier-1
vendors of the same chain, tier-3 to tier-2; distributors (tier -1) buy from an anchor.
So the planted tier is exactly the firm's distance to the nearest anchor.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from trellis.demo.identity import ANCHOR_DIVISIONS, ANCHORS, DIVISIONS, Identities

CHAIN_WEIGHTS = (("manufacturing", 45), ("construction", 30), ("wholesale_retail", 25))
TIER_SHARES = ((1, 0.35), (2, 0.30), (3, 0.15))  # the rest are distributors (tier -1)
MICRO_SHARE = {1: 0.05, 2: 0.15, 3: 0.5, -1: 0.2}
# Median monthly sales along one supply edge, in yuan, and orders a month.
EDGE_VOLUME_YUAN = {1: 400_000, 2: 120_000, 3: 40_000, -1: 250_000}
EDGE_ORDERS = {1: 4.0, 2: 2.5, 3: 1.5, -1: 3.0}
YOUNG_SHARE = 0.12


@dataclass
class SimFirm:
    uscc: str
    name: str
    role: str
    industry: str
    chain: str
    tier: int
    region: str
    division: tuple
    phone: str
    legal_rep: str
    address: str
    bank_account: str
    founded_on: date
    micro: bool
    health: float  # 0 (fragile) .. 1 (sound)
    growth: float  # monthly log growth of sales
    default_on: date | None = None
    decline_from: date | None = None
    industry_code: str | None = None  # GB/T 4754 division (trellis.trade.industries)

    def row(self) -> dict:
        """The firm as a row of the firms import (tax fields empty: they come with the books)."""
        return {"uscc": self.uscc, "name": self.name, "role": self.role,
                "industry": self.industry, "industry_code": self.industry_code,
                "region": self.region, "phone": self.phone,
                "legal_rep": self.legal_rep, "address": self.address,
                "bank_account": self.bank_account, "founded_on": self.founded_on,
                "tax_vat_sales_fen": None, "tax_paid_fen": None, "tax_period": None}


@dataclass
class SimEdge:
    supplier: SimFirm
    buyer: SimFirm
    since: date
    terms: int
    monthly_volume: float  # a simulation parameter (fen, median a month); booked rows are int fen
    orders: float  # mean orders a month
    kind: str = "trade"  # or "ring"
    noise: list[float] = field(default_factory=list)


@dataclass
class Structure:
    anchors: dict[str, SimFirm]  # chain industry -> anchor
    vendors: list[SimFirm]
    edges: list[SimEdge]

    @property
    def firms(self) -> list[SimFirm]:
        """Every simulated firm, anchors first."""
        return list(self.anchors.values()) + self.vendors


def build(rng: random.Random, ids: Identities, n_vendors: int, start: date,
          end: date) -> Structure:
    """Draw the firms and supply edges of the cluster."""
    anchors = {}
    for industry, name in ANCHORS:
        division = DIVISIONS[0]  # the anchors sit in the park itself
        founded = date(rng.randint(1996, 2008), rng.randint(1, 12), rng.randint(1, 28))
        anchors[industry] = SimFirm(
            uscc=ids.uscc(division[0], founded, micro=False), name=name, role="anchor",
            industry=industry, chain=industry, tier=0, region=division[1], division=division,
            phone=ids.phone(), legal_rep=ids.person(), address=ids.address(division),
            bank_account=ids.bank_account(), founded_on=founded, micro=False, health=0.95,
            growth=0.003, industry_code=ANCHOR_DIVISIONS[industry])
    counts = {tier: round(n_vendors * share) for tier, share in TIER_SHARES}
    counts[-1] = n_vendors - sum(counts.values())
    young = set(rng.sample(range(n_vendors), round(n_vendors * YOUNG_SHARE)))
    vendors: list[SimFirm] = []
    for tier in (1, 2, 3, -1):
        for _ in range(counts[tier]):
            vendors.append(_vendor(rng, ids, tier, start, end, len(vendors) in young))
    edges = _edges(rng, anchors, vendors, start, end)
    return Structure(anchors=anchors, vendors=vendors, edges=edges)


def _vendor(rng: random.Random, ids: Identities, tier: int, start: date, end: date,
            young: bool) -> SimFirm:
    if tier == -1:
        chain = "manufacturing" if rng.random() < 0.35 else "wholesale_retail"
        industry = "wholesale_retail"
    else:
        chain = rng.choices([c for c, _ in CHAIN_WEIGHTS], [w for _, w in CHAIN_WEIGHTS])[0]
        industry = chain
        if tier == 1 and rng.random() < 0.1:
            industry = "transport_logistics"
    micro = rng.random() < MICRO_SHARE[tier]
    division = ids.division()
    if young:
        founded = end - timedelta(days=rng.randint(240, 720))
    else:
        latest = start - timedelta(days=400)
        founded = date(rng.randint(2004, latest.year), rng.randint(1, 12), rng.randint(1, 28))
        founded = min(founded, latest)
    name_industry = chain if industry != "transport_logistics" else industry
    name_tier = tier if tier != -1 or chain == "wholesale_retail" else -1
    name = ids.firm_name(name_industry if tier != -1 else chain, name_tier, micro)
    health = rng.betavariate(5, 2)
    return SimFirm(
        uscc=ids.uscc(division[0], founded, micro), name=name, role="vendor",
        industry=industry, chain=chain, tier=tier, region=division[1], division=division,
        phone=ids.phone(), legal_rep=ids.person(), address=ids.address(division),
        bank_account=ids.bank_account(), founded_on=founded, micro=micro, health=health,
        growth=rng.gauss(0.006, 0.012) + 0.01 * (health - 0.7),
        industry_code=ids.industry_code(name, industry))


def _edges(rng: random.Random, anchors: dict[str, SimFirm], vendors: list[SimFirm],
           start: date, end: date) -> list[SimEdge]:
    by_tier_chain: dict[tuple[int, str], list[SimFirm]] = {}
    for v in vendors:
        by_tier_chain.setdefault((v.tier, v.chain), []).append(v)
    edges: list[SimEdge] = []
    seen: set[tuple[str, str]] = set()

    def add(supplier: SimFirm, buyer: SimFirm, tier: int) -> None:
        key = (supplier.uscc, buyer.uscc)
        if key in seen or supplier is buyer:
            return
        seen.add(key)
        edges.append(_edge(rng, supplier, buyer, tier, start, end))

    for v in vendors:
        if v.tier == 1:
            add(v, anchors[v.chain], 1)
            if rng.random() < 0.15:
                other = rng.choice([a for c, a in sorted(anchors.items()) if c != v.chain])
                add(v, other, 1)
        elif v.tier in (2, 3):
            pool = by_tier_chain.get((v.tier - 1, v.chain)) or [
                f for f in vendors if f.tier == v.tier - 1]
            for buyer in rng.sample(pool, min(len(pool), 2 if rng.random() < 0.3 else 1)):
                add(v, buyer, v.tier)
        else:
            add(anchors[v.chain], v, -1)
            if rng.random() < 0.15:
                other_chain = ("wholesale_retail" if v.chain == "manufacturing"
                               else "manufacturing")
                add(anchors[other_chain], v, -1)
    return edges


def _edge(rng: random.Random, supplier: SimFirm, buyer: SimFirm, tier: int, start: date,
          end: date) -> SimEdge:
    youngest = max(supplier.founded_on, buyer.founded_on)
    if youngest > start - timedelta(days=90):
        since = youngest + timedelta(days=rng.randint(20, 90))
    elif rng.random() < 0.06:  # a relationship that began inside the window
        since = start + timedelta(days=rng.randint(30, max(31, (end - start).days // 2)))
    else:
        span = max(1, (start - youngest).days - 60)
        since = youngest + timedelta(days=60 + rng.randint(0, span))
    since = min(since, end - timedelta(days=45))
    if buyer.role == "anchor":
        terms = rng.choice({"manufacturing": (60, 60, 90), "construction": (90, 120, 180),
                            "wholesale_retail": (45, 60, 60)}[buyer.industry])
    elif supplier.role == "anchor":
        terms = rng.choice((15, 30, 30, 45))
    else:
        terms = rng.choice((30, 30, 45, 60))
    scale = 0.5 if supplier.industry == "transport_logistics" else 1.0
    volume = EDGE_VOLUME_YUAN[tier] * 100 * scale * math.exp(min(1.4, rng.gauss(0, 0.7)))
    if supplier.micro:
        volume *= 0.5
    if since > start:  # new firms and new customers start small
        volume *= 0.5
    return SimEdge(supplier=supplier, buyer=buyer, since=since, terms=terms,
                   monthly_volume=volume, orders=EDGE_ORDERS[tier] * rng.uniform(0.7, 1.3))
