"""Block Kit for interviews: the invitation, a question, the end, reminders and `/icp status`.

Pure functions of plain values (no store, no Slack client) so they are cheap to test and every
message the interview sends is checked against Slack's Block Kit models in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.views.blocks_text import escape

#: The Start button of an invitation or a reminder; its value is the interview id.
START_INTERVIEW = "icp_interview_start"

COMMANDS_HELP = "Reply in a message · `skip` · `back` · `pause` · `done`"
SECTION_LIMIT = 3000
MAX_BLOCKS = 50


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message to post: the notification/fallback text and the blocks."""

    text: str
    blocks: list[Block]


def _section(text: str) -> SectionBlock:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _start_button(interview_id: int, label: str) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=label,
                action_id=START_INTERVIEW,
                value=str(interview_id),
                style="primary",
            )
        ]
    )


def _questions_phrase(total: int) -> str:
    return f"{total} short question{'s' if total != 1 else ''}"


def invitation_message(
    *, interview_id: int, inviter_id: str | None, role_title: str, intro: str, total: int
) -> SlackMessage:
    """The DM that invites someone: who asked, why, how long, and a Start button."""
    who = f"<@{inviter_id}> would like your view" if inviter_id else "I would like your view"
    text = f"{who} on our Ideal Customer Profile: {_questions_phrase(total)}, a few minutes."
    body = (
        f"{who} on our *Ideal Customer Profile*: which customers we win, keep and should go after.\n"
        f"{escape(intro)}\n\n"
        f"{_questions_phrase(total)} for *{escape(role_title)}*, a few minutes in all. "
        "Answer in plain messages right here; you can `pause` and pick up days later."
    )
    return SlackMessage(
        text=text,
        blocks=[
            _section(body),
            _start_button(interview_id, "Start"),
            _context("Answers are stored for this workspace's ICP work and can be erased on request."),
        ],
    )


def started_invitation_message(*, role_title: str, total: int, resumed: bool = False) -> SlackMessage:
    """What the invitation (or reminder) becomes once pressed: no button to press twice."""
    if resumed:
        text = "Interview resumed: your question is below."
    else:
        text = (
            f"Interview started: {_questions_phrase(total)} for {escape(role_title)}, the first one is below."
        )
    return SlackMessage(text=text, blocks=[_section(f":white_check_mark: {text}")])


def question_message(
    *, number: int, total: int, text: str, hint: str | None = None, note: str | None = None
) -> SlackMessage:
    """One question with its progress ("Question 3 of 8"), an optional hint and a note before it."""
    blocks: list[Block] = []
    if note:
        blocks.append(_context(escape(note)))
    blocks.append(_section(f"*Question {number} of {total}*\n{escape(text)}"))
    footer = COMMANDS_HELP if not hint else f"_{escape(hint)}_\n{COMMANDS_HELP}"
    blocks.append(_context(footer))
    fallback = f"Question {number} of {total}: {escape(text)}"
    return SlackMessage(text=fallback, blocks=blocks)


def completion_message(*, answered: int, total: int) -> SlackMessage:
    """The end of an interview, early (`done`) or after the last question."""
    if answered == 0:
        text = "Interview closed without answers. Thanks for your time!"
        detail = (
            "Nothing was recorded. If you change your mind, ask for a new interview with `/icp interview me`."
        )
    else:
        text = f"That's it, thank you! You answered {answered} of {total} questions."
        detail = "Your answers go into drafting our Ideal Customer Profile alongside the CRM data."
    return SlackMessage(text=text, blocks=[_section(f":tada: *{escape(text)}*\n{detail}")])


def paused_message(*, number: int, total: int) -> SlackMessage:
    text = f"Paused at question {number} of {total}. Send any message when you want to go on."
    return SlackMessage(text=text, blocks=[_section(f":double_vertical_bar: {escape(text)}")])


def help_message() -> SlackMessage:
    text = (
        "Answer each question in a plain message. Commands: `skip` (next question), `back` "
        "(previous question), `pause` (stop for now, resume any time), `done` (finish early)."
    )
    return SlackMessage(text=text, blocks=[_section(text)])


