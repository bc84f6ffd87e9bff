"""Keep the vector store in step with the SQL store, which is the source of truth.

* ``sync_statistics`` regenerates a workspace's CRM statistic documents (after every import).
* ``reindex`` rebuilds one or every workspace's vectors from SQL (``icp reindex``): whatever has
  no SQL row any more (an erased answer, a workspace the database does not know) disappears.

Erasing a person (``icp forget``) lives in ``bot.services.privacy.forget``.

SQL is read in short units of work and vectors are computed after the session is closed, so a
slow embedding never holds the embedded SQLite database's write lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bot.knowledge.store import KINDS, Document, KnowledgeStore
from bot.services.crm.frames import load_crm_frames
from bot.services.knowledge.documents import (
    answer_document,
    icp_document,
    no_closed_deals_document,
    persona_document,
    statistic_documents_of,
)
from bot.store import session_scope
from bot.store.db import Engine, Session, read_scope
from bot.store.models import Workspace
from bot.store.repo import answers as answers_repo
from bot.store.repo import crm as crm_repo
from bot.store.repo import icp as icp_repo
from bot.store.repo import interviews as interviews_repo
from bot.store.repo import stakeholders as stakeholders_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import NotFoundError
from icp_engine.crm import CrmData
from icp_engine.stats import analyze


class KnowledgeSyncError(RuntimeError):
    """The SQL store and the vector store disagree and the message says how to fix it."""


def require_workspace(*, session: Session, workspace: str) -> Workspace:
    """The SQL workspace of a Slack team id; ``NotFoundError`` naming it when there is none."""
    found = workspaces_repo.get_workspace(session=session, slack_team_id=workspace)
    if found is None or found.id is None:
        raise NotFoundError(f"no workspace {workspace!r} in the database")
    return found


# -- statistics ----------------------------------------------------------------------------------


def _crm_of(session: Session, workspace_id: int) -> tuple[CrmData | None, int]:
    """The workspace's CRM frames and how many deals it has stored (open ones included).

    No frames (None) without a closed deal: nothing is analysed then, and loading every account
    of a large workspace (after an accounts import, say) would cost a gigabyte for nothing.
    """
    stored = crm_repo.count_crm_rows(session=session, workspace_id=workspace_id)["deals"]
    if not stored or not crm_repo.has_closed_deals(session=session, workspace_id=workspace_id):
        return None, stored
    return load_crm_frames(session=session, workspace_id=workspace_id), stored


def _statistics_from(crm: CrmData | None, stored_deals: int) -> list[Document]:
    closed = None if crm is None else crm.closed
    if crm is None or closed is None or closed.empty:
        return [no_closed_deals_document(stored_deals)] if stored_deals else []
    return statistic_documents_of(analyze(closed, crm.accounts, attributes=crm.attributes))


def statistic_documents(*, session: Session, workspace_id: int) -> list[Document]:
    """One statistic document per significant segment of the workspace's CRM data.

    Nothing significant gives one document saying so plainly; deals but none closed with a known
    account gives one document saying that; no deals at all gives no document.
    """
    return _statistics_from(*_crm_of(session, workspace_id))


def _statistics_of(engine: Engine, workspace: str) -> list[Document]:
    """Read in a read-only unit of work (no SQLite write lock, however long), compute after it."""
    with read_scope(engine) as session:
        ws = require_workspace(session=session, workspace=workspace)
        assert ws.id is not None
        crm, stored = _crm_of(session, ws.id)
    return _statistics_from(crm, stored)


def sync_statistics(*, engine: Engine, knowledge: KnowledgeStore, workspace: str) -> int:
    """Replace the workspace's statistic documents with fresh ones; returns how many there are now.

    Statistics are computed before the vector store is touched, so bad data changes nothing; the
    old documents are then deleted and the new ones added (a reader may briefly see none).
    """
    return replace_statistics(
        knowledge=knowledge, workspace=workspace, docs=_statistics_of(engine, workspace)
    )


def refresh_statistics(
    *, engine: Engine, knowledge: Callable[[], KnowledgeStore | None], workspace: str
) -> int | str:
    """``sync_statistics`` after a write (an import, a CRM sync): how many summaries there are now,
    or why they could not be regenerated. Never raises: the write is committed either way, and
    ``icp reindex`` rebuilds the summaries from SQL later."""
    try:
        store = knowledge()
        if store is None:
            return "no knowledge store is configured"
        return sync_statistics(engine=engine, knowledge=store, workspace=workspace)
    except Exception as exc:  # reported by the caller, never a traceback: the data is safely in SQL
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        return f"{reason}; run `icp reindex --workspace {workspace}` to rebuild them"


def workspace_statistics(*, engine: Engine, workspace: str) -> list[Document]:
    """The workspace's statistic documents, computed from SQL alone (so another process can do it)."""
    return _statistics_of(engine, workspace)


