"""Commands of the vendor area."""

commands: list = []
