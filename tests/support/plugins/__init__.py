"""Pytest plugins (fixtures and hooks) registered for the whole run by ``tests/conftest.py``."""
