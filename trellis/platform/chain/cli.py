"""Commands of the chain area."""

commands: list = []
