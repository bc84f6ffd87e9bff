"""Alembic migrations of the SQL store (a package so that they ship with the wheel)."""
