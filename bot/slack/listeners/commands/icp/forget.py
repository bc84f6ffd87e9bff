"""``/icp forget @user confirm``: erase what a person said in interviews (ICP owners only).

Erasure is permanent, so the first call only says what will go and how to confirm. The SQL rows
go in one transaction with an audit entry (naming the person, never the content); then their
vectors leave the knowledge store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.services.knowledge.sync import KnowledgeSyncError
from bot.services.privacy.forget import forget_person
from bot.slack.listeners.commands.icp.args import mrkdwn_escape
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.mentions import PersonError, lookup_for, take_person
from bot.slack.messaging.redact import redact_posted
from bot.store.repo.errors import NotFoundError

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.knowledge.store import KnowledgeStore
    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)
CONFIRM_WORDS = frozenset({"confirm", "--yes", "yes"})
USAGE = "Usage: `/icp forget @person confirm` (a mention, a user id, or their @name)."


@subcommand(
    "forget",
    summary="Erase everything a person said in interviews (answers and their search index).",
    usage="forget @person [confirm]",
    examples=("forget @ana", "forget @ana confirm"),
    owner_only=True,
)
def forget(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    if not req.args:
        respond(text=USAGE)
        return
    try:
        found = take_person(
            req.args, 0, lookup_for(client, req.team_id), stop=lambda word: word.lower() in CONFIRM_WORDS
        )
    except PersonError as exc:
        respond(text=f"{exc} {USAGE}")
        return
    if found is None:
        respond(text=f"I can't tell who `{mrkdwn_escape(req.args[0][:40])}` is. {USAGE}")
        return
    person, used = found
    if not CONFIRM_WORDS & {word.lower() for word in req.args[used:]}:
        respond(
            text=(
                f"This permanently erases everything <@{person}> said in interviews: their answers, "
                "the follow-up questions and summaries built from them, and their entries in the "
                f"search index. The audit log keeps only that it happened. To go ahead: `/icp forget <@{person}> confirm`"
            )
        )
        return
    knowledge = ctx.knowledge
    if knowledge is None:
        respond(text="The knowledge store is not configured here, so nothing was erased. Ask an operator.")
        return
    try:
        answers, interviews, vectors = erase(
            ctx, knowledge, team_id=req.team_id, person=person, actor=req.user_id
        )
    except NotFoundError:
        respond(text=f"I have nothing stored from <@{person}>, so there was nothing to erase.")
        return
    except VectorsLeft as exc:
        log.warning("forget %s: vectors not deleted: %s", person, exc)
        respond(
            text=(
                f"<@{person}>'s answers were erased from the database, but their search index entries "
                "could not be removed just now. Run `/icp forget` for them again to finish."
            )
        )
        return
    redacted, left = redact_posted(client, ctx.engine, team_id=req.team_id, slack_user_id=person)
    messages = f" I redacted {redacted} message(s) of mine that quoted or named them." if redacted else ""
    if left:
        messages += f" {left} message(s) could not be redacted just now; run `/icp forget` for them again."
    respond(
        text=(
            f"Done: erased {answers} answer(s) from {interviews} interview(s) by <@{person}>, "
            f"and {vectors} search index entr{'y' if vectors == 1 else 'ies'}.{messages}"
        )
    )


class VectorsLeft(RuntimeError):
    """The SQL half of an erasure is done; the vector half failed and must be retried."""


def erase(
    ctx: AppContext, knowledge: KnowledgeStore, *, team_id: str, person: str, actor: str
) -> tuple[int, int, int]:
    """(answers, interviews, vectors) erased by the knowledge sync service (SQL, then vectors)."""
    try:
        result = forget_person(
            engine=ctx.engine, knowledge=knowledge, workspace=team_id, slack_user_id=person, actor=actor
        )
    except KnowledgeSyncError as exc:
        raise VectorsLeft(str(exc)) from exc
    return result.answers, result.interviews, result.vectors
