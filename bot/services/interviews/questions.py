"""Role-aware interview question sets, loaded strictly from ``prompts/interview/<role>.yaml``.

The questions are content, not code: people who know the go-to-market motion edit the YAML.
A mistake there must surface as one clear line naming the file and the question, never as a
half-loaded interview, so every file is validated in full when it is read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from bot.prompt_files import prompt_file
from bot.store.models import GtmRole

QUESTIONS_FOLDER = "interview"
MIN_QUESTIONS = 6
MAX_QUESTIONS = 9

#: What a question is about, so answers from different roles can be grouped by theme.
Topic = Literal[
    "best_customers",
    "pains",
    "messaging",
    "value",
    "triggers",
    "buying_committee",
    "sales_process",
    "objections",
    "channels",
    "churn",
    "expansion",
    "bad_fit",
    "competitors",
    "strategy",
]

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class QuestionSetError(ValueError):
    """A question set file is missing or invalid; the message names the file and the question."""


class Question(BaseModel):
    """One question; ``id`` is stored with every answer, so keep it stable once in use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    topic: Topic
    text: Annotated[_Text, Field(max_length=600)]
    hint: Annotated[_Text, Field(max_length=300)] | None = None


class QuestionSet(BaseModel):
    """The questions one GTM role is asked, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: GtmRole
    title: Annotated[_Text, Field(max_length=80)]
    intro: Annotated[_Text, Field(max_length=600)]
    questions: Annotated[tuple[Question, ...], Field(min_length=MIN_QUESTIONS, max_length=MAX_QUESTIONS)]

    @model_validator(mode="after")
    def _unique_ids(self) -> QuestionSet:
        seen: set[str] = set()
        for number, question in enumerate(self.questions, start=1):
            if question.id in seen:
                raise ValueError(f"question {number}: id {question.id!r} is used twice")
            seen.add(question.id)
        return self

    def __len__(self) -> int:
        return len(self.questions)

    def index_of(self, question_id: str) -> int | None:
        """Position of the question with this id, or None if the set has no such question."""
        for index, question in enumerate(self.questions):
            if question.id == question_id:
                return index
        return None


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """'question 3 (id 'pains'): text' for an error inside a question, else the field path."""
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        number = loc[1] + 1
        label = f"question {number}"
        items = raw.get("questions") if isinstance(raw, dict) else None
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            qid = items[loc[1]].get("id")
            if isinstance(qid, str) and qid:
                label += f" (id {qid!r})"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{label}: {rest}" if rest else label
    return ".".join(str(part) for part in loc)


def _describe(error: dict[str, Any], raw: Any) -> str:
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    message = re.sub(r"^Value error, ", "", message)
    where = _where(tuple(error.get("loc", ())), raw)
    return f"{where}: {message}" if where else message


def parse_question_set(raw: Any, *, source: str, expected_role: str | None = None) -> QuestionSet:
    """Validate already-parsed YAML; every error message starts with ``source``."""
    if not isinstance(raw, dict):
        raise QuestionSetError(f"{source}: expected a mapping with role, title, intro and questions")
    try:
        parsed = QuestionSet.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise QuestionSetError(f"{source}: {_describe(dict(errors[0]), raw)}{more}") from None
    if expected_role is not None and parsed.role.value != expected_role:
        raise QuestionSetError(
            f"{source}: role is {parsed.role.value!r} but the file is named for {expected_role!r}"
        )
    return parsed


def load_question_set_file(path: Path) -> QuestionSet:
    """Read and validate one YAML file; the role inside must match the file name."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot be read: {exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise QuestionSetError(f"{path}:{where} YAML syntax error: {problem}") from None
    return parse_question_set(raw, source=str(path), expected_role=path.stem)


def _role_value(role: GtmRole | str) -> str:
    try:
        return GtmRole(role).value
    except ValueError:
        valid = ", ".join(r.value for r in GtmRole)
        raise QuestionSetError(f"unknown role {role!r}: expected one of {valid}") from None


@lru_cache(maxsize=64)
def _cached(path: Path, mtime_ns: int) -> QuestionSet:
    return load_question_set_file(path)


def load_question_set(role: GtmRole | str, directory: Path | None = None) -> QuestionSet:
    """The question set of ``role``; re-read only when the file changed (cheap per message)."""
    name = f"{_role_value(role)}.yaml"
    path = directory / name if directory is not None else prompt_file(f"{QUESTIONS_FOLDER}/{name}")
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: file not found (every role needs a question set)") from None
    return _cached(path, mtime)


def load_all_question_sets(directory: Path | None = None) -> dict[GtmRole, QuestionSet]:
    """Every role's set; fails on the first missing or invalid file."""
    return {role: load_question_set(role, directory) for role in GtmRole}
