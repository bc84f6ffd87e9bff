"""Every setting, documented from the Settings object itself, so the docs cannot drift from it.

`deploy/.env.example` and the README's configuration table are rendered here (``icp config``);
a test fails when either differs from what the Settings class says today.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from bot.settings import Settings


@dataclass(frozen=True)
class SettingDoc:
    env: str  # the environment variable
    default: str  # as it would be written in a .env file ("" when unset)
    secret: bool
    description: str


def _default_text(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_secret(info: FieldInfo) -> bool:
    return SecretStr in getattr(info.annotation, "__args__", (info.annotation,))


def setting_docs(settings_cls: type[Settings] = Settings) -> list[SettingDoc]:
    """One entry per field, in declaration order (which groups them by subject)."""
    docs = []
    for name, info in settings_cls.model_fields.items():
        description = (info.description or "").strip()
        if _is_secret(info):
            description = f"Secret. {description}".strip()
        docs.append(SettingDoc(name.upper(), _default_text(info), _is_secret(info), description))
    return docs


def env_example(settings_cls: type[Settings] = Settings) -> str:
    """A `.env` listing every setting with its default; unset ones are commented out."""
    lines = [
        "# Every setting of the ICP assistant, with its default (rendered by `icp config --env`).",
        "# Nothing here is required: with no settings everything runs embedded and offline.",
        "",
    ]
    for doc in setting_docs(settings_cls):
        if doc.description:
            lines.append(f"# {doc.description}")
        prefix = "# " if doc.secret or not doc.default else ""
        lines.append(f"{prefix}{doc.env}={doc.default}")
        lines.append("")
    return "\n".join(lines)


def markdown_table(settings_cls: type[Settings] = Settings) -> str:
    """The README's configuration table."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for doc in setting_docs(settings_cls):
        default = f"`{doc.default}`" if doc.default else "(unset)"
        description = doc.description.replace("|", "\\|")
        rows.append(f"| `{doc.env}` | {default} | {description} |")
    return "\n".join(rows) + "\n"
