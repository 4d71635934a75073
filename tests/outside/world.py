"""The hidden world behind the park export: firms, supply edges and latent health.

Every firm carries a latent monthly health ``h`` that nobody exports:

    h[i, t] = mu_i + x[i, t] + g[sector_i, t] + d[i, t]
    x[i, t] = 0.8 x[i, t-1] + N(0, 0.22)          firm AR(1)
    g[s, t] = 0.75 g[s, t-1] + N(0, 0.07)         sector shock (plus a downturn for autos)
    d[i, t]                                       distress or recovery episodes (drifts)

Health drives every observable trace: order volumes (and, through a buyer's health, its
suppliers' volumes), how late a firm pays, the anchor's quality deductions and
rejections, power use and insured headcount. Sectors have seasons (small appliances peak
in spring, apparel in autumn); some suppliers switch from one anchor to another.

Default on a loan taken at the end of month t is a latent-variable logit in
``z(i, t) = -2.6 hbar3 + 3.5 max(0, hbar_prev - hbar3) + 3.0 (conc - 0.6) + 0.6 young
(+ 0.8 if planted fraud)``
(hbar3: mean health of the last 3 months, hbar_prev: months t-8..t-5 (a decline adds
risk, a recovery only through the level), conc: share of
sales to the largest buyer), with logistic noise; see ``loans.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from tests.outside import identity


@dataclass(frozen=True)
class Sector:
    code: str
    industry: str  # word used in firm names
    label: str  # 行业 column of the firm list
    peak_month: int  # calendar month of the seasonal peak (1-12), 0 = none
    amplitude: float
    anchor_term_days: int  # payment term the sector's anchor grants
    yuan_per_kwh: float  # sales per kWh of power in the sector


SECTORS = (
    Sector("electronics", "电子", "计算机、通信和其他电子设备制造业", 0, 0.0, 60, 9.0),
    Sector("appliance", "电器", "电气机械和器材制造业", 5, 0.45, 60, 7.0),
    Sector("apparel", "服饰", "纺织服装、服饰业", 9, 0.40, 90, 14.0),
    Sector("auto", "汽配", "汽车制造业", 0, 0.05, 90, 6.0),
)
SUFFIX = {"supplier": ("科技有限公司", "制造有限公司", "精密机械有限公司", "材料有限公司",
                       "实业有限公司"),
          "distributor": ("贸易有限公司", "商贸有限公司", "供应链管理有限公司")}
ANCHORS = (("electronics", "苏州华芯电子集团股份有限公司"),
           ("electronics", "昆山立达光电科技股份有限公司"),
           ("appliance", "苏州美凌电器股份有限公司"),
           ("apparel", "江苏锦华服饰集团有限公司"),
           ("auto", "苏州恒驰汽车部件股份有限公司"))


@dataclass
class Firm:
    idx: int
    role: str  # anchor | supplier | distributor
    sector: Sector
    tier: int | None
    entry: int  # first month index with activity
    size: float  # expected monthly sales, fen
    freq: float  # expected orders a month on a full-weight edge
    uscc: str = ""
    name: str = ""
    legal_rep: str = ""
    phone: str = ""
    address: str = ""
    bank: str = ""
    bank_account: str = ""
    founded: date = date(2010, 1, 1)
    capital_wan: int = 100
    statement_invoicing: bool = False  # invoices at month end for the month's orders
    long_invoice_no: bool = False  # 20-digit 数电票 numbers instead of 8-digit
    ext_share: float = 0.3  # sales outside the park, share of park sales (tax)
    has_power: bool = False
    has_headcount: bool = False
    tax_style: str = "none"  # quarterly | annual | none
    switched: bool = False
    fraud: str = "none"


@dataclass
class Edge:
    seller: int
    buyer: int
    start: int
    end: int  # last active month index (inclusive)
    weight: float
    kind: str = "supply"  # supply | distribution | ring


@dataclass
class World:
    seed: int
    start: date  # first day of month 0
    cutoff_month: int  # index T of the cut-off month
    months: int  # total simulated months (T + 1 + after)
    firms: list[Firm]
    edges: list[Edge]
    health: np.ndarray  # (firms, months)
    season: np.ndarray  # (sectors, months) multiplicative factor
    plants: dict = field(default_factory=dict)

    def month_start(self, t: int) -> date:
        y, m = divmod(self.start.month - 1 + t, 12)
        return date(self.start.year + y, m + 1, 1)

    def month_end(self, t: int) -> date:
        return self.month_start(t + 1) - timedelta(days=1)

    def month_of(self, day: date) -> int:
        return (day.year - self.start.year) * 12 + day.month - self.start.month

    @property
    def cutoff(self) -> date:
        return self.month_end(self.cutoff_month)

    @property
    def export_end(self) -> date:
        return self.month_end(self.months - 1)

    def sector_index(self, firm: Firm) -> int:
        return SECTORS.index(firm.sector)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def build(rng: np.random.Generator, *, seed: int, vendors: int, cutoff: date,
          history_months: int, after_months: int) -> World:
    """Firms, identities, edges and latent health; trade comes later."""
    t_cut = history_months - 1
    months = history_months + after_months
    y, m = divmod(cutoff.month - 1 - t_cut, 12)
    start = date(cutoff.year + y, m + 1, 1)
    firms = _make_firms(rng, vendors, t_cut)
    _give_identities(rng, firms, start)
    edges = _make_edges(rng, firms, t_cut, months)
    world = World(seed, start, t_cut, months, firms, edges,
                  np.zeros((len(firms), months)), np.ones((len(SECTORS), months)))
    world.season = _seasons(world)
    world.health = _health(rng, world)
    return world


def _make_firms(rng, vendors: int, t_cut: int) -> list[Firm]:
    firms: list[Firm] = []
    for code, _name in ANCHORS:
        sector = next(s for s in SECTORS if s.code == code)
        firms.append(Firm(len(firms), "anchor", sector, 0, 0, 0.0, 0.0))
    n1 = round(vendors * 0.62)
    n2 = round(vendors * 0.26)
    sector_weights = np.array([0.34, 0.24, 0.22, 0.20])
    for k in range(vendors):
        role, tier = ("supplier", 1) if k < n1 else (("supplier", 2) if k < n1 + n2
                                                     else ("distributor", None))
        sector = SECTORS[int(rng.choice(len(SECTORS), p=sector_weights))]
        young = rng.random() < 0.12
        entry = int(rng.integers(6, t_cut - 3)) if young else int(rng.integers(0, 3))
        size = float(np.exp(rng.normal(math.log(250_000), 0.8))) * 100  # fen a month
        firm = Firm(len(firms), role, sector, tier, entry, size, float(rng.uniform(1.5, 4.0)))
        firm.statement_invoicing = bool(rng.random() < 0.3)
        firm.long_invoice_no = bool(rng.random() < 0.4)
        firm.ext_share = float(rng.uniform(0.05, 0.8))
        firm.has_power = bool(rng.random() < 0.7)
        firm.has_headcount = bool(rng.random() < 0.6)
        firm.tax_style = str(rng.choice(["quarterly", "annual", "none"], p=[0.55, 0.2, 0.25]))
        firms.append(firm)
    return firms


def _give_identities(rng, firms: list[Firm], start: date) -> None:
    used: dict[str, set[str]] = {k: set() for k in ("uscc", "name", "person", "phone",
                                                    "address", "account")}
    for firm in firms:
        firm.uscc = identity.make_uscc(rng, used["uscc"])
        if firm.role == "anchor":
            firm.name = ANCHORS[firm.idx][1]
            used["name"].add(firm.name)
            firm.capital_wan = int(rng.integers(20_000, 200_000))
            founded_year = int(rng.integers(1995, 2008))
        else:
            suffixes = SUFFIX[firm.role]
            suffix = suffixes[int(rng.integers(len(suffixes)))]
            firm.name = identity.firm_name(rng, firm.sector.industry, suffix, used["name"])
            firm.capital_wan = int(rng.choice([10, 50, 100, 200, 300, 500, 1000]))
            founded_year = int(rng.integers(2005, start.year + 1))
        firm.founded = date(founded_year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        if firm.role != "anchor" and firm.entry > 3:  # a young firm was founded lately
            month0 = start.month - 1 + firm.entry - int(rng.integers(1, 6))
            firm.founded = date(start.year + month0 // 12, month0 % 12 + 1,
                                int(rng.integers(1, 29)))
        firm.legal_rep = identity.person(rng, used["person"])
        firm.phone = identity.phone(rng, used["phone"])
        firm.address = identity.address(rng, used["address"])
        firm.bank, firm.bank_account = identity.bank_account(rng, used["account"])


def _make_edges(rng, firms: list[Firm], t_cut: int, months: int) -> list[Edge]:
    anchors = [f for f in firms if f.role == "anchor"]
    tier1 = [f for f in firms if f.tier == 1]
    edges: list[Edge] = []
    last = months - 1
    for firm in firms:
        same = [a for a in anchors if a.sector is firm.sector]
        others = [a for a in anchors if a.sector is not firm.sector]
        if firm.tier == 1:
            primary = same[int(rng.integers(len(same)))]
            second = None
            if rng.random() < 0.4:
                pool = [a for a in same if a is not primary] or others
                second = pool[int(rng.integers(len(pool)))]
            w1 = 1.0 if second is None else float(rng.uniform(0.55, 0.85))
            if rng.random() < 0.09 and firm.entry < t_cut - 12:  # switches anchor
                pool = [a for a in same if a is not primary and a is not second] or others
                new = pool[int(rng.integers(len(pool)))]
                k = int(rng.integers(firm.entry + 6, t_cut - 3))
                edges.append(Edge(firm.idx, primary.idx, firm.entry, k, w1))
                edges.append(Edge(firm.idx, new.idx, k + 1 - int(rng.integers(0, 2)), last, w1))
                firm.switched = True
            else:
                edges.append(Edge(firm.idx, primary.idx, firm.entry, last, w1))
            if second is not None:
                edges.append(Edge(firm.idx, second.idx, firm.entry, last, 1.0 - w1))
        elif firm.tier == 2:
            pool = [f for f in tier1 if f.sector is firm.sector] or tier1
            n_buyers = 1 if rng.random() < 0.6 else 2
            picks = rng.choice(len(pool), size=n_buyers, replace=False)
            weights = rng.dirichlet(np.full(n_buyers, 2.0))
            for j, w in zip(picks, weights, strict=True):
                buyer = pool[int(j)]
                edges.append(Edge(firm.idx, buyer.idx, max(firm.entry, buyer.entry), last,
                                  float(w)))
        elif firm.role == "distributor":
            primary = same[int(rng.integers(len(same)))]
            edges.append(Edge(primary.idx, firm.idx, firm.entry, last, 1.0, "distribution"))
            if rng.random() < 0.3:
                pool = [a for a in anchors if a is not primary]
                other = pool[int(rng.integers(len(pool)))]
                edges[-1].weight = 0.7
                edges.append(Edge(other.idx, firm.idx, firm.entry, last, 0.3, "distribution"))
    return edges


def _seasons(world: World) -> np.ndarray:
    season = np.ones((len(SECTORS), world.months))
    for s, sector in enumerate(SECTORS):
        if not sector.peak_month:
            continue
        for t in range(world.months):
            month = world.month_start(t).month
            season[s, t] = 1 + sector.amplitude * math.cos(2 * math.pi *
                                                            (month - sector.peak_month) / 12)
    return season


def _health(rng, world: World) -> np.ndarray:
    n, months, t_cut = len(world.firms), world.months, world.cutoff_month
    sector_of = np.array([world.sector_index(f) for f in world.firms])
    g = np.zeros((len(SECTORS), months))
    for t in range(1, months):
        g[:, t] = 0.75 * g[:, t - 1] + rng.normal(0, 0.07, len(SECTORS))
    auto = [s.code for s in SECTORS].index("auto")
    downturn = t_cut - 8  # the auto sector turns down eight months before the cut-off
    for t in range(downturn, months):
        g[auto, t] -= 0.35 * min(1.0, (t - downturn) / 6)
    mu = rng.normal(0, 0.25, n)
    x = np.zeros((n, months))
    x[:, 0] = rng.normal(0, 0.3, n)
    for t in range(1, months):
        x[:, t] = 0.8 * x[:, t - 1] + rng.normal(0, 0.22, n)
    d = np.zeros((n, months))
    for i, firm in enumerate(world.firms):
        if firm.role == "anchor":
            mu[i], x[i] = 0.5, 0.3 * x[i]
            continue
        r = rng.random()
        if r < 0.52:  # an episode: mostly distress, sometimes recovery
            sign = -1.0 if r < 0.40 else 1.0
            s0 = int(rng.integers(max(3, firm.entry), t_cut + 1))
            length = int(rng.integers(3, 13))
            slope = sign * float(rng.uniform(0.05, 0.14))
            level = 0.0
            for t in range(s0, months):
                level = level + slope if t < s0 + length else level * 0.85
                d[i, t] = level
    return mu[:, None] + x + g[sector_of] + d


def concentration(world: World, firm: Firm, t: int) -> float:
    """Share of the firm's expected sales going to its largest buyer in month t."""
    if firm.role == "distributor":
        n = sum(1 for e in world.edges if e.buyer == firm.idx and e.start <= t <= e.end)
        return 0.8 if n <= 1 else 0.5
    weights = [e.weight for e in world.edges
               if e.seller == firm.idx and e.start <= t <= e.end and e.kind == "supply"]
    total = sum(weights)
    return max(weights) / total if total > 0 else 1.0


def risk_index(world: World, firm: Firm, t: int) -> float:
    """The latent default driver z(i, t) for a loan taken at the end of month t."""
    h = world.health[firm.idx]
    lo = max(firm.entry, t - 2)
    hbar = float(h[lo:t + 1].mean())
    p0, p1 = max(firm.entry, t - 8), max(firm.entry, t - 5)
    hprev = float(h[p0:p1 + 1].mean()) if p1 <= t else hbar
    young = 1.0 if t - firm.entry < 12 else 0.0
    fraud = 0.8 if firm.fraud != "none" else 0.0
    return (-2.6 * hbar + 3.5 * max(0.0, hprev - hbar)
            + 3.0 * (concentration(world, firm, t) - 0.6)
            + 0.6 * young + fraud)


sigmoid = _sigmoid
