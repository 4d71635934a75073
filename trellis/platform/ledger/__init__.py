"""The ledger pages, API and commands of the Trellis web platform."""
