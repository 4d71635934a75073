"""Issue 15, F20: how much "anchored" may claim depends on the chain. The demo's embedded
chain is readable by this platform only; a node on this machine or a development chain
by those who reach it; a public network by anyone."""

from __future__ import annotations

import pytest

from tests.chain.conftest import make_settings
from trellis.chain import scope

KEY = "0x" + "11" * 32


@pytest.mark.parametrize(
    "overrides, recorded, kind, chain_id, host",
    [
        ({}, None, scope.EMBEDDED, scope.EMBEDDED_CHAIN_ID, ""),
        ({"chain_url": "http://127.0.0.1:8545"}, 31337, scope.LOCAL, 31337, "127.0.0.1:8545"),
        ({"chain_url": "http://localhost:8545"}, None, scope.LOCAL, None, "localhost:8545"),
        # a development chain's id on another host is still no public network
        (
            {"chain_url": "http://10.0.0.7:8545", "chain_id": 31337},
            None,
            scope.LOCAL,
            31337,
            "10.0.0.7:8545",
        ),
        (
            {"chain_url": "https://sepolia.example.org/v3/SECRET", "chain_id": 11155111},
            None,
            scope.NETWORK,
            11155111,
            "sepolia.example.org",
        ),
        # not pinned: the chain id the latest anchored batch recorded
        (
            {"chain_url": "https://user:pw@rpc.example.org:8443/key"},
            17000,
            scope.NETWORK,
            17000,
            "rpc.example.org:8443",
        ),
    ],
)
def test_scope_of_the_configured_chain(overrides, recorded, kind, chain_id, host):
    if overrides.get("chain_url"):
        overrides = {**overrides, "chain_key": KEY}
    found = scope.scope(make_settings(**overrides), recorded_chain_id=recorded)
    assert (found.kind, found.chain_id, found.host) == (kind, chain_id, host)
    assert found.independent is (kind == scope.NETWORK)
    assert "SECRET" not in found.host and "pw" not in found.host
