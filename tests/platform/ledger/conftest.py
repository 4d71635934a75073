"""The ledger's fixtures (products, loans, the books checked after every test) for its
pages, API and commands, from the ledger core's tests."""

from tests.ledger.conftest import (  # noqa: F401
    books_checked,
    chain_settings,
    embedded_chain,
    make_loan,
    product,
    world,
)
