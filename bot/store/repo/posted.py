"""Where the bot's posted messages quote or name people, and who agreed to be named in chat.

Both exist for erasure and privacy: ``posted_quote`` rows say which messages ``chat.update`` must
redact when a person is forgotten; ``stakeholder.names_allowed`` says whether chat outside an
owner's DM may name them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.store.models import PostedQuote, Stakeholder
from bot.store.repo._sql import insert_for, table_of
from bot.store.types import utcnow


def record_posted(
    *,
    session: Session,
    workspace_id: int,
    channel: str,
    ts: str,
    kind: str,
    people: Iterable[str],
    version_id: int | None = None,
) -> int:
    """One row per person the message quotes or names; a repeat of the same message adds nothing."""
    added = 0
    for person in sorted(set(people)):
        stmt = (
            insert_for(session, table_of(PostedQuote))
            .values(
                workspace_id=workspace_id,
                slack_user_id=person,
                channel=channel,
                ts=ts,
                kind=kind,
                version_id=version_id,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        added += int(session.exec(stmt).rowcount or 0)
    return added


def posted_about(*, session: Session, workspace_id: int, slack_user_id: str) -> list[PostedQuote]:
    """The messages that quote or name the person, oldest first."""
    return list(
        session.exec(
            select(PostedQuote)
            .where(PostedQuote.workspace_id == workspace_id, PostedQuote.slack_user_id == slack_user_id)
            .order_by(col(PostedQuote.id))
        )
    )


def forget_posted(*, session: Session, workspace_id: int, ids: list[int]) -> int:
    """Drop the rows of messages that were redacted."""
    if not ids:
        return 0
    result = session.exec(
        delete(PostedQuote).where(col(PostedQuote.workspace_id) == workspace_id, col(PostedQuote.id).in_(ids))
    )
    return int(result.rowcount or 0)


def set_names_allowed(*, session: Session, person: Stakeholder, allowed: bool) -> None:
    person.names_allowed = allowed
    person.updated_at = utcnow()
    session.add(person)


def people_allowing_names(*, session: Session, workspace_id: int) -> set[str]:
    """Slack ids of the stakeholders who agreed to be named in chat."""
    rows = session.exec(
        select(Stakeholder.slack_user_id).where(
            Stakeholder.workspace_id == workspace_id, col(Stakeholder.names_allowed).is_(True)
        )
    )
    return set(rows)
