"""The ICP document as one self-contained HTML page (inline CSS, no scripts, no remote assets).

All document text goes through ``html.escape`` (quotes included), so names and quotes typed in
Slack can never become markup; the page prints on one A4/Letter sheet for a typical ICP.
"""

from __future__ import annotations

from html import escape

from bot.services.icp.export.document import ExportDocument
from bot.services.icp.export.outline import Heading, Items, Para, Table, outline

STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:11px;color:#1d1d1f;
max-width:780px;margin:24px auto;line-height:1.35}
h1{font-size:20px;margin:0 0 4px}h2{font-size:13px;margin:14px 0 4px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:2px 6px;vertical-align:top;
border-bottom:1px solid #eee}th{background:#f5f5f7}.small{color:#666;font-size:10px}
ul{margin:0;padding-left:18px}p{margin:4px 0}
.appendix{margin-top:28px}
@media print{body{margin:0}.appendix{break-before:page}}
""".strip()


def _e(text: str) -> str:
    return escape(str(text), quote=True)


def render_html(doc: ExportDocument, *, appendix: bool = False) -> str:
    parts: list[str] = []
    first = True
    for element in outline(doc, appendix_too=appendix):
        if isinstance(element, Heading):
            tag = "h1" if first else "h2"
            cls = ' class="appendix"' if element.new_page else ""
            parts.append(f"<{tag}{cls}>{_e(element.text)}</{tag}>")
            first = False
        elif isinstance(element, Para):
            cls = ' class="small"' if element.small else ""
            text = f"<strong>{_e(element.text)}</strong>" if element.lead else _e(element.text)
            parts.append(f"<p{cls}>{text}</p>")
        elif isinstance(element, Table):
            total = sum(element.widths) or 1
            head = "".join(
                f'<th style="width:{w / total:.0%}">{_e(h)}</th>'
                for h, w in zip(element.header, element.widths, strict=True)
            )
            body = "".join(
                "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in element.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(element, Items):
            items = "".join(
                f"<li><strong>{_e(lead)}</strong>: {_e(text)}</li>" for lead, text in element.items
            )
            parts.append(f"<ul>{items}</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(doc.title)} (v{doc.version})</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
