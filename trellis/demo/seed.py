"""The demo seed: the Jiangbei park cluster and one login per role.

``seed_demo`` is idempotent: when the cluster is already there it only returns the logins
(creating any demo user that is missing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from trellis.accounts import services as accounts
from trellis.accounts.models import User
from trellis.db import id_of
from trellis.demo.data import ClusterData
from trellis.demo.loader import load
from trellis.demo.simulator import simulate
from trellis.protection import payout
from trellis.protection.models import PayoutAccount
from trellis.trade.models import Cluster, ClusterManager, Firm, Relationship

logger = logging.getLogger(__name__)

CLUSTER_CODE = "jiangbei-park"
CLUSTER_NAME = "江北智能制造产业园"
PASSWORD = "trellis-demo-2026"
DOMAIN = "trellis.demo"


@dataclass
class DemoSeed:
    """What ``seed_demo`` did. ``logins``: (role, email, password, firm name or "")."""

    cluster_id: int
    created: bool
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def seed_demo(*, session: Session, n_vendors: int = 300, seed: int = 7,
              end: date | None = None) -> DemoSeed:
    """Load the demo cluster (unless it exists) and create the demo users; flush only."""
    cluster = session.exec(select(Cluster).where(Cluster.code == CLUSTER_CODE)).first()
    counts: dict[str, int] = {}
    created = cluster is None
    if cluster is None:
        data, candidates = _simulate_with_demo_firms(n_vendors=n_vendors, seed=seed, end=end)
        counts = load(session=session, data=data, cluster_code=CLUSTER_CODE,
                      cluster_name=CLUSTER_NAME)
        cluster = session.exec(select(Cluster).where(Cluster.code == CLUSTER_CODE)).one()
        accounts.grant_consents(session=session, purpose="trade_data", firm_ids=list(
            session.scalars(select(col(Firm.id)).where(Firm.cluster_id == cluster.id))))
        anchor, vendor, vendor2 = _best_rated(session, candidates, as_of=data.end)
    else:
        anchor, vendor, vendor2 = _existing_demo_firms(session)
    give_payout_accounts(session=session, cluster_id=id_of(cluster))
    specs = [
        ("admin", "admin", None, "演示管理员", None),
        # a second administrator: a settlement account change needs one to propose and
        # another to approve (protection.settlement), which the demo can then show
        ("admin", "admin2", None, "演示复核管理员", None),
        ("rm", "rm", None, "客户经理 周敏", None),
        ("auditor", "auditor", None, "审计 吴静", None),
        ("anchor", "anchor", anchor, f"{anchor.legal_rep or ''}（核心企业）", None),
        ("vendor", "vendor", vendor, vendor.legal_rep or "", 1986),
        ("vendor", "vendor2", vendor2, vendor2.legal_rep or "", 1968),
    ]
    logins = []
    shared_hash = None  # one argon2 hash for the one demo password
    for role, local, firm, name, birth_year in specs:
        email = f"{local}@{DOMAIN}"
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            shared_hash = shared_hash or accounts.hash_password(PASSWORD)
            user = accounts.create_user(session=session, email=email, password=PASSWORD,
                                        password_hash=shared_hash,
                                        role=role, firm_id=firm.id if firm else None,
                                        name=name, birth_year=birth_year,
                                        phone=firm.phone if firm else None)
        if role == "rm" and session.get(ClusterManager, (cluster.id, user.id)) is None:
            session.add(ClusterManager(cluster_id=id_of(cluster), user_id=id_of(user)))
            session.flush()
        logins.append((role, email, PASSWORD, firm.name if firm else ""))
    logger.info("demo seed: cluster %s %s", cluster.id, "loaded" if created else "existed")
    return DemoSeed(cluster_id=id_of(cluster), created=created, logins=logins, counts=counts)


#: the banks the demo's vendors hold their payout accounts at (picked by firm id)
DEMO_BANKS = ("招商银行", "中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行")


def give_payout_accounts(*, session: Session, cluster_id: int) -> int:
    """Give every vendor of the demo cluster that never had a payout account one in its
    own name (the account on file, or a made-up number), consented as demo data
    (``source="seed"``), so the demo's loans can be paid out, with the consent to the use
    of its bank account data that a declared account rests on
    (:func:`trellis.protection.bank.declare` requires it): the profile said 未授权 beside
    the account the loan was paid into (reader 13, J10). Returns how many accounts were
    given. Flushes."""
    had = select(col(PayoutAccount.firm_id))
    firms = session.exec(select(Firm).where(Firm.cluster_id == cluster_id,
                                            Firm.role == "vendor",
                                            col(Firm.id).not_in(had))
                         .order_by(col(Firm.id))).all()
    for firm in firms:
        firm_id = id_of(firm)
        number = firm.bank_account or f"6214{firm_id:012d}"
        payout.install(session=session, firm_id=firm_id, source="seed",
                       bank_name=DEMO_BANKS[firm_id % len(DEMO_BANKS)],
                       account_number=number, holder_name=firm.name, consented_by_id=None)
    accounts.grant_consents(session=session, purpose="bank_account",
                            firm_ids=[id_of(f) for f in firms])
    return len(firms)


SEED_TRIES = 20     # parks simulated at most, from the seed asked for, to find demo firms
CANDIDATES = 10     # demo borrowers the card rates, the largest sellers first


def _simulate_with_demo_firms(*, n_vendors: int, seed: int, end: date | None
                              ) -> tuple[ClusterData, list[tuple[str, str, str]]]:
    """The park simulated from *seed* and its demo firm candidates
    (:func:`demo_candidates`). A small park simulated up to some day can have no healthy
    tier-1 vendor with a healthy tier-2 supplier; then the next seed's park is taken, up
    to :data:`SEED_TRIES` seeds, so that the demo (and every test built on it) stands on
    any day. The same seed and day always give the same park."""
    for attempt in range(SEED_TRIES):
        data = simulate(n_vendors=n_vendors, seed=seed + attempt, end=end)
        candidates = demo_candidates(data)
        if candidates:
            if attempt:
                logger.info("demo seed: the park of seed %s has no demo borrower; "
                            "seed %s's is loaded", seed, seed + attempt)
            return data, candidates
    raise LookupError("no healthy tier-1 vendor with a tier-2 supplier in the simulation")


def _best_rated(session: Session, candidates: list[tuple[str, str, str]], *,
                as_of: date) -> tuple[Firm, Firm, Firm]:
    """Of the first :data:`CANDIDATES` candidates, the one whose two vendors the champion
    card rates best (no warning on either first, then the lower of their scores, then the
    tier-1 vendor's; the first candidate when no card can score). Healthy in the
    simulation is not the same as healthy on the meters and books a lender reads (a
    healthy firm's power use is noisy), and the demo's model borrower should be one a
    lender would lend to."""
    from trellis.scoring import service
    from trellis.scoring.errors import ScorecardNotFound, ScoringError

    usccs = {u for c in candidates[:CANDIDATES] for u in c}
    firms = {f.uscc: f for f in session.exec(select(Firm).where(col(Firm.uscc).in_(usccs)))}
    keys: list[tuple[bool, int, int]] = []
    for _, tier1, tier2 in candidates[:CANDIDATES]:
        try:
            r1, r2 = (service.score_firm(session=session, firm_id=id_of(firms[u]),
                                         as_of=as_of, store=False) for u in (tier1, tier2))
        except (ScorecardNotFound, ScoringError):
            break
        s1, s2 = (r.score if r.score is not None else 0 for r in (r1, r2))
        keys.append((not r1.flags and not r2.flags, min(s1, s2), s1))
    best = candidates[max(range(len(keys)), key=lambda i: (keys[i], -i))] if keys \
        else candidates[0]
    anchor, vendor, vendor2 = (firms[u] for u in best)
    return anchor, vendor, vendor2


def pick_demo_firms(data: ClusterData) -> tuple[str, str, str]:
    """The first of :func:`demo_candidates` (LookupError when there is none)."""
    candidates = demo_candidates(data)
    if not candidates:
        raise LookupError("no healthy tier-1 vendor with a tier-2 supplier in the simulation")
    return candidates[0]


def demo_candidates(data: ClusterData) -> list[tuple[str, str, str]]:
    """(anchor, vendor, vendor2) USCCs: the manufacturing anchor, a healthy tier-1
    supplier of it that has a healthy tier-2 supplier, and that tier-2 supplier, the
    tier-1 vendors with the largest sales first. Healthy: in no planted fact."""
    t = data.truth
    planted = set(t.ring) | t.defaulters | set(t.burst) | {
        u for group in (*t.shared_phone, *t.shared_bank_account, *t.shared_address)
        for u in group} | {pair[0][0] for pair in t.duplicate_invoices}
    anchor = t.anchor_by_industry["manufacturing"]
    suppliers: dict[str, list[str]] = {}
    for r in data.relationships:
        suppliers.setdefault(r["buyer_uscc"], []).append(r["supplier_uscc"])
    sales: dict[str, int] = {}
    for v in data.invoices:
        sales[v["seller_uscc"]] = sales.get(v["seller_uscc"], 0) + v["amount_fen"]
    young = t.young
    tier1 = sorted((u for u in suppliers.get(anchor, ()) if t.tiers[u] == 1
                    and u not in planted and u not in young),
                   key=lambda u: (-sales.get(u, 0), u))
    out = []
    for u in tier1:
        tier2 = sorted((s for s in suppliers.get(u, ()) if t.tiers[s] == 2
                        and s not in planted), key=lambda s: (-sales.get(s, 0), s))
        if tier2:
            out.append((anchor, u, tier2[0]))
    return out


def _existing_demo_firms(session: Session) -> tuple[Firm, Firm, Firm]:
    """The firms the demo users are bound to (or, if those users are gone, picked again
    from the database: the anchor with the most suppliers and a tier-1/tier-2 pair)."""
    users = {u.email: u for u in session.exec(select(User).where(
        col(User.email).in_([f"anchor@{DOMAIN}", f"vendor@{DOMAIN}", f"vendor2@{DOMAIN}"])))}
    anchor, vendor, vendor2 = (session.get(Firm, users[f"{k}@{DOMAIN}"].firm_id)
                               if f"{k}@{DOMAIN}" in users else None
                               for k in ("anchor", "vendor", "vendor2"))
    if anchor is not None and vendor is not None and vendor2 is not None:
        return anchor, vendor, vendor2
    cluster = session.exec(select(Cluster).where(Cluster.code == CLUSTER_CODE)).one()
    anchor = session.exec(select(Firm).where(Firm.cluster_id == cluster.id,
                                             Firm.role == "anchor",
                                             Firm.industry == "manufacturing")).first()
    if anchor is None:
        raise LookupError("the demo cluster has no manufacturing anchor")
    tier1 = session.exec(select(Firm).join(Relationship,
                                           col(Relationship.supplier_id) == col(Firm.id))
                         .where(col(Relationship.buyer_id) == anchor.id)
                         .order_by(col(Firm.id))).first()
    if tier1 is None:
        raise LookupError("the demo cluster's anchor has no supplier")
    tier2 = session.exec(select(Firm).join(Relationship,
                                           col(Relationship.supplier_id) == col(Firm.id))
                         .where(col(Relationship.buyer_id) == tier1.id)
                         .order_by(col(Firm.id))).first()
    return anchor, tier1, tier2 or tier1
