"""CRM import use cases: a CSV of accounts, deals or health into one workspace, all or nothing."""
