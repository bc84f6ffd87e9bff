"""ICP use cases: versions and the change log, drafting, reviewing drafts, exporting documents."""
