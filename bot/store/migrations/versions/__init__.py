"""Alembic revisions, oldest first (a package so that they ship with the wheel)."""
