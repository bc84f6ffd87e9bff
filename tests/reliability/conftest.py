"""Fixtures for the reliability suites: the e2e world (stand-in Slack, the app over HTTP) reused.

``tests/e2e/conftest.py`` is not visible from here, so it is loaded under another module name
(``e2e_fixtures``) and its fixtures re-exported; ``tests/e2e`` goes on the path for ``harness``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))


def _load_e2e_fixtures() -> object:
    name = "e2e_fixtures"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, E2E / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_e2e = _load_e2e_fixtures()
migrated_sqlite_template = _e2e.migrated_sqlite_template  # type: ignore[attr-defined]
stand_in = _e2e.stand_in  # type: ignore[attr-defined]
make_slack_env = _e2e.make_slack_env  # type: ignore[attr-defined]
slack_env = _e2e.slack_env  # type: ignore[attr-defined]
module_slack_env = _e2e.module_slack_env  # type: ignore[attr-defined]
