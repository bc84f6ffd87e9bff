"""Privacy use cases: erasing what a person said, everywhere it went."""
