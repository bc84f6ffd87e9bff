"""Block Kit for CSV imports in a DM: the result (summary or rejected rows), the "which kind?"
question, and the short notes (refusals, wrong file type, too large, progress).

Pure functions of plain values and an ``ImportSummary``, so every message an upload can produce is
checked against Slack's Block Kit models in unit tests. Long lists (rejected rows, data-quality
findings) are cut to a readable few with "... and K more"; every text respects Slack's limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.services.imports.kinds import KINDS
from bot.services.imports.service import ImportSummary
from bot.slack.views.blocks_text import (
    BUTTON_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    MAX_MESSAGE_BLOCKS,
    context,
    escape,
    line_sections,
    plural,
    section,
    truncate,
)
from bot.slack.views.interview import SlackMessage

KIND_LABELS: dict[str, str] = {"accounts": "Accounts", "deals": "Deals", "health": "Customer health"}
_NOUNS: dict[str, tuple[str, str]] = {
    "accounts": ("account", "accounts"),
    "deals": ("deal", "deals"),
    "health": ("health record", "health records"),
}

#: One button per kind ("import this file as ..."): action ids must differ within a block.
IMPORT_AS: dict[str, str] = {kind: f"icp_import_as_{kind}" for kind in KINDS}
#: Import the good rows of a rejected file (what ``--skip-bad-rows`` does on the command line).
SKIP_BAD_ROWS = "icp_import_skip_bad_rows"
#: Run the same import again (after a download problem, or once the accounts are in).
RETRY = "icp_import_retry"
#: After a failure: run it again as another kind of data (the answer stays, unlike the question).
RETRY_AS: dict[str, str] = {kind: f"icp_import_retry_as_{kind}" for kind in KINDS}
#: Every import button, for the listener's matcher.
ACTION_ID_PATTERN = re.compile(
    r"^icp_import_(?:as_(?:accounts|deals|health)|retry(?:_as_(?:accounts|deals|health))?|skip_bad_rows)$"
)

MAX_LISTED_ERRORS = 20
MAX_LISTED_FINDINGS = 20
_DETAILED_METHODS = ("fuzzy", "synonym", "unknown", "parsed")
_FILE_ID = re.compile(r"^F[A-Z0-9]{1,40}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")
_VALUE_PREFIX = "imp1"


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """What an import button carries: the Slack file, how to import it, where to answer."""

    file_id: str
    kind: str | None = None
    skip_bad_rows: bool = False
    thread_ts: str | None = None

    def encode(self) -> str:
        return "|".join(
            (
                _VALUE_PREFIX,
                self.file_id,
                self.kind or "",
                "1" if self.skip_bad_rows else "0",
                self.thread_ts or "",
            )
        )

    @classmethod
    def decode(cls, value: str) -> ImportTarget:
        """The target a button value describes; ``ValueError`` for anything not made by ``encode``."""
        parts = value.split("|")
        if len(parts) != 5 or parts[0] != _VALUE_PREFIX:
            raise ValueError("not an import button value")
        _, file_id, kind, skip, thread_ts = parts
        if not _FILE_ID.match(file_id) or kind not in ("", *KINDS) or skip not in ("0", "1"):
            raise ValueError("malformed import button value")
        if thread_ts and not _TS.match(thread_ts):
            raise ValueError("malformed thread timestamp in an import button value")
        return cls(file_id, kind or None, skip == "1", thread_ts or None)

    def with_kind(self, kind: str) -> ImportTarget:
        return ImportTarget(self.file_id, kind, self.skip_bad_rows, self.thread_ts)

    def skipping_bad_rows(self) -> ImportTarget:
        return ImportTarget(self.file_id, self.kind, True, self.thread_ts)


# -- short notes --------------------------------------------------------------------------------


def note(text: str) -> SlackMessage:
    """A one-section message (refusals, explanations, problems)."""
    return SlackMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=[section(text)])


def importing_note(*, file_name: str, kind: str, skip_bad_rows: bool) -> SlackMessage:
    """Said before a download starts: big exports take a while, silence would look like a hang."""
    extra = " (skipping bad rows)" if skip_bad_rows else ""
    text = f":hourglass_flowing_sand: Importing *{escape(file_name)}* as {KIND_LABELS[kind].lower()}{extra}…"
    return SlackMessage(
        text=truncate(f"Importing {escape(file_name)}…", FALLBACK_TEXT_MAX), blocks=[context(text)]
    )


def not_csv_text(*, file_name: str, filetype: str) -> str:
    """Why a file that is not a CSV was not imported, and what to send instead."""
    kind = f" ({escape(filetype)})" if filetype else ""
    spreadsheet = filetype.lower() in ("xlsx", "xls", "numbers", "gsheet", "ods")
    how = (
        "Save the sheet as CSV (File → Save as / Download → CSV, UTF-8) and share that file here."
        if spreadsheet
        else "Export accounts, deals or customer health from your CRM as a CSV file and share it here."
    )
    return f"I can only import CSV files, and *{escape(file_name)}*{kind} is not one. {how}"


# -- the kind question ------------------------------------------------------------------------


def kind_question(*, file_name: str, target: ImportTarget) -> SlackMessage:
    """Asked when neither the file name nor the comment says what the file holds."""
    text = (
        f"What is in *{escape(file_name)}*? Pick one and I'll import it. "
        "(Next time, name the file `accounts.csv`, `deals.csv` or `health.csv`, or say it in the "
        "message, and I won't need to ask.)"
    )
    buttons = [
        ButtonElement(
            text=KIND_LABELS[kind], action_id=IMPORT_AS[kind], value=target.with_kind(kind).encode()
        )
        for kind in KINDS
    ]
    return SlackMessage(
        text=truncate(
            f"What is in {escape(file_name)}: accounts, deals or customer health?", FALLBACK_TEXT_MAX
        ),
        blocks=[section(text), ActionsBlock(elements=buttons)],
    )


# -- the result -------------------------------------------------------------------------------


def result_message(
    summary: ImportSummary, *, target: ImportTarget, statistics: int | str | None = None
) -> SlackMessage:
    """The answer to an import: a summary when it worked, the rejected rows or the problem if not.

    ``statistics``: how many statistic summaries were regenerated, or why that failed (the data is
    safely in SQL either way), or None when nothing was written.
    """
    if summary.status == "imported":
        return _imported(summary, target, statistics)
    if summary.status == "unchanged":
        return _unchanged(summary)
    if summary.status == "rejected":
        return _rejected(summary, target)
    return _failed(summary, target)


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, HEADER_TEXT_MAX)))


def _counts(summary: ImportSummary) -> SectionBlock:
    pairs = (
        ("Added", summary.added),
        ("Updated", summary.updated),
        ("Unchanged", summary.unchanged),
        ("Rejected", summary.rejected),
    )
    return SectionBlock(
        fields=[
            MarkdownTextObject(text=truncate(f"*{name}*\n{value:,}", FIELD_TEXT_MAX)) for name, value in pairs
        ]
    )


def _rows_of(summary: ImportSummary, n: int) -> str:
    singular, many = _NOUNS.get(summary.kind, ("row", "rows"))
    return plural(n, singular, many)


def _imported(summary: ImportSummary, target: ImportTarget, statistics: int | str | None) -> SlackMessage:
    accepted = summary.rows - summary.rejected
    line = f":white_check_mark: Imported *{_rows_of(summary, accepted)}* from *{escape(summary.file)}*"
    if summary.import_run_id is not None:
        line += f" (run #{summary.import_run_id})"
    line += "."
    if summary.rejected:
        line += f" {plural(summary.rejected, 'row')} with errors were skipped; they are listed below."
    if summary.previous is not None:
        line += f"\nThis file was imported before, {escape(str(summary.previous))}."
    blocks: list[Block] = [_header(f"Imported {summary.file}"), section(line), _counts(summary)]
    footer = [_statistics_line(statistics, summary.workspace)] if statistics is not None else []
    blocks += _lists(
        summary, room=MAX_MESSAGE_BLOCKS - len(blocks) - len(footer), errors_title="Skipped rows"
    )
    if footer:
        blocks.append(context(*footer))
    return SlackMessage(
        text=truncate(escape(summary.message.strip()) or line, FALLBACK_TEXT_MAX), blocks=blocks
    )


def _unchanged(summary: ImportSummary) -> SlackMessage:
    said = summary.message.strip() or f"{summary.file}: already imported; nothing changed"
    line = f":information_source: {escape(said)}"
    blocks: list[Block] = [_header(f"Already imported: {summary.file}"), section(line), _counts(summary)]
    return SlackMessage(text=truncate(escape(said), FALLBACK_TEXT_MAX), blocks=blocks)


def _rejected(summary: ImportSummary, target: ImportTarget) -> SlackMessage:
    others = summary.rows - summary.rejected
    if summary.rows == 1:
        head = "Its only row was rejected, so nothing was imported."
    elif others <= 0:
        head = f"All {summary.rows:,} rows were rejected, so nothing was imported."
    else:
        head = f"{summary.rejected:,} of {summary.rows:,} rows were rejected, so nothing was imported."
    line = f":x: *{escape(summary.file)}*: {head} Fix the rows below and share the file again"
    line += (
        f", or import the other {_rows_of(summary, others)} with the button (or share the file with the "
        "comment `skip bad rows`)."
        if others > 0
        else "."
    )
    blocks: list[Block] = [_header(f"Nothing imported from {summary.file}"), section(line)]
    actions = (
        [
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=truncate(f"Import the other {others:,} rows", BUTTON_TEXT_MAX),
                        action_id=SKIP_BAD_ROWS,
                        value=target.skipping_bad_rows().encode(),
                        style="primary",
                    )
                ]
            )
        ]
        if others > 0
        else []
    )
    blocks += _lists(
        summary, room=MAX_MESSAGE_BLOCKS - len(blocks) - len(actions), errors_title="Rejected rows"
    )
    blocks += actions
    text = f"{escape(summary.file)}: {head}"
    return SlackMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=blocks)


def _failed(summary: ImportSummary, target: ImportTarget) -> SlackMessage:
    line = f":warning: {escape(summary.message.strip() or 'The import failed; nothing was imported.')}"
    buttons = [ButtonElement(text="Try again", action_id=RETRY, value=target.encode())]
    buttons += [
        ButtonElement(
            text=truncate(f"Import as {KIND_LABELS[kind].lower()}", BUTTON_TEXT_MAX),
            action_id=RETRY_AS[kind],
            value=target.with_kind(kind).encode(),
        )
        for kind in KINDS
        if kind != summary.kind
    ]
    blocks: list[Block] = [
        _header(f"Could not import {summary.file}"),
        section(line),
        context("Nothing was imported. Wrong kind of file? Import it as another kind with a button."),
        ActionsBlock(elements=buttons),
    ]
    return SlackMessage(
        text=truncate(escape(summary.message.strip()) or line, FALLBACK_TEXT_MAX), blocks=blocks
    )


def problem_message(text: str, *, target: ImportTarget | None = None) -> SlackMessage:
    """A problem before the import ran (the file could not be fetched); a retry button if useful."""
    blocks: list[Block] = [section(f":warning: {text}")]
    if target is not None:
        blocks.append(
            ActionsBlock(elements=[ButtonElement(text="Try again", action_id=RETRY, value=target.encode())])
        )
    return SlackMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=blocks)


def _statistics_line(statistics: int | str, workspace: str) -> str:
    if isinstance(statistics, int):
        return f"Statistics regenerated: {plural(statistics, 'summary', 'summaries')} in the knowledge store."
    return (
        f"Statistic summaries were not regenerated ({escape(statistics)}). The data is imported; "
        f"`icp reindex --workspace {escape(workspace)}` rebuilds them."
    )


def _lists(summary: ImportSummary, *, room: int, errors_title: str) -> list[Block]:
    """The rejected rows, then the data-quality findings, each cut to a few with a count of the rest."""
    blocks: list[Block] = []
    if summary.errors and room > 0:
        lines = [f"• {escape(str(e))}" for e in summary.errors[:MAX_LISTED_ERRORS]]
        listed, left = line_sections(f"*{errors_title}*", lines, max_blocks=max(1, room // 2))
        more = left + max(0, len(summary.errors) - MAX_LISTED_ERRORS)
        blocks += listed
        if more and len(blocks) < room:
            blocks.append(context(f"… and {more:,} more"))
    room -= len(blocks)
    quality = quality_lines(summary)
    if quality and room > 0:
        lines = [f"• {escape(q)}" for q in quality[:MAX_LISTED_FINDINGS]]
        listed, left = line_sections("*Data quality*", lines, max_blocks=max(1, room - 1))
        more = left + max(0, len(quality) - MAX_LISTED_FINDINGS)
        blocks += listed
        if more and room - len(listed) > 0:
            blocks.append(context(f"… and {more:,} more"))
    return blocks


def quality_lines(summary: ImportSummary) -> list[str]:
    """Findings, then value mappings: misspellings, synonyms, parsed and unknown values one by one;
    values read exactly (written differently) and derived values as one count per kind."""
    lines = list(summary.findings)
    lines += [m.describe(rows) for m, rows in summary.mappings if m.method in _DETAILED_METHODS]
    for method, label in (
        ("exact", "written differently, read exactly"),
        ("derived", "derived"),
        ("kept", "kept as written (no canonical match)"),
    ):
        group = [(m, rows) for m, rows in summary.mappings if m.method == method]
        if group:
            fields = ", ".join(sorted({m.field for m, _ in group}))
            total = sum(rows for _, rows in group)
            lines.append(f"{fields}: {plural(len(group), 'value')} {label} ({plural(total, 'row')})")
    return lines
