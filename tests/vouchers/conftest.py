import pytest

from tests.vouchers.factories import supply_chain


@pytest.fixture
def chain(session, make_firm, make_cluster):
    return supply_chain(session, make_firm, make_cluster)
