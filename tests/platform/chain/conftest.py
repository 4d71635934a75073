"""The chain area's fixtures (embedded chain, anvil, the app on a chain) for its pages and
commands, from the chain core's tests."""

from tests.chain.conftest import (  # noqa: F401
    anvil,
    anvil_factory,
    anvil_path,
    anvil_settings,
    app_settings,
    chain_app,
    chain_settings,
    embedded,
    oz,
)
