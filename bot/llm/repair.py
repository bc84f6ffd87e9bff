"""Reading the JSON object of a model answer that wraps it in prose or Markdown code fences.

Servers that ignore ``response_format`` (or small models) often answer ``Sure! ```json {...}``` ``.
Rather than spend a retry, the structured call reads the object out of such an answer with
LangChain's ``parse_json_markdown`` and validates it against the schema; anything that does not
validate is still a failed attempt. ``parse_json_markdown`` only reads a whole answer or what follows
its first code fence, so an object with prose after it, or around it without fences, is read from
its outermost ``{...}``. Its default parser closes unfinished JSON: a strict one is passed instead,
because an answer cut off by the output token limit lost content, and is retried, never completed
(:class:`CutOffJson`).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from langchain_core.utils.json import parse_json_markdown
from pydantic import BaseModel, ValidationError

SchemaT = TypeVar("SchemaT", bound=BaseModel)
_LITERALS = ("true", "false", "null")
_NUMBER_START = re.compile(r"-?\d*(\.\d*)?([eE][-+]?\d*)?")


class CutOffJson(ValueError):
    """The answer stops inside its JSON (output token limit, dropped connection): retry it."""


def _strict(text: str) -> Any:
    """``json.loads`` that accepts raw newlines in strings (models write them) but completes nothing."""
    return json.loads(text, strict=False)


def _ran_out(exc: json.JSONDecodeError) -> bool:
    """The parser hit the end of the text (mid-string, mid-literal, mid-number): cut off, not malformed."""
    rest = exc.doc[exc.pos :].strip()
    if exc.msg.startswith("Unterminated string") or not rest:
        return bool(exc.doc.strip())
    if exc.msg.startswith("Invalid \\uXXXX escape"):
        return '"' not in rest  # the escape runs to the end of the text
    return any(word.startswith(rest) for word in _LITERALS) or _NUMBER_START.fullmatch(rest) is not None


def _parse(text: str) -> Any:
    return parse_json_markdown(text, parser=_strict)


def find_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object of ``text`` (the whole text, a code fence, else its outermost ``{...}``).

    ``None`` when there is none; raises :class:`CutOffJson` when the text ends inside one.
    """
    try:
        value = _parse(text)
    except json.JSONDecodeError as whole:
        start, end = text.find("{"), text.rfind("}")
        try:
            value = _parse(text[start : end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError:
            value = None
        if value is None:
            if start >= 0 and (_ran_out(whole) or _cut_off(text[start:])):
                raise CutOffJson("the answer stops inside its JSON") from None
            return None
    return value if isinstance(value, dict) else None


def _cut_off(text: str) -> bool:
    try:
        _parse(text)
    except json.JSONDecodeError as exc:
        return _ran_out(exc)
    return False


def salvage(schema: type[SchemaT], text: object) -> SchemaT | None:
    """``schema`` validated from the JSON object inside ``text``, or ``None`` if there is none.

    Raises :class:`CutOffJson` for an answer cut off inside its JSON (the caller retries it).
    """
    if not isinstance(text, str):
        return None
    value = find_json_object(text)
    if value is None:
        return None
    try:
        return schema.model_validate(value)
    except ValidationError:
        return None


def invalid_json_input(exc: BaseException) -> str | None:
    """The text a pydantic ``json_invalid`` error was given (what the SDK failed to parse)."""
    if not isinstance(exc, ValidationError):
        return None
    for error in exc.errors():
        given = error.get("input")
        if error.get("type") == "json_invalid" and isinstance(given, str):
            return given
    return None
