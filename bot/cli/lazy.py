"""Commands loaded when they are used: `icp score` imports the engine, never Slack, Chroma or LangChain.

Each command module imports what its commands need (the bot's commands pull in the store, the
knowledge base and the chat model: seconds of imports). The root group therefore knows each
command only by where it lives, ``"module:attribute"``, and imports that module the first time
the command is looked up: to run it or to show its help. ``icp --help`` lists the commands by their
short help kept beside the registry (``summaries``), so it imports none of them; a test checks the
summaries against the commands' own help. The attribute is a command function or a Typer sub-app, registered exactly as
``app.command(name)`` or ``app.add_typer(sub, name=name)`` would.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, ClassVar

import typer
import typer.core
import typer.main


def load_command(name: str, target: str) -> typer.core.TyperCommand | typer.core.TyperGroup:
    """Import ``module:attribute`` and build the click command Typer would have built for it."""
    module_name, _, attribute = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attribute)
    holder = typer.Typer(add_completion=False)
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(obj)
    command = typer.main.get_group(holder).commands[name]
    assert isinstance(command, typer.core.TyperCommand | typer.core.TyperGroup)
    return command


class LazyCommands(MutableMapping[str, Any]):
    """A group's ``commands``: names in registration order, each built on first access.

    While the group's help is written (`listing`), a command not built yet is shown by its summary
    (a bare command holding only that help text) instead of being imported."""

    def __init__(
        self, targets: Mapping[str, str], built: Mapping[str, Any], summaries: Mapping[str, str] | None = None
    ) -> None:
        self._targets = dict(targets)
        self._built: dict[str, Any] = dict(built)
        self._summaries = dict(summaries or {})
        self._listing = False
        for name in self._built:
            self._targets.setdefault(name, "")

    @contextmanager
    def listing(self) -> Iterator[None]:
        """Commands looked up meanwhile are only listed: summaries serve for those not yet built."""
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._targets:
                raise KeyError(name)
            if self._listing and name in self._summaries:
                return typer.core.TyperCommand(name=name, help=self._summaries[name])
            self._built[name] = load_command(name, self._targets[name])
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        self._targets.setdefault(name, "")

    def __delitem__(self, name: str) -> None:
        self._targets.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets


class LazyGroup(typer.core.TyperGroup):
    """A Typer group whose commands come from ``targets`` (name -> "module:attribute"), loaded lazily.

    ``summaries`` (name -> the first paragraph of the command's help) list them in the group's help."""

    targets: ClassVar[Mapping[str, str]] = {}
    summaries: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(self.targets, self.commands, self.summaries)

    def format_help(self, ctx: Any, formatter: Any) -> None:  # Typer's vendored click types
        commands = self.commands
        if not isinstance(commands, LazyCommands):  # pragma: no cover - replaced after construction
            super().format_help(ctx, formatter)
            return
        with commands.listing():
            super().format_help(ctx, formatter)
