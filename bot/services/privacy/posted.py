"""The bot's own posted messages that quote or name a person, and consent to be named in chat.

Slack keeps what the bot posted; the Slack layer records each such message here after posting
it and, when the person is forgotten, redacts it with ``chat.update`` and marks it done here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.db import Engine, read_scope, session_scope
from bot.store.repo import posted as posted_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import NotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PostedRef:
    """Where one message is; ``kind`` (draft, chat) says how to redact it."""

    id: int
    channel: str
    ts: str
    kind: str
    version_id: int | None


def record_posted(
    *,
    engine: Engine,
    team_id: str,
    channel: str,
    ts: str,
    kind: str,
    people: Iterable[str],
    version_id: int | None = None,
) -> None:
    """Remember that this message quotes or names ``people``; best effort (logged, never raised)."""
    people = [p for p in people if p]
    if not people or not channel or not ts:
        return
    try:
        with session_scope(engine) as session:
            ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
            if ws is None or ws.id is None:
                return
            posted_repo.record_posted(
                session=session,
                workspace_id=ws.id,
                channel=channel,
                ts=ts,
                kind=kind,
                people=people,
                version_id=version_id,
            )
    except Exception:  # the message is out; losing its record only weakens a later redaction
        log.exception("could not record posted message %s in %s", ts, channel)


def posted_about(*, engine: Engine, team_id: str, slack_user_id: str) -> list[PostedRef]:
    """The messages still to redact for the person."""
    with read_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        if ws is None or ws.id is None:
            return []
        rows = posted_repo.posted_about(session=session, workspace_id=ws.id, slack_user_id=slack_user_id)
        return [PostedRef(r.id, r.channel, r.ts, r.kind, r.version_id) for r in rows if r.id is not None]


def mark_redacted(*, engine: Engine, team_id: str, ids: list[int]) -> None:
    """Forget the rows of messages that were redacted (failed ones stay, for the next attempt)."""
    with session_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        if ws is not None and ws.id is not None:
            posted_repo.forget_posted(session=session, workspace_id=ws.id, ids=ids)


def set_names_allowed(*, engine: Engine, team_id: str, slack_user_id: str, allowed: bool) -> None:
    """The person's own choice; ``NotFoundError`` when they were never interviewed."""
    with session_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        person = (
            stakeholders_repo.get_stakeholder(
                session=session, workspace_id=ws.id, slack_user_id=slack_user_id
            )
            if ws is not None and ws.id is not None
            else None
        )
        if person is None:
            raise NotFoundError(f"{slack_user_id} has not been interviewed here")
        posted_repo.set_names_allowed(session=session, person=person, allowed=allowed)


def people_allowing_names(*, engine: Engine, team_id: str) -> frozenset[str]:
    with read_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=team_id)
        if ws is None or ws.id is None:
            return frozenset()
        return frozenset(posted_repo.people_allowing_names(session=session, workspace_id=ws.id))
