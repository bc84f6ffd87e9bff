"""Closing a review: the decision modal, its reading, the check-in DM and thanks, the thread note.

Pure functions. The modal asks for a decision (keep, adopt the re-learned proposal, edit) and a
note, below this round's check-in answers (the modal is the owner's alone, so they may be shown
verbatim there and nowhere else); its private metadata carries the reminder id and the kit message
(channel, ts) so the submission can answer in the kit's thread. Every user text is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from bot.services.reviews.checkins import CheckinAnswer
from bot.services.reviews.decisions import DECISION_WORDS, NOTE_MAX, Decision
from bot.slack.views.blocks_text import SECTION_TEXT_MAX, escape, section, truncate

REVIEW_DECISION = "icp_review_decision"
DECISION_BLOCK = "review_decision"
DECISION_ACTION = "decision"
NOTE_BLOCK = "review_note"
NOTE_ACTION = "note"
CHECKIN_QUESTIONS = (
    "Since the last review, which deals went differently from what the ICP predicts?",
    "Is there a kind of customer we now win, or lose, that the ICP does not describe?",
)
CHECKINS_SHOWN = 20  # answers in the modal (each its own section); the rest are counted
ANSWER_MAX = SECTION_TEXT_MAX - 200  # room for who said it


@dataclass(frozen=True)
class DecisionTarget:
    """Which reminder the decision closes, and the kit message to answer under."""

    reminder_id: int
    channel: str = ""
    message_ts: str = ""

    def encode(self) -> str:
        return json.dumps(
            {"r": self.reminder_id, "c": self.channel, "t": self.message_ts}, separators=(",", ":")
        )

    @classmethod
    def decode(cls, raw: str) -> DecisionTarget:
        """ValueError for anything :meth:`encode` did not write."""
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            raise ValueError("not a decision target") from None
        if not isinstance(data, dict):
            raise ValueError("not a decision target")
        rid, channel, ts = data.get("r"), data.get("c", ""), data.get("t", "")
        if not isinstance(rid, int) or isinstance(rid, bool) or rid <= 0:
            raise ValueError("bad reminder id")
        if not isinstance(channel, str) or not isinstance(ts, str):
            raise ValueError("bad message")
        return cls(rid, channel, ts)


def checkin_blocks(checkins: Sequence[CheckinAnswer]) -> list[Block]:
    """This round's check-ins for the owner: each answer (escaped, cut to fit) under who gave it."""
    if not checkins:
        return []
    answered = [c for c in checkins if c.answer is not None]
    blocks: list[Block] = [
        section(f"*Check-ins*: {len(answered)} of {len(checkins)} answered (shown to owners only, here)")
    ]
    for item in answered[:CHECKINS_SHOWN]:
        who = (
            f"*{escape(truncate(item.who, 100))}* (<@{item.slack_user_id}>)"
            if item.who
            else f"<@{item.slack_user_id}>"
        )
        blocks.append(section(f"{who}: “{truncate(escape(item.answer or ''), ANSWER_MAX)}”"))
    if len(answered) > CHECKINS_SHOWN:
        blocks.append(section(f"…and {len(answered) - CHECKINS_SHOWN} more answer(s)"))
    waiting = [f"<@{c.slack_user_id}>" for c in checkins if c.answer is None]
    if waiting:
        blocks.append(section(truncate("Not answered yet: " + ", ".join(waiting), SECTION_TEXT_MAX)))
    return blocks


def decision_modal(
    target: DecisionTarget, *, icp_name: str | None = None, checkins: Sequence[CheckinAnswer] = ()
) -> View:
    """The owner closes the review: a decision and a note, with what the check-ins said."""
    about = f" of *{escape(truncate(icp_name, 200))}*" if icp_name else ""
    options = [
        Option(value=d.value, text=PlainTextObject(text=DECISION_WORDS[d].capitalize())) for d in Decision
    ]
    blocks: list[Block] = [
        section(f"Close the review{about}: what did you decide? It goes in the ICP's change log."),
        *checkin_blocks(checkins),
        InputBlock(
            block_id=DECISION_BLOCK,
            label=PlainTextObject(text="Decision"),
            element=RadioButtonsElement(
                action_id=DECISION_ACTION, options=options, initial_option=options[0]
            ),
        ),
        InputBlock(
            block_id=NOTE_BLOCK,
            optional=True,
            label=PlainTextObject(text="Note (why)"),
            element=PlainTextInputElement(action_id=NOTE_ACTION, multiline=True, max_length=NOTE_MAX),
        ),
    ]
    return View(
        type="modal",
        callback_id=REVIEW_DECISION,
        title=PlainTextObject(text="Close the review"),
        submit=PlainTextObject(text="Record decision"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=target.encode(),
        blocks=blocks,
    )


def read_decision(values: Mapping[str, Any]) -> tuple[Decision, str] | dict[str, str]:
    """(decision, note) from the modal's ``state.values``, or errors by block id."""
    chosen = ((values.get(DECISION_BLOCK) or {}).get(DECISION_ACTION) or {}).get("selected_option") or {}
    try:
        decision = Decision(str(chosen.get("value", "")))
    except ValueError:
        return {DECISION_BLOCK: "Pick a decision."}
    note = ((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or ""
    return decision, str(note)


def closed_text(user: str, decision: Decision, note: str, version: int | None, next_run: datetime) -> str:
    """The kit thread's note: who closed the review, the decision and note, the next reminder."""
    about = f" v{version}" if version is not None else ""
    text = f"<@{user}> closed the review of the ICP{about}: *{escape(DECISION_WORDS[decision])}*"
    if note:
        text += f" — “{escape(truncate(note, NOTE_MAX))}”"
    when = f"<!date^{int(next_run.timestamp())}^{{date_short}}|{next_run:%Y-%m-%d}>"
    text += f". Recorded in the change log; next reminder {when}."
    if decision is Decision.adopt:
        text += " Drafting the re-learned proposal as the next version now: approve it from its card."
    elif decision is Decision.edit:
        text += " Edit the current version from its draft card (Edit), or with `/icp draft`."
    return text


def checkin_text(owner: str, icp_name: str | None) -> str:
    """The two-question check-in DM a stakeholder gets when a review starts."""
    about = f" *{escape(truncate(icp_name, 200))}*" if icp_name else ""
    questions = "\n".join(f"{i}. {q}" for i, q in enumerate(CHECKIN_QUESTIONS, start=1))
    return (
        f"<@{owner}> started a review of the ICP{about}. You were interviewed for it, so two quick "
        f"questions:\n{questions}\nPlease reply right here in this DM, a sentence or two (one message "
        f"answering both is fine). Only the ICP owners see it, when they close the review; it is never "
        "posted in a channel."
    )


def checkin_thanks(owner: str) -> str:
    """The reply to a stakeholder's check-in answer."""
    return f"Thanks — I've added this to the review <@{owner}> started."
