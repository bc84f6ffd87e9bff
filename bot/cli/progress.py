"""Progress for long `icp` commands: a transient rich bar on a terminal, nothing anywhere else.

Services never import rich: a command asks this module for a plain callback and passes it down
(``on_progress(done, total)`` for counted work, ``on_step(name)`` for named steps). When progress
is not shown (``--json``, or stdout is a pipe or a file) the callback is ``None``, so the service
runs exactly as it would without one and the output stays byte for byte what scripts expect.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from bot.cli.output import out

OnProgress = Callable[[int, int | None], None]
OnStep = Callable[[str], None]


def wanted(as_json: bool = False) -> bool:
    """Show progress only to a person: not with --json, not when stdout is piped or redirected."""
    return not as_json and sys.stdout.isatty()


@contextmanager
def counted(
    description: str, *, show: bool, then: str | None = None, console: Console | None = None
) -> Iterator[OnProgress | None]:
    """A bar counting items; ``then`` replaces the description once the first count arrives.

    The count starts without a total (a spinner) until the service knows how many there are.
    """
    if not show:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or out,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            label = then if then is not None else description
            bar.update(task, completed=done, total=total, description=label)

        yield update


@contextmanager
def steps(title: str, *, show: bool, console: Console | None = None) -> Iterator[OnStep | None]:
    """A spinner naming the step under way (``title: step``), for work that cannot be counted."""
    if not show:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console or out,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)

        def step(name: str) -> None:
            bar.update(task, description=f"{title}: {name}")

        yield step


def announce(on_step: OnStep | None, name: str) -> None:
    """Name the next step, if anyone is watching (for commands that run their own steps)."""
    if on_step is not None:
        on_step(name)
