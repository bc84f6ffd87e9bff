"""Erase a person: their answers and review check-ins from SQL, the drafts that quoted them, then
their vectors.

Why its own domain: erasure reaches across interviews, drafted ICPs and the knowledge store, and
must leave no half-erased state that a later search could serve.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.store import KnowledgeStore
from bot.services.icp.drafting.privacy import scrub_person, scrub_words, search_documents
from bot.services.knowledge.sync import KnowledgeSyncError, require_workspace
from bot.services.redaction import Words
from bot.store import session_scope
from bot.store.db import Engine
from bot.store.repo import answers as answers_repo
from bot.store.repo import audit as audit_repo
from bot.store.repo import checkins as checkins_repo
from bot.store.repo import privacy as privacy_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo.errors import NotFoundError

#: Audit action recorded once a person's vectors are gone too (the SQL half records its own).
VECTORS_FORGOTTEN = "stakeholder.forget.vectors"


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """What ``forget_person`` erased: SQL rows and vector chunks (counts only, never content)."""

    answers: int
    questions: int
    interviews: int
    vectors: int
    checkins: int = 0


def forget_person(
    *, engine: Engine, knowledge: KnowledgeStore, workspace: str, slack_user_id: str, actor: str
) -> ForgetResult:
    """Erase a person's answers from SQL (with an audit entry, one transaction), then their vectors.

    An unknown workspace or person raises ``NotFoundError`` and changes nothing. If the vectors
    cannot be deleted after the SQL erasure is committed, ``KnowledgeSyncError`` says so and how
    to finish (``icp reindex`` drops vectors whose answers are gone; so does forgetting again).
    """
    with session_scope(engine) as session:
        ws = require_workspace(session=session, workspace=workspace)
        assert ws.id is not None
        workspace_id = ws.id
        person = stakeholders_repo.get_stakeholder(
            session=session, workspace_id=workspace_id, slack_user_id=slack_user_id
        )
        if person is None or person.id is None:
            raise NotFoundError(
                f"no person with Slack user id {slack_user_id!r} in workspace {workspace!r}; nothing was erased"
            )
        # Read what they said and how they are called before it goes: drafts may have copied it.
        words = Words.of(
            answers=[
                a.text
                for a in answers_repo.list_answers(
                    session=session, workspace_id=workspace_id, stakeholder_id=person.id
                )
            ],
            slack_user_id=slack_user_id,
            display_name=person.display_name,
        )
        counts = privacy_repo.forget_stakeholder(
            session=session, workspace_id=workspace_id, slack_user_id=slack_user_id, actor=actor
        )
        # Check-in answers were only ever shown to owners (never drafted from): the rows just go.
        checkins = checkins_repo.forget_checkins(
            session=session, workspace_id=workspace_id, slack_user_id=slack_user_id
        )
        # Drafts quote answers too: their citations and the statements resting on them go as well.
        scrubbed = scrub_person(session=session, workspace_id=workspace_id, slack_user_id=slack_user_id)
        copied = scrub_words(session=session, workspace_id=workspace_id, words=words)
        scrubbed.versions = sorted({*scrubbed.versions, *copied.versions})
        scrubbed.personas = sorted({*scrubbed.personas, *copied.personas})
        drafts = search_documents(session=session, workspace_id=workspace_id, version_ids=scrubbed.versions)
    try:
        vectors = knowledge.delete(workspace=workspace, stakeholder=slack_user_id, kind="answer")
        if scrubbed.personas:
            knowledge.delete(
                workspace=workspace, source_ids=[str(p) for p in scrubbed.personas], kind="persona"
            )
        if drafts:
            knowledge.add_documents(workspace=workspace, docs=drafts)
    except Exception as exc:
        raise KnowledgeSyncError(
            f"erased {counts.answers} answer(s) of {slack_user_id} from the database, but their vectors "
            f"could not be deleted ({type(exc).__name__}: {exc}); run `icp reindex --workspace {workspace}` "
            "to remove them"
        ) from exc
    with session_scope(engine) as session:
        audit_repo.append_audit(
            session=session,
            workspace_id=workspace_id,
            actor=actor,
            action=VECTORS_FORGOTTEN,
            target_type="stakeholder",
            target_id=slack_user_id,
            details={"vectors": vectors},
        )
    return ForgetResult(
        answers=counts.answers,
        questions=counts.questions,
        interviews=counts.interviews,
        vectors=vectors,
        checkins=checkins,
    )
