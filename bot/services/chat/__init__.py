"""Chat use cases: what a question asks, the evidence it may stand on, and the grounded answer."""
