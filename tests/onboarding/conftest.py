"""Fixtures of the onboarding tests (shared with the network tests)."""

from tests.network.conftest import _fresh_graph_cache, make_invoice  # noqa: F401
from tests.platform.conftest import app, client, logged_in, settings  # noqa: F401
