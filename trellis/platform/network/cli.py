"""Commands of the network area."""

commands: list = []
