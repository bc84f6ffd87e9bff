"""Salvage a JSON object from a model answer that wraps it in prose or Markdown code fences.

Servers that ignore ``response_format`` (or small models) often answer ``Sure! ```json {...}``` ``.
Rather than spend a retry, the structured call takes the outermost ``{...}`` of such an answer and
validates it against the schema; anything that does not validate is still a failed attempt.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

SchemaT = TypeVar("SchemaT", bound=BaseModel)


def extract_json_object(text: str) -> str | None:
    """The outermost ``{...}`` span of ``text`` if it parses as a JSON object, else ``None``."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    candidate = text[start : end + 1]
    try:
        return candidate if isinstance(json.loads(candidate), dict) else None
    except json.JSONDecodeError:
        return None


def salvage(schema: type[SchemaT], text: object) -> SchemaT | None:
    """``schema`` validated from the JSON object inside ``text``, or ``None`` if there is none."""
    if not isinstance(text, str):
        return None
    candidate = extract_json_object(text)
    if candidate is None:
        return None
    try:
        return schema.model_validate_json(candidate)
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
