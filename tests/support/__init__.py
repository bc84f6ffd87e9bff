"""What the test tiers and the benchmarks share: the Slack world, stand-ins, fixtures, data builders.

The pytest fixtures and hooks live in ``tests.support.plugins`` and are registered once, by
``pytest_plugins`` in ``tests/conftest.py``; the other modules are plain helpers to import.
"""
