"""What one `icp` invocation shares between its commands: the settings, read once and only on demand.

The root callback (bot/cli/main.py) puts a `CliState` on the Typer context. Settings are read on
first use, inside the command's own error handling, so `icp --help` and the engine commands never
need a valid configuration, and a bad one is reported by the command that needs it, as before.
A sub-app run on its own (``python -m bot.cli.knowledge``, tests) gets a fresh state the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from bot.settings import Settings


@dataclass
class CliState:
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """Read from the environment (and .env) on first use; the same object afterwards."""
        if self._settings is None:
            self._settings = Settings()
        return self._settings


def cli_settings(ctx: typer.Context) -> Settings:
    """The invocation's settings, whether or not the root callback ran."""
    return ctx.ensure_object(CliState).settings
