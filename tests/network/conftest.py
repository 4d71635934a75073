"""Fixtures of the network tests: trade rows between factory-made firms."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest

from tests.platform.conftest import app, client, logged_in, settings  # noqa: F401
from trellis.network import build

_numbers = count(1)


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    build.clear_cache()
    yield
    build.clear_cache()


@pytest.fixture
def make_invoice(session):
    from trellis.trade.models import Invoice

    def make(seller, buyer, amount_fen=100_000, issue_date=date(2026, 6, 1), *,
             due_days=60, status="pending", **kw):
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id,
                      number=kw.pop("number", f"INV{next(_numbers):06d}"),
                      amount_fen=amount_fen, issue_date=issue_date,
                      due_date=issue_date + timedelta(days=due_days), status=status, **kw)
        session.add(inv)
        session.flush()
        return inv

    return make
