"""Trellis: supply-chain lending for micro and small enterprises.

Packages: ``trade`` (firms, clusters, trade documents), ``accounts`` (users, roles,
consent, audit trail), ``network`` (the supply-chain graph), ``chain`` (Merkle batches
on Ethereum), ``scoring`` (credit from trade flows), ``ledger`` (double-entry loans),
``demo`` (the cluster simulator) and ``platform`` (the Flask application). Only
``platform`` imports Flask.
"""

__version__ = "0.1.0"
