"""The ICP document as Markdown (GitHub-flavoured tables).

Every piece of document text is escaped: a persona called ``**[click](javascript:…)**`` or an
evidence quote holding ``<script>`` or ``| table breakers`` shows as typed, never as markup, and
a line break inside a quote cannot start a new heading or list.
"""

from __future__ import annotations

import re

from bot.services.icp.export.document import ExportDocument
from bot.services.icp.export.outline import Heading, Items, Para, Table, outline

# CommonMark lets any ASCII punctuation be backslash-escaped; these mean something anywhere in a line.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>|~!&])")
# ...and these only at the start of one (headings, lists, quotes, ordered lists, thematic breaks).
_LEADING = re.compile(r"^([#+\-=>]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """Plain text that renders as itself in Markdown (also inside a table cell), on one line."""
    flat = _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    match = _LEADING.match(flat)
    if match is None:
        return flat
    if match.group(1)[0].isdigit():
        end = match.end()
        return f"{flat[:end]}\\{flat[end:]}"
    return "\\" + flat


def render_markdown(doc: ExportDocument, *, appendix: bool = False) -> str:
    lines: list[str] = []
    first = True
    for element in outline(doc, appendix_too=appendix):
        if isinstance(element, Heading):
            if element.new_page:
                lines += ["---", ""]
            lines += [f"{'#' if first else '##'} {md_escape(element.text)}", ""]
            first = False
        elif isinstance(element, Para):
            text = md_escape(element.text)
            lines += [f"_{text}_" if element.small else f"**{text}**" if element.lead else text, ""]
        elif isinstance(element, Table):
            lines.append("| " + " | ".join(md_escape(h) for h in element.header) + " |")
            lines.append("|" + "|".join(" --- " for _ in element.header) + "|")
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in element.rows]
            lines.append("")
        elif isinstance(element, Items):
            lines += [f"- **{md_escape(lead)}**: {md_escape(text)}" for lead, text in element.items]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
