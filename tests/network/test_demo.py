"""On the demo cluster, the analytics find what the simulator planted; and the demo's
books go through the bulk importer as CSV files and give the same graph."""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import cache

import pytest
from sqlmodel import select

from trellis.demo.loader import load
from trellis.demo.simulator import simulate
from trellis.network import analytics, build
from trellis.onboarding import importer
from trellis.trade.models import Cluster

END = date(2026, 11, 30)


@cache
def demo(n_vendors=120, seed=7):
    return simulate(n_vendors=n_vendors, months=14, seed=seed, end=END)


@pytest.fixture(params=[7, 11])
def loaded(request, session):
    data = demo(seed=request.param)
    load(session=session, data=data, cluster_code=f"demo-{request.param}",
         cluster_name="示范园区")
    cluster = session.exec(select(Cluster).where(Cluster.code == f"demo-{request.param}")).one()
    G = build.cluster_graph(session=session, cluster_id=cluster.id, as_of=END)
    by_uscc = {uscc: node for node, uscc in G.nodes(data="uscc")}
    return data.truth, G, by_uscc


def test_planted_tiers_are_found(loaded):
    truth, G, by_uscc = loaded
    tiers = analytics.tiers(G)
    assert {u: tiers.get(by_uscc[u]) for u in truth.tiers} == truth.tiers
    assert {u for u in truth.tiers if tiers[by_uscc[u]] == 0} == truth.anchors


def test_the_planted_ring_is_the_top_cycle_with_its_trading_order(loaded):
    truth, G, by_uscc = loaded
    cycles = analytics.short_cycles(G, max_len=len(truth.ring))
    ring = [by_uscc[u] for u in truth.ring]
    found = [c for c in cycles if set(c.nodes) == set(ring)]
    assert len(found) == 1
    cycle = found[0]
    # Same trading order, whatever the starting firm.
    start = ring.index(cycle.nodes[0])
    assert list(cycle.nodes) == ring[start:] + ring[:start]
    assert cycle is cycles[0]  # the largest amount going round
    assert cycle.amount_fen > 0 and cycle.first_date < cycle.last_date <= END


@pytest.mark.parametrize("kind, planted", [("phone", "shared_phone"),
                                           ("bank_account", "shared_bank_account"),
                                           ("address", "shared_address")])
def test_planted_shared_identities_are_linked(loaded, kind, planted):
    truth, G, by_uscc = loaded
    groups = {frozenset(by_uscc[u] for u in g) for g in getattr(truth, planted)}
    links = [lk for lk in analytics.shared_identity_links(G) if lk.kind == kind]
    found = {}
    for lk in links:
        found.setdefault(lk.value, set()).update((lk.a, lk.b))
    assert {frozenset(v) for v in found.values()} == groups


def _csv(header, rows):
    out = io.StringIO(newline="")
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("gb18030")  # as a Chinese spreadsheet would save it


def test_demo_books_imported_as_gbk_csv_give_the_same_graph(session, make_cluster):
    data = demo(seed=7)
    cluster = make_cluster()
    yuan = lambda fen: f"{fen // 100}.{fen % 100:02d}"  # noqa: E731
    files = [
        ("firms", _csv(["uscc", "name", "role", "industry", "phone", "bank_account",
                        "address"],
                       [[f["uscc"], f["name"], f["role"], f["industry"], f["phone"] or "",
                         f["bank_account"] or "", f["address"] or ""] for f in data.firms])),
        ("relationships", _csv(["supplier_uscc", "buyer_uscc", "since",
                                "payment_terms_days"],
                               [[r["supplier_uscc"], r["buyer_uscc"], r["since"],
                                 r["payment_terms_days"]] for r in data.relationships])),
        ("invoices", _csv(["seller_uscc", "buyer_uscc", "number", "amount", "issue_date",
                           "due_date", "status"],
                          [[v["seller_uscc"], v["buyer_uscc"], v["number"],
                            yuan(v["amount_fen"]), v["issue_date"], v["due_date"],
                            v["status"]] for v in data.invoices])),
    ]
    for kind, content in files:
        result = importer.import_file(session=session, cluster_id=cluster.id, kind=kind,
                                      data=content, filename=f"{kind}.csv", today=END)
        assert result.created == result.rows
        if kind == "firms":  # Chinese names: the only file that is not plain ASCII
            assert result.encoding == "GBK"
    G = build.cluster_graph(session=session, cluster_id=cluster.id, as_of=END)
    truth = data.truth
    by_uscc = {uscc: node for node, uscc in G.nodes(data="uscc")}
    tiers = analytics.tiers(G)
    assert {u: tiers.get(by_uscc[u]) for u in truth.tiers} == truth.tiers
    volume = sum(v["amount_fen"] for v in data.invoices
                 if v["status"] != "rejected" and (END - v["issue_date"]).days < 365)
    assert sum(d for _, _, d in G.edges(data="volume_fen")) == volume
