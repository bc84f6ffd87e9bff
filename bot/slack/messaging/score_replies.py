"""A score request from a shortcut, as the message that answers it (card, chooser or a note).

The same rules and words as ``/icp score``: a domain or a name is looked up in the workspace's
accounts (an ambiguous name gets the chooser, whose buttons score the pick), attributes are
scored as typed, and every error is a short escaped sentence, never a trace.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block

from bot.services.scoring.account_lookup import LookupResult
from bot.services.scoring.service import (
    NoIcpError,
    ScoreOutcome,
    ScoringError,
    parse_pairs,
    score_inline,
    score_query,
)
from bot.slack.views.blocks_text import escape, section
from bot.slack.views.score_card import (
    NO_ICP_TEXT,
    account_chooser,
    card_blocks,
    choices_of,
    chooser_text,
    not_found_text,
    outcome_text,
)

if TYPE_CHECKING:
    from bot.store.db import Engine


@dataclass(frozen=True)
class ScoreReply:
    text: str
    blocks: list[Block] = field(default_factory=list)
    outcome: ScoreOutcome | None = None  # set when the reply is a score card (counted in adoption)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: plain words, like /icp
        return text.split()


def _note(text: str) -> ScoreReply:
    return ScoreReply(text=text, blocks=[section(text)])


def score_reply(engine: Engine, *, team_id: str, query: str = "", attributes: str = "") -> ScoreReply:
    """Score ``attributes`` (``key=value`` words) when given, else look ``query`` up and score it."""
    try:
        if attributes:
            outcome: ScoreOutcome | LookupResult = score_inline(
                engine, team_id=team_id, pairs=parse_pairs(_words(attributes))
            )
        else:
            outcome = score_query(engine, team_id=team_id, query=query)
    except NoIcpError:
        return _note(NO_ICP_TEXT)
    except ScoringError as exc:  # may quote what was typed
        return _note(escape(str(exc)).replace("`", "'"))
    if isinstance(outcome, LookupResult):
        if outcome.status == "not_found" or not outcome.candidates:
            return _note(not_found_text(outcome.query, outcome.searched))
        blocks = account_chooser(outcome.query, choices_of(outcome), exact=outcome.exact, share=False)
        return ScoreReply(text=chooser_text(outcome.query), blocks=blocks)
    return ScoreReply(text=outcome_text(outcome), blocks=card_blocks(outcome), outcome=outcome)
