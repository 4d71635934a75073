"""Commands of the scoring area."""

commands: list = []