def reminder_message(*, interview_id: int, started: bool, number: int, total: int) -> SlackMessage:
    """The gentle nudge for an unfinished interview; one button starts or resumes it."""
    if started:
        text = f"A gentle reminder: your ICP interview is waiting at question {number} of {total}."
        button = "Resume"
    else:
        text = f"A gentle reminder: your ICP interview ({_questions_phrase(total)}) is waiting."
        button = "Start"
    body = f"{escape(text)} No rush; it takes a few minutes, and `done` ends it whenever you like."
    return SlackMessage(text=text, blocks=[_section(body), _start_button(interview_id, button)])


StatusKind = Literal["finished", "in_progress", "paused", "not_started"]


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One stakeholder's latest interview, as `/icp status` shows it."""

    user_id: str
    role_title: str
    kind: StatusKind
    answered: int
    total: int
    number: int  # the question they are on (1-based)
    last_activity: datetime


def _when(moment: datetime) -> str:
    """A Slack date token: shown in the reader's own time zone and language."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}}|{moment:%Y-%m-%d}>"


def _status_line(row: StatusRow) -> str:
    who = f"<@{row.user_id}> · {escape(row.role_title)}"
    if row.kind == "finished":
        return f"• {who} · {row.answered} of {row.total} answered · {_when(row.last_activity)}"
    if row.kind == "not_started":
        return f"• {who} · invited {_when(row.last_activity)}"
    paused = ", paused" if row.kind == "paused" else ""
    return (
        f"• {who} · question {row.number} of {row.total}{paused} · {row.answered} answered · "
        f"last active {_when(row.last_activity)}"
    )


def _chunks(lines: Sequence[str], limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def status_message(rows: Sequence[StatusRow]) -> SlackMessage:
    """Who finished, who is in progress and who has not started, within Block Kit's limits."""
    groups: list[tuple[str, list[StatusRow]]] = [
        ("Finished", [r for r in rows if r.kind == "finished"]),
        ("In progress", [r for r in rows if r.kind in ("in_progress", "paused")]),
        ("Not started", [r for r in rows if r.kind == "not_started"]),
    ]
    counts = ", ".join(f"{len(members)} {title.lower()}" for title, members in groups)
    text = f"Interviews: {counts}." if rows else "No interviews yet."
    blocks: list[Block] = [HeaderBlock(text="Interview status")]
    if not rows:
        blocks.append(_section("No interviews yet. Invite people with `/icp interview @name role=sales`."))
        return SlackMessage(text=text, blocks=blocks)
    blocks.append(_context(escape(text)))
    sections: list[str] = []
    for title, members in groups:
        if not members:
            continue
        lines = [f"*{title}* ({len(members)})", *(_status_line(r) for r in members)]
        sections.extend(_chunks(lines, SECTION_LIMIT))
    room = MAX_BLOCKS - len(blocks) - 1  # keep one block for the truncation note
    if len(sections) > room:
        blocks.extend(_section(chunk) for chunk in sections[:room])
        blocks.append(_context(f"List truncated: {len(sections) - room} more section(s) not shown."))
    else:
        blocks.extend(_section(chunk) for chunk in sections)
    return SlackMessage(text=text, blocks=blocks)


def invite_summary_message(
    *,
    invited: Sequence[str],
    already: Sequence[tuple[str, str]],
    failed: Sequence[tuple[str, str]],
    role_title: str | None,
    notes: Sequence[str] = (),
) -> SlackMessage:
    """What the person who ran `/icp interview` sees: who was invited, who was not and why."""
    lines: list[str] = [*notes]
    if invited:
        role = f" ({escape(role_title)} questions)" if role_title else ""
        people = ", ".join(f"<@{uid}>" for uid in invited)
        lines.append(f":envelope: Invited {people}{role}. They get a DM with a Start button.")
    for uid, why in already:
        lines.append(f"• <@{uid}> {escape(why)}")
    for uid, why in failed:
        lines.append(f":warning: Could not invite <@{uid}>: {escape(why)}")
    if not lines:
        lines.append("Nobody was invited.")
    text = "\n".join(lines)
    return SlackMessage(
        text=text,
        blocks=list[Block]([_section(chunk) for chunk in _chunks(lines, SECTION_LIMIT)])[:MAX_BLOCKS],
    )
