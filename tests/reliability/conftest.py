"""Fixtures the reliability suites share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.reliability_support import Zygote


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """One forking parent per module: each child starts with the app's modules already imported."""
    parent = Zygote(tmp_path_factory.mktemp("zygote"))
    try:
        yield parent
    finally:
        parent.close()
