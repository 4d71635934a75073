"""Commands of the ledger area."""

commands: list = []
