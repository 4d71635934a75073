"""The demo seed: one login per role, bound to sensible firms, idempotent."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from tests.demo.conftest import END
from trellis.accounts import services as accounts
from trellis.accounts.models import Consent
from trellis.demo.seed import CLUSTER_CODE, PASSWORD, seed_demo
from trellis.trade.models import Cluster, ClusterManager, Firm, Invoice, Relationship

ROLES = ["admin", "admin", "rm", "auditor", "anchor", "vendor", "vendor"]


@pytest.fixture
def seeded(session):
    return seed_demo(session=session, n_vendors=60, seed=7, end=END)


def test_every_login_works_with_its_role(session, seeded):
    assert [r for r, *_ in seeded.logins] == ROLES
    for role, email, password, _firm in seeded.logins:
        assert password == PASSWORD
        user = accounts.authenticate(session=session, email=email, password=password)
        assert user.role == role
        assert (user.firm_id is not None) == (role in ("anchor", "vendor"))


def _user(session, email):
    return accounts.authenticate(session=session, email=email, password=PASSWORD)


def test_firm_users_sit_on_one_supply_chain(session, seeded):
    anchor = session.get(Firm, _user(session, "anchor@trellis.demo").firm_id)
    vendor_user = _user(session, "vendor@trellis.demo")
    vendor = session.get(Firm, vendor_user.firm_id)
    vendor2 = session.get(Firm, _user(session, "vendor2@trellis.demo").firm_id)
    assert anchor.role == "anchor" and anchor.industry == "manufacturing"
    edges = set(session.exec(select(Relationship.supplier_id, Relationship.buyer_id)))
    assert (vendor.id, anchor.id) in edges and (vendor2.id, vendor.id) in edges
    assert vendor.founded_on is not None and vendor_user.birth_year is not None
    confirmed = session.exec(select(func.count()).select_from(Invoice).where(
        Invoice.seller_id == vendor.id, Invoice.status == "confirmed")).one()
    assert confirmed > 0
    names = {firm for *_, firm in seeded.logins}
    assert {anchor.name, vendor.name, vendor2.name} <= names


def test_rm_manages_the_cluster_and_every_firm_consented(session, seeded):
    cluster = session.exec(select(Cluster).where(Cluster.code == CLUSTER_CODE)).one()
    rm = _user(session, "rm@trellis.demo")
    assert session.get(ClusterManager, (cluster.id, rm.id)) is not None
    firm_ids = list(session.exec(select(Firm.id).where(Firm.cluster_id == cluster.id)))
    assert len(firm_ids) == 63
    assert all(accounts.has_consent(session=session, firm_id=f, purpose="trade_data")
               for f in firm_ids)


def test_seeding_twice_loads_nothing_new(session, seeded):
    assert seeded.created
    before = {m: session.exec(select(func.count()).select_from(m)).one()
              for m in (Firm, Invoice, Consent, ClusterManager)}
    again = seed_demo(session=session, n_vendors=60, seed=7, end=END)
    assert not again.created and again.cluster_id == seeded.cluster_id
    assert again.logins == seeded.logins
    assert {m: session.exec(select(func.count()).select_from(m)).one() for m in before} == before
