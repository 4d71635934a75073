"""The chain area: documents -> Merkle batches -> Ethereum, the double-financing registry,
and verification of proof bundles.

No Flask here. Modules:

- :mod:`canonical`: one canonical byte form per document type, and its SHA-256.
- :mod:`merkle`: OpenZeppelin's StandardMerkleTree, byte for byte.
- :mod:`commitments`: the queue of documents, and the collector of trade documents.
- :mod:`contract`, :mod:`client`: the Vyper registry and the web3 backends (only the
  modules that talk to a node import :mod:`client`; :mod:`transactions` holds the plain
  data it hands back).
- :mod:`anchoring`, :mod:`jobs`: batches, transactions, confirmations, reorgs.
- :mod:`registry`: keyed financing fingerprints.
- :mod:`bundles`, :mod:`verify`, :mod:`audit`, :mod:`health`: what auditors use.
"""
