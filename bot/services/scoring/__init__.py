"""Scoring use cases: find a stored account from what a person types, score it against the active ICP."""
