"""LLM prompts as files: ``prompts/<name>.yaml`` with a system part, a user part and declared variables.

Prompts are content, not code, so they live beside the interview questions and are loaded
strictly: a placeholder the file does not declare, or a declared variable it never uses, is a
:class:`PromptError` naming the file at load time, and rendering with a missing or unknown value
is one too. Placeholders are ``$name`` or ``${name}`` (:class:`string.Template`; ``$$`` is a
literal dollar). Values are substituted once and never re-expanded, so untrusted text (interview
answers) cannot inject placeholders; the prompt file itself wraps such values in delimiters.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.prompt_files import prompt_file, prompt_files

_KEYS = frozenset({"description", "variables", "system", "user"})
_PARTS = ("system", "user")


class PromptError(ValueError):
    """A prompt file is missing or invalid, or was rendered with wrong values; names the file."""


@dataclass(frozen=True)
class Prompt:
    """One loaded prompt: render it with exactly its declared variables."""

    name: str
    path: Path
    description: str
    variables: tuple[str, ...]
    system: string.Template
    user: string.Template

    def render(self, **values: Any) -> list[BaseMessage]:
        """``[SystemMessage, HumanMessage]`` with every ``$variable`` replaced by ``str(value)``."""
        declared = set(self.variables)
        missing = sorted(declared - values.keys())
        unknown = sorted(values.keys() - declared)
        problems = []
        if missing:
            problems.append(f"missing value(s) for {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown variable(s) {', '.join(unknown)}")
        if problems:
            raise PromptError(f"prompt {self.path}: {'; '.join(problems)}")
        text = {key: str(value) for key, value in values.items()}
        return [SystemMessage(self.system.substitute(text)), HumanMessage(self.user.substitute(text))]


def untrusted(text: str) -> str:
    """Untrusted text made safe to wrap in ``<tag>…</tag>`` delimiters: ``<``/``>`` become ``‹``/``›``.

    Without this, an answer containing ``</answers>`` could end the delimited block early and
    smuggle text outside it. The look-alikes keep the text readable (and quotable) for the model.
    """
    return text.replace("<", "‹").replace(">", "›")


def _placeholders(path: Path, part: str, template: string.Template) -> set[str]:
    if not template.is_valid():
        raise PromptError(
            f"prompt {path}: {part}: a '$' that is not a placeholder (write $$ for a literal dollar, "
            "$name or ${name} for a variable)"
        )
    return set(template.get_identifiers())


def parse_prompt(path: Path, name: str | None = None) -> Prompt:
    """Read and validate one prompt file (see prompts/README.md for the format)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromptError(f"prompt {path}: file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PromptError(f"prompt {path}: cannot read it: {first}") from None
    if not isinstance(raw, dict):
        raise PromptError(f"prompt {path}: expected a mapping with keys {', '.join(sorted(_KEYS))}")
    missing = sorted(_KEYS - raw.keys())
    extra = sorted(str(key) for key in raw.keys() - _KEYS)
    if missing or extra:
        detail = "; ".join(
            part
            for part in (
                f"missing key(s) {', '.join(missing)}" if missing else "",
                f"unknown key(s) {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise PromptError(f"prompt {path}: {detail}")
    for key in ("description", *_PARTS):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise PromptError(f"prompt {path}: {key} must be non-empty text")
    variables = raw["variables"] if raw["variables"] is not None else []
    if not isinstance(variables, list) or not all(isinstance(v, str) and v.isidentifier() for v in variables):
        raise PromptError(f"prompt {path}: variables must be a list of names (letters, digits, _)")
    if len(set(variables)) != len(variables):
        raise PromptError(f"prompt {path}: a variable is declared twice")
    templates = {part: string.Template(raw[part]) for part in _PARTS}
    used: set[str] = set()
    for part, template in templates.items():
        used |= _placeholders(path, part, template)
    undeclared = sorted(used - set(variables))
    unused = sorted(set(variables) - used)
    if undeclared:
        raise PromptError(f"prompt {path}: placeholder(s) not declared in variables: {', '.join(undeclared)}")
    if unused:
        raise PromptError(f"prompt {path}: declared variable(s) never used: {', '.join(unused)}")
    return Prompt(
        name=name or path.stem,
        path=path,
        description=raw["description"].strip(),
        variables=tuple(variables),
        system=templates["system"],
        user=templates["user"],
    )


def _prompt_path(name: str, directory: Path) -> Path:
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith("/") or any(part in ("", "..", ".") for part in parts):
        raise PromptError(f"prompt name {name!r}: expected a relative name like 'drafting/icp'")
    return directory / f"{name}.yaml"


@lru_cache(maxsize=128)
def _load_cached(name: str, path: Path, mtime_ns: int) -> Prompt:
    return parse_prompt(path, name)


def load_prompt(name: str, *, directory: Path | None = None) -> Prompt:
    """The prompt ``<name>.yaml`` (e.g. ``load_prompt("drafting/icp")``), validated, cached.

    Without ``directory`` the file comes from ``PROMPTS_DIR`` if the team customised it there, else
    from the packaged prompts; an edited file is re-read (the cache is keyed by modification time).
    """
    path = _prompt_path(name, directory) if directory is not None else None
    if path is None:
        _prompt_path(name, Path("."))  # validates the name before it is joined to any folder
        path = prompt_file(f"{name}.yaml")
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise PromptError(f"prompt {path}: file not found") from None
    return _load_cached(name, path, mtime)


def is_llm_prompt_file(path: Path) -> bool:
    """Whether a YAML file under prompts/ is meant as an LLM prompt (has a ``system`` or ``user`` key)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and ("system" in raw or "user" in raw)


def llm_prompt_names(directory: Path | None = None) -> Iterator[str]:
    """Every LLM prompt under ``directory`` (default: packaged plus overrides), as names for :func:`load_prompt`."""
    found: Iterator[tuple[str, Path]]
    if directory is not None:
        found = ((path.relative_to(directory).as_posix(), path) for path in sorted(directory.rglob("*.yaml")))
    else:
        found = prompt_files()
    for relative, path in found:
        if is_llm_prompt_file(path):
            yield relative.removesuffix(".yaml")
