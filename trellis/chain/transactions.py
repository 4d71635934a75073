"""What the chain client hands back about a transaction: the signed transaction before it
is sent and the receipt once it is mined. Plain data without web3, so that the modules
the pages import (anchoring, the registry) name them without importing the node client.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction not yet sent: hash and raw bytes (``0x`` hex), nonce, fees
    (wei per gas), sender address and chain id."""

    tx_hash: str
    raw: str  # 0x-prefixed hex
    nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    sender: str
    chain_id: int


@dataclass(frozen=True)
class Receipt:
    """A mined transaction's receipt: status 1 (success) or 0, block, gas used and the
    price paid (wei per gas)."""

    tx_hash: str
    status: int
    block_number: int
    block_hash: str
    gas_used: int
    effective_gas_price: int
    contract_address: str | None = None
