"""Fixtures: the web platform's (app, client, logged_in, settings) and a small supply chain."""

import pytest

from tests.platform.conftest import app, client, logged_in, settings  # noqa: F401
from tests.vouchers.factories import supply_chain


@pytest.fixture
def chain(session, make_firm, make_cluster):
    return supply_chain(session, make_firm, make_cluster)
