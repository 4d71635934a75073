"""The network core's fixtures (invoices, a fresh graph cache per test) for the network
and onboarding pages."""

from tests.network.conftest import _fresh_graph_cache, make_invoice  # noqa: F401
