"""Terminal output shared by the CLI and the demo: rich renderings of engine results, atomic file writes."""
