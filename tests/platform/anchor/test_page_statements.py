"""The pages of a large cluster issue a bounded number of SQL statements, whatever the
cluster's size (issue 15): the anchor's queue, the cluster's network page and the anchor's
risk page are opened on a small cluster, the cluster grows twentyfold (suppliers, their
invoices and orders), and the same pages issue the same number of statements, cold (the
cluster's data changed: the graph and the partners' volumes are read again) and warm."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from tests.platform.conftest import login
from tests.vouchers.factories import invoice, order
from trellis.network.build import bump_data_version
from trellis.trade.models import ClusterManager, DocStatus, Relationship

# Each page's statements: the login's user and the page's own reads, a handful each; a
# read per row or per firm would pass these at once.
BOUND = 15


class Statements:
    def __init__(self, connection) -> None:
        self.n = 0
        event.listen(connection, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.n += 1

    def of(self, client, path: str) -> int:
        before = self.n
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return self.n - before


def grow(session, make_firm, chain, suppliers: int) -> None:
    """*suppliers* more vendors of the anchor, each with pending and confirmed invoices to
    it and an order from it."""
    for _ in range(suppliers):
        firm = make_firm(cluster_id=chain.anchor.cluster_id)
        session.add(Relationship(supplier_id=firm.id, buyer_id=chain.anchor.id,
                                 since=date(2021, 1, 1)))
        invoice(session, firm, chain.anchor, status=DocStatus.PENDING)
        invoice(session, firm, chain.anchor, status=DocStatus.CONFIRMED)
        order(session, firm, chain.anchor)
    bump_data_version(session=session, cluster_id=chain.anchor.cluster_id)
    session.commit()


@pytest.fixture
def counted(connection):
    return Statements(connection)


def counts(app, counted, make_user, session, chain) -> dict[str, int]:
    """Statements of each page, cold then warm, as the anchor and as its cluster's RM."""
    from trellis.trade.models import Cluster

    code = session.get(Cluster, chain.anchor.cluster_id).code
    out = {}
    client = app.test_client()
    login(client, make_user("anchor", firm=chain.anchor))
    for path in ("/anchor/queue", "/anchor/queue?kind=order", "/anchor/queue?sort=vendor"):
        out[path] = counted.of(client, path)
    rm = make_user("rm")
    session.add(ClusterManager(cluster_id=chain.anchor.cluster_id, user_id=rm.id))
    session.commit()
    client = app.test_client()
    login(client, rm)
    for path in (f"/network/{code}", f"/scoring/firms/{chain.anchor.id}"):
        out[path + " cold"] = counted.of(client, path)
        out[path + " warm"] = counted.of(client, path)
    return out


def test_pages_issue_as_many_statements_on_a_cluster_twenty_times_larger(
        app, session, chain, make_firm, make_user, counted):
    grow(session, make_firm, chain, 3)
    small = counts(app, counted, make_user, session, chain)
    grow(session, make_firm, chain, 60)
    large = counts(app, counted, make_user, session, chain)
    assert large == small
    assert max(large.values()) <= BOUND, large