def replace_statistics(*, knowledge: KnowledgeStore, workspace: str, docs: list[Document]) -> int:
    """Swap the workspace's statistic documents for ``docs``; returns how many there are now."""
    knowledge.delete(workspace=workspace, kind="statistic")
    if docs:
        knowledge.add_documents(workspace=workspace, docs=docs)
    return len(docs)


# -- reindex -------------------------------------------------------------------------------------


def _answer_documents(session: Session, workspace_id: int) -> list[Document]:
    people = {
        p.id: p for p in stakeholders_repo.list_stakeholders(session=session, workspace_id=workspace_id)
    }
    answers = answers_repo.list_answers(session=session, workspace_id=workspace_id)
    question_keys: dict[int, str] = {}
    for interview_id in sorted({a.interview_id for a in answers if a.question_id is not None}):
        for question in interviews_repo.list_questions(
            session=session, workspace_id=workspace_id, interview_id=interview_id
        ):
            assert question.id is not None
            question_keys[question.id] = question.question_key
    docs = []
    for answer in answers:
        doc = answer_document(
            answer=answer,
            stakeholder=people[answer.stakeholder_id],
            question_key=question_keys.get(answer.question_id) if answer.question_id else None,
        )
        if doc is not None:
            docs.append(doc)
    return docs


def _icp_documents(session: Session, workspace_id: int) -> list[Document]:
    docs = []
    for version in icp_repo.list_icp_versions(session=session, workspace_id=workspace_id):
        assert version.id is not None
        docs.append(icp_document(version))
        for persona in icp_repo.list_personas(
            session=session, workspace_id=workspace_id, icp_version_id=version.id
        ):
            docs.append(persona_document(persona, version))
    return docs


def _documents_of(engine: Engine, workspace_id: int) -> list[Document]:
    """Everything of one workspace that belongs in the vector store, built from SQL."""
    with session_scope(engine) as session:
        answers = _answer_documents(session, workspace_id)
        icps = _icp_documents(session, workspace_id)
        crm, stored = _crm_of(session, workspace_id)
    return [*answers, *_statistics_from(crm, stored), *icps]


def _offset_progress(
    on_progress: Callable[[int, int | None], None], before: int, *, last: bool
) -> Callable[[int, int | None], None]:
    """One workspace's count as part of the whole: chunks of earlier workspaces added."""

    def report(done: int, total: int | None) -> None:
        on_progress(before + done, before + total if last and total is not None else None)

    return report


def _indexed_workspaces(knowledge: KnowledgeStore) -> set[str]:
    """Workspaces that have collections in the vector store (each collection records its owner)."""
    found: set[str] = set()
    for collection in knowledge.client.list_collections():
        owner = (collection.metadata or {}).get("workspace")
        if collection.name.startswith("icp-") and isinstance(owner, str) and owner:
            found.add(owner)
    return found


def reindex(
    *,
    engine: Engine,
    knowledge: KnowledgeStore,
    workspace: str | None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> dict[str, int]:
    """Rebuild the vectors of one workspace (or all) from SQL; returns documents per kind.

    The result also holds ``chunks`` (vectors written), ``workspaces`` (rebuilt) and
    ``orphan_workspaces`` (emptied because the database does not know them; only for all).
    ``on_progress(embedded, total)`` counts chunks embedded over all workspaces; the total is
    only known (not None) while the last workspace is embedded, as each is read in turn.
    """
    with session_scope(engine) as session:
        if workspace is None:
            targets = [(w.slack_team_id, w.id) for w in workspaces_repo.list_workspaces(session=session)]
        else:
            ws = require_workspace(session=session, workspace=workspace)
            targets = [(ws.slack_team_id, ws.id)]
    totals: Counter[str] = Counter({kind: 0 for kind in KINDS})
    for position, (team_id, workspace_id) in enumerate(targets, start=1):
        assert workspace_id is not None
        docs = _documents_of(engine, workspace_id)
        report = None
        if on_progress is not None:
            report = _offset_progress(on_progress, totals["chunks"], last=position == len(targets))
        totals["chunks"] += knowledge.rebuild(workspace=team_id, docs=docs, on_progress=report)
        totals.update(doc.kind for doc in docs)
    totals["workspaces"] = len(targets)
    totals["orphan_workspaces"] = 0
    if workspace is None:
        known = {team_id for team_id, _ in targets}
        for orphan in sorted(_indexed_workspaces(knowledge) - known):
            knowledge.rebuild(workspace=orphan, docs=[])
            totals["orphan_workspaces"] += 1
    return dict(totals)
