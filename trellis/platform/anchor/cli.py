"""Commands of the anchor area."""

commands: list = []
