"""A note only the person who clicked or typed sees (the message they clicked stays as it is)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def note_privately(respond: Callable[..., Any], body: Mapping[str, Any], text: str) -> None:
    """An ephemeral reply through the request's response_url; nothing where there is none (App
    Home clicks, forms), as Bolt's ``respond`` exists there too but cannot be used."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
