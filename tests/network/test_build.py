"""Building a cluster's graph from the database, and its cache."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from trellis.network import build
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Relationship

AS_OF = date(2026, 11, 30)


@pytest.fixture
def park(make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id, phone="0571-1")
    a = make_firm(cluster_id=cluster.id, bank_account="6222000011112222")
    b = make_firm(cluster_id=cluster.id)
    outsider = make_firm()  # in no cluster
    return cluster, anchor, a, b, outsider


def test_edges_carry_twelve_month_volume_count_and_tenure(session, park, make_invoice):
    cluster, anchor, a, b, outsider = park
    make_invoice(a, anchor, 100_00, date(2026, 6, 1), status="confirmed")
    make_invoice(a, anchor, 250_00, date(2026, 9, 1))
    make_invoice(a, anchor, 999_00, date(2025, 1, 10))  # older than 12 months
    make_invoice(a, anchor, 777_00, date(2026, 12, 5))  # after as_of
    make_invoice(b, a, 50_00, date(2026, 3, 3), status="rejected")
    make_invoice(b, outsider, 10_00, date(2026, 3, 3))
    G = build.cluster_graph(session=session, cluster_id=cluster.id, as_of=AS_OF)

    assert set(G.nodes) == {anchor.id, a.id, b.id}
    assert list(G.edges) == [(a.id, anchor.id)]
    edge = G.edges[a.id, anchor.id]
    assert edge["volume_fen"] == 350_00
    assert edge["invoice_count"] == 2
    assert edge["confirmed_fen"] == 100_00
    assert edge["tenure_days"] == (AS_OF - date(2025, 1, 10)).days
    assert (edge["first_date"], edge["last_date"]) == (date(2026, 6, 1), date(2026, 9, 1))
    node = G.nodes[a.id]
    assert (node["uscc"], node["role"], node["bank_account"]) == (
        a.uscc, "vendor", "6222000011112222")
    assert G.nodes[anchor.id]["role"] == "anchor"


def test_relationship_without_recent_invoices_is_an_edge_with_zero_volume(
        session, park):
    cluster, anchor, a, b, _ = park
    session.add(Relationship(supplier_id=b.id, buyer_id=a.id, since=date(2024, 12, 1),
                             payment_terms_days=45))
    session.flush()
    G = build.cluster_graph(session=session, cluster_id=cluster.id, as_of=AS_OF)
    edge = G.edges[b.id, a.id]
    assert (edge["volume_fen"], edge["invoice_count"], edge["payment_terms_days"]) == (0, 0, 45)
    assert edge["tenure_days"] == (AS_OF - date(2024, 12, 1)).days


def test_graph_is_cached_until_the_data_version_changes(session, park, make_invoice):
    cluster, anchor, a, b, _ = park
    make_invoice(a, anchor, 100_00, date(2026, 6, 1))
    first = build.cluster_graph(session=session, cluster_id=cluster.id, as_of=AS_OF)
    make_invoice(b, anchor, 100_00, date(2026, 6, 1))
    assert build.cluster_graph(session=session, cluster_id=cluster.id, as_of=AS_OF) is first
    assert first.number_of_edges() == 1

    build.bump_data_version(session=session, cluster_id=cluster.id)
    second = build.cluster_graph(session=session, cluster_id=cluster.id, as_of=AS_OF)
    assert second is not first
    assert second.number_of_edges() == 2
    # Another as_of is another graph.
    older = build.cluster_graph(session=session, cluster_id=cluster.id,
                                as_of=date(2026, 1, 1))
    assert older.number_of_edges() == 0


def test_cached_graph_cannot_be_changed_by_a_caller(session, park):
    G = build.cluster_graph(session=session, cluster_id=park[0].id, as_of=AS_OF)
    with pytest.raises(nx.NetworkXError):
        G.add_node(-1)


def test_unknown_cluster(session):
    with pytest.raises(ClusterNotFound):
        build.cluster_graph(session=session, cluster_id=987654, as_of=AS_OF)
