"""Where a prompt or question file is read from: a team's own folder first, then the packaged copy.

The files ship inside the distribution (the top-level ``prompts`` package), so a wheel install or
a container finds them without a checkout. ``PROMPTS_DIR`` lets a team customise file by file: a
file present there wins, every other file comes from the package, so a folder holding only
``interview/sales.yaml`` changes the sales interview and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from bot.settings import get_settings

PACKAGE = "prompts"


class PromptFilesMissing(RuntimeError):
    """The packaged prompts cannot be read from the file system (e.g. a zipped install)."""


def packaged_root() -> Path:
    """The installed ``prompts`` folder; zipped installs are not supported (files are read by path)."""
    root = resources.files(PACKAGE)
    if not isinstance(root, Path):
        raise PromptFilesMissing(
            f"the packaged prompts are not on the file system ({root!r}); install the wheel unzipped"
        )
    return root


def override_root() -> Path | None:
    """The team's prompts folder (``PROMPTS_DIR``), or None when prompts are the packaged ones."""
    return get_settings().prompts_dir


def prompt_file(relative: str) -> Path:
    """The file to read for ``relative`` (e.g. ``interview/sales.yaml``): the override if it has it."""
    override = override_root()
    if override is not None:
        candidate = override / relative
        if candidate.is_file():
            return candidate
    return packaged_root() / relative


def prompt_files(pattern: str = "**/*.yaml") -> Iterator[tuple[str, Path]]:
    """Every ``(relative name, file)`` matching ``pattern``, overrides first-class, sorted by name."""
    found: dict[str, Path] = {}
    for root in (packaged_root(), override_root()):
        if root is None or not root.is_dir():
            continue
        for path in root.glob(pattern):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path
    yield from sorted(found.items())
