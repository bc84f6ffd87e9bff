"""Export the ICP as a one-page document: Markdown, HTML or PDF, for a file or a Slack upload.

``load_document`` gathers a version (criteria, tiers, disqualifiers, personas, pains and
triggers, evidence, backtest, approval, owner, next review) from the store; ``render`` turns it
into the bytes of one format: the one page, plus the appendix (evidence, citations, backtest)
when ``appendix`` is set.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from bot.services.icp.export.document import ExportDocument, load_document
from bot.services.icp.export.html import render_html
from bot.services.icp.export.markdown import render_markdown
from bot.services.icp.export.pdf import ExportError, render_pdf

Format = Literal["md", "html", "pdf"]
FORMATS: tuple[str, ...] = get_args(Format)
MIME = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf"}
SLACK_FILETYPE = {"md": "markdown", "html": "html", "pdf": "pdf"}

__all__ = [
    "FORMATS",
    "MIME",
    "SLACK_FILETYPE",
    "ExportDocument",
    "ExportError",
    "Format",
    "file_name",
    "load_document",
    "parse_format",
    "render",
]


def parse_format(word: str) -> Format | None:
    """``pdf``, ``.PDF``, ``markdown`` or ``htm`` as a format; None for anything else."""
    text = word.strip().lower().lstrip(".")
    text = {"markdown": "md", "htm": "html"}.get(text, text)
    return text if text in FORMATS else None  # type: ignore[return-value]


def render(doc: ExportDocument, fmt: Format, *, appendix: bool = False) -> bytes:
    if fmt == "md":
        return render_markdown(doc, appendix=appendix).encode("utf-8")
    if fmt == "html":
        return render_html(doc, appendix=appendix).encode("utf-8")
    return render_pdf(doc, appendix=appendix)


def file_name(doc: ExportDocument, fmt: Format) -> str:
    """``icp-mid-market-saas-v3.pdf``: ASCII only, safe on every file system."""
    slug = re.sub(r"[^a-z0-9]+", "-", doc.icp.name.lower()).strip("-")[:50] or "icp"
    return f"icp-{slug}-v{doc.version}.{fmt}"
