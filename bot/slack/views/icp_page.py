"""The one-page ICP in Block Kit, for `/icp show` and the App Home: the export's outline, as blocks.

Pure: outline elements in, blocks out. Each heading starts a section holding what follows it
(tables and labelled items become "• *lead*: text" lines), packed under Slack's 3,000 characters
per section and a block budget; lines that do not fit are counted in a context line. Every text
is escaped, since persona names, pains and reasons are typed by people or written by the LLM.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from bot.services.icp.export.outline import Element, Heading, Items, Para, Table
from bot.slack.views.blocks_text import HEADER_TEXT_MAX, context, escape, line_sections, plural, truncate

EMPTY_CELLS = frozenset({"", "—"})


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(" ".join(text.split()), HEADER_TEXT_MAX)))


def _table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        lead, *rest = row
        tail = " · ".join(escape(cell) for cell in rest if cell not in EMPTY_CELLS)
        lines.append(f"• *{escape(lead)}*" + (f": {tail}" if tail else ""))
    return lines


def _lines(element: Element) -> list[str]:
    if isinstance(element, Table):
        return _table_lines(element)
    if isinstance(element, Items):
        return [f"• *{escape(lead)}*: {escape(text)}" for lead, text in element.items]
    if isinstance(element, Para):
        text = escape(element.text)
        return [f"_{text}_" if element.small else f"*{text}*" if element.lead else text]
    return []


def page_blocks(elements: Sequence[Element], *, max_blocks: int, title: str | None = None) -> list[Block]:
    """The elements as blocks (at most ``max_blocks``): ``title`` (else the first heading) as a
    header, then one or more sections per heading."""
    groups: list[tuple[str, list[str]]] = [("", [])]
    first_heading = True
    for element in elements:
        if isinstance(element, Heading):
            if first_heading:
                first_heading = False
                title = title or element.text
                continue
            groups.append((f"*{escape(element.text)}*", []))
        else:
            groups[-1][1].extend(_lines(element))
    blocks: list[Block] = [header(title)] if title else []
    left = 0
    for index, (heading, lines) in enumerate(groups):
        if not heading and not lines:
            continue
        # Keep one block for each group still to come, and one for the count of what was cut.
        room = max_blocks - len(blocks) - (len(groups) - index - 1) - 1
        body, dropped = line_sections(heading, lines, max_blocks=max(room, 0))
        blocks += body
        left += dropped
    if left:
        blocks.append(context(f"{plural(left, 'more line')} did not fit here; `/icp export` has the page."))
    return blocks[:max_blocks]
