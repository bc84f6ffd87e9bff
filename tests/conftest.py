"""The fixtures and hooks of the whole run, registered once here (pytest reads ``pytest_plugins``
only in the root conftest): the Slack world, the language model stand-ins and the reliability
summary. Each tier's own conftest keeps only what that tier needs (e.g. the databases of
``tests/integration``)."""

import logging
from collections.abc import Iterator

import pytest

# The shared helpers assert too (seeding, Block Kit checks): keep pytest's detailed messages there.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.plugins.slack_world",
    "tests.support.plugins.llm_servers",
    "tests.support.plugins.reliability_report",
]


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Commands run in-process (``icp serve`` through CliRunner) install the app's root handler;
    it must not outlive the test and change what later tests in the same worker print."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
