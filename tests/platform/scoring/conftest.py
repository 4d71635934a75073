"""The scoring core's fixtures (trade history, fresh caches per test) for its pages and
commands."""

from tests.scoring.conftest import _fresh_caches, trade  # noqa: F401
