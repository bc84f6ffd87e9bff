"""What one `icp` invocation shares between its commands: the settings, read once and only on demand.

The root callback (bot/cli/main.py) puts a `CliState` on the Typer context. Settings are read on
first use, inside the command's own error handling, so `icp --help` and the engine commands never
need a valid configuration, and a bad one is reported by the command that needs it, as before.
A sub-app run on its own (``python -m bot.cli.knowledge``, tests) gets a fresh state the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args

import typer
from pydantic import SecretStr, ValidationError

from bot.cli.errors import fail

if TYPE_CHECKING:  # imported on first use: the engine commands never read settings (pydantic-settings, .env)
    from bot.settings import Settings


def _setting_problems(exc: ValidationError) -> str:
    """``LOG_FORMAT: Input should be 'text' or 'json' (got 'xml')``, one per bad setting; secrets unquoted."""
    from bot.settings import Settings

    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "settings"
        field = Settings.model_fields.get(name)
        annotation = field.annotation if field is not None else None
        secret = annotation is SecretStr or SecretStr in get_args(annotation)
        got = "" if secret or "input" not in error else f" (got {error['input']!r})"
        problems.append(f"{name.upper()}: {error['msg']}{got}")
    return "; ".join(problems)


@dataclass
class CliState:
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """Read from the environment (and .env) on first use; the same object afterwards."""
        if self._settings is None:
            from bot.llm.tracing import apply_tracing_setting
            from bot.settings import Settings

            try:
                self._settings = Settings()
            except ValidationError as exc:
                fail(f"invalid setting: {_setting_problems(exc)} (see `icp config`)")
            apply_tracing_setting(self._settings)  # LangSmith traces only when LLM_TRACING=true
        return self._settings


def cli_settings(ctx: typer.Context) -> Settings:
    """The invocation's settings, whether or not the root callback ran."""
    return ctx.ensure_object(CliState).settings
