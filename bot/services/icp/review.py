"""Reviewing a drafted ICP: approve it, ask for changes, or edit its points into a new version.

No Slack here: the listeners call these with ids they checked and render what comes back.

* ``approve`` makes a draft the segment's active version (the previous one is superseded, in the
  same unit of work) and records the approver; the ICP documents in the vector store are rewritten
  afterwards so chat reads the new status.
* ``request_changes`` records the note in the audit log (the draft is unchanged) and says whom to
  tell: the draft's author.
* ``edit`` never rewrites a version: it stores a new draft version with the new points (removed
  bins gone, hypotheses given weight promoted to bins of their characteristic), backtested again on the CRM
  history, with the same personas, and audits what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.services.icp.drafting import DraftOutcome, load_draft
from bot.services.icp.drafting.check import summarise_backtest
from bot.services.icp.drafting.gather import GatherError, gather
from bot.services.icp.drafting.persist import draft_payload
from bot.services.knowledge.documents import icp_document, persona_document
from bot.store import session_scope
from bot.store.db import Engine, Session
from bot.store.models import DEFAULT_SEGMENT, IcpStatus, IcpVersion, IcpVersionCreate, PersonaCreate
from bot.store.repo import icp as icp_repo
from bot.store.repo.audit import append_audit, list_audit
from bot.store.repo.errors import ConflictError, InvalidTransitionError, NotFoundError
from bot.store.repo.sync import sync_soon
from bot.store.repo.workspaces import get_workspace
from bot.store.types import utcnow
from icp_engine.backtest import backtest
from icp_engine.model import ICP, ICPError

if TYPE_CHECKING:
    from bot.knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)

CHANGES_REQUESTED = "icp.changes_requested"
EDITED = "icp.edited"
MAX_POINTS = 100.0
NOTE_MAX = 2000
MAX_REQUESTS = 20


class ReviewError(ValueError):
    """The review step cannot be done; the message says why, for the person who asked."""


@dataclass(frozen=True)
class ChangeRequest:
    who: str
    note: str
    at: datetime


@dataclass(frozen=True)
class ReviewFacts:
    """What the draft message shows besides the draft itself."""

    status: IcpStatus
    author: str
    approver: str | None = None
    approved_at: datetime | None = None
    change_requests: tuple[ChangeRequest, ...] = ()
    successor: int | None = None  # the version number an edit of this one was saved as

    @property
    def open(self) -> bool:
        """Still up for review: not approved or superseded, and not edited into a newer version."""
        return self.status in icp_repo.EDITABLE and self.successor is None


@dataclass(frozen=True)
class DraftEdit:
    """An owner's changes: new points by criterion index, weights for hypotheses, removals."""

    points: Mapping[int, float] = field(default_factory=dict)
    hypothesis_points: Mapping[int, float] = field(default_factory=dict)
    removed: frozenset[int] = frozenset()
    note: str = ""


def _workspace_id(session: Session, team_id: str) -> int:
    ws = get_workspace(session=session, slack_team_id=team_id)
    if ws is None or ws.id is None:
        raise ReviewError("There is no ICP for this workspace yet.")
    return ws.id


def _version(session: Session, workspace_id: int, version_id: int) -> IcpVersion:
    try:
        return icp_repo.get_icp_version(session=session, workspace_id=workspace_id, version_id=version_id)
    except NotFoundError:
        raise ReviewError("That ICP version no longer exists; run `/icp draft` for a new one.") from None


def _requests(session: Session, workspace_id: int, version_id: int) -> tuple[ChangeRequest, ...]:
    entries = list_audit(session=session, workspace_id=workspace_id, action=CHANGES_REQUESTED, limit=500)
    found = [
        ChangeRequest(who=e.actor, note=str((e.details or {}).get("note") or ""), at=e.at)
        for e in entries
        if e.target_id == str(version_id)
    ]
    return tuple(reversed(found[:MAX_REQUESTS]))  # oldest first


def _facts(session: Session, workspace_id: int, row: IcpVersion, successor: int | None = None) -> ReviewFacts:
    assert row.id is not None
    return ReviewFacts(
        status=row.status,
        author=row.author,
        approver=row.approver,
        approved_at=row.approved_at,
        change_requests=_requests(session, workspace_id, row.id),
        successor=successor,
    )


def load_review(engine: Engine, *, team_id: str, version_id: int) -> tuple[DraftOutcome, ReviewFacts]:
    """A stored version as a draft with its review facts."""
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        facts = _facts(session, workspace_id, _version(session, workspace_id, version_id))
    try:
        return load_draft(engine=engine, workspace=team_id, version_id=version_id), facts
    except ICPError as exc:
        raise ReviewError(f"That ICP version cannot be read: {str(exc).splitlines()[0]}") from None


def _reindex(knowledge: KnowledgeStore | None, team_id: str, engine: Engine, version_ids: list[int]) -> None:
    """Rewrite the search copies of these versions (their status is in the text); best effort."""
    if knowledge is None or not version_ids:
        return
    try:
        with session_scope(engine) as session:
            workspace_id = _workspace_id(session, team_id)
            docs = []
            for version_id in version_ids:
                row = _version(session, workspace_id, version_id)
                docs.append(icp_document(row))
                personas = icp_repo.list_personas(
                    session=session, workspace_id=workspace_id, icp_version_id=version_id
                )
                docs += [persona_document(p, row) for p in personas]
        knowledge.add_documents(workspace=team_id, docs=docs)
    except Exception:  # the SQL change stands; `icp reindex` repairs the search copy
        log.exception("could not rewrite the search copies of ICP versions %s", version_ids)


def approve(
    engine: Engine, *, knowledge: KnowledgeStore | None, team_id: str, version_id: int, actor: str
) -> tuple[DraftOutcome, ReviewFacts]:
    """Make the version the segment's active ICP, approved by ``actor``."""
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        row = _version(session, workspace_id, version_id)
        if row.status == IcpStatus.approved:
            raise ReviewError(f"ICP v{row.version} is already approved (by <@{row.approver}>).")
        previous = icp_repo.get_active_icp(session=session, workspace_id=workspace_id, segment=row.segment)
        try:
            icp_repo.set_icp_status(
                session=session,
                workspace_id=workspace_id,
                version_id=version_id,
                status=IcpStatus.approved,
                actor=actor,
            )
        except (InvalidTransitionError, ConflictError) as exc:
            raise ReviewError(f"ICP v{row.version} cannot be approved: {exc}.") from None
        if row.segment == DEFAULT_SEGMENT:  # the CRM carries the primary segment's score: write it back soon
            sync_soon(session=session, workspace_id=workspace_id, at=utcnow())
    changed = [version_id] + ([previous.id] if previous is not None and previous.id is not None else [])
    _reindex(knowledge, team_id, engine, changed)
    return load_review(engine, team_id=team_id, version_id=version_id)


def request_changes(
    engine: Engine, *, team_id: str, version_id: int, actor: str, note: str
) -> tuple[DraftOutcome, ReviewFacts]:
    """Record ``actor``'s request for changes; the facts name the author to notify."""
    note = " ".join(note.split())[:NOTE_MAX]
    if not note:
        raise ReviewError("Say what should change.")
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        row = _version(session, workspace_id, version_id)
        if row.status not in icp_repo.EDITABLE:
            raise ReviewError(f"ICP v{row.version} is {row.status.value}; ask for changes on a draft.")
        append_audit(
            session=session,
            workspace_id=workspace_id,
            actor=actor,
            action=CHANGES_REQUESTED,
            target_type="icp_version",
            target_id=version_id,
            details={"note": note, "version": row.version, "segment": row.segment},
        )
    return load_review(engine, team_id=team_id, version_id=version_id)


# -- edit ------------------------------------------------------------------------------------------


def _check_points(value: float) -> float:
    if not -MAX_POINTS <= value <= MAX_POINTS:
        raise ReviewError(f"Points must be between -{MAX_POINTS:g} and {MAX_POINTS:g}, got {value:g}.")
    return int(value) if float(value).is_integer() else value


def edited_icp(outcome: DraftOutcome, edit: DraftEdit) -> tuple[ICP, list[Any]]:
    """The ICP and the hypotheses after ``edit`` (pure); a hypothesis given weight becomes a bin.

    Indices are those of the flat ``icp.criteria`` (every bin, in order). Each characteristic keeps
    its place and label; one left without bins disappears. A promoted hypothesis joins the
    characteristic on its attribute(s), or becomes a new one at the end.
    """
    icp = outcome.icp
    characteristics: list[dict[str, Any]] = []
    index = 0
    for ch in icp.characteristics:
        bins = []
        for b in ch.bins:
            if index not in edit.removed:
                points = _check_points(edit.points.get(index, b.points))
                bins.append(b.model_copy(update={"points": points}).model_dump())
            index += 1
        if bins:
            characteristics.append({**ch.model_dump(), "bins": bins})
    hypotheses = []
    for index, hypothesis in enumerate(outcome.drafted.hypotheses):
        points = _check_points(edit.hypothesis_points.get(index, hypothesis.points))
        if not points:
            hypotheses.append(hypothesis)
            continue
        promoted = hypothesis.model_copy(update={"points": points}).model_dump()
        home = next((c for c in characteristics if set(c["attributes"]) == set(hypothesis.attributes)), None)
        if home is not None:
            home["bins"].append(promoted)
        else:
            characteristics.append({"attributes": list(hypothesis.attributes), "bins": [promoted]})
    try:
        new = ICP.model_validate(
            {**icp.model_dump(exclude={"characteristics"}), "characteristics": characteristics}
        )
    except Exception as exc:
        raise ReviewError(f"That edit does not make a valid ICP: {str(exc).splitlines()[0]}") from None
    return new, hypotheses


def _summary(outcome: DraftOutcome, edit: DraftEdit, new: ICP) -> str:
    """What changed, in words, for the change note and the audit log."""
    parts = []
    changed = sum(
        1
        for i, c in enumerate(outcome.icp.criteria)
        if i not in edit.removed and i in edit.points and edit.points[i] != c.points
    )
    if changed:
        parts.append(f"{changed} {'bin' if changed == 1 else 'bins'} re-weighted")
    if edit.removed:
        parts.append(f"{len(edit.removed)} removed")
    promoted = len(new.criteria) - (len(outcome.icp.criteria) - len(edit.removed))
    if promoted:
        parts.append(f"{promoted} hypotheses given weight")
    return ", ".join(parts) or "no change to the points"


def _rebacktest(engine: Engine, outcome: DraftOutcome, icp: ICP) -> Any:
    """The edited ICP backtested on today's CRM history (None without closed deals)."""
    try:
        g = gather(engine=engine, workspace=outcome.workspace, segment=outcome.segment)
    except (GatherError, NotFoundError) as exc:
        log.info("no backtest for the edited ICP: %s", exc)
        return None
    if g.closed.empty:
        return None
    learned_auc = backtest(g.learned.icp, g.closed).auc if g.learned is not None else None
    return summarise_backtest(backtest(icp, g.closed), learned_auc)


def edit(
    engine: Engine,
    *,
    knowledge: KnowledgeStore | None,
    team_id: str,
    version_id: int,
    actor: str,
    change: DraftEdit,
    now: datetime,
) -> tuple[DraftOutcome, ReviewFacts]:
    """Save ``change`` applied to version ``version_id`` as a new draft version (returned)."""
    source, _ = load_review(engine, team_id=team_id, version_id=version_id)
    new_icp, hypotheses = edited_icp(source, change)
    summary = _summary(source, change, new_icp)
    note = " ".join(change.note.split())[:NOTE_MAX]
    edited_note = f"Edited by <@{actor}> from v{source.version}: {summary}" + (f" ({note})" if note else "")
    outcome = source.model_copy(
        update={
            "drafted": source.drafted.model_copy(update={"icp": new_icp, "hypotheses": hypotheses}),
            "backtest": _rebacktest(engine, source, new_icp),
            "notes": [edited_note, *source.notes],
        }
    )
    with session_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        old = _version(session, workspace_id, version_id)
        row = icp_repo.create_icp_draft(
            session=session,
            workspace_id=workspace_id,
            data=IcpVersionCreate(
                segment=old.segment,
                name=old.name,
                icp_json=new_icp.to_dict(),
                backtest=None if outcome.backtest is None else outcome.backtest.model_dump(mode="json"),
                change_note=f"Edited from v{old.version}: {summary}" + (f". {note}" if note else ""),
                author=actor,
                draft_json=draft_payload(outcome, now),
            ),
        )
        assert row.id is not None and old.id is not None
        personas = icp_repo.list_personas(session=session, workspace_id=workspace_id, icp_version_id=old.id)
        icp_repo.replace_personas(
            session=session,
            workspace_id=workspace_id,
            icp_version_id=row.id,
            personas=[
                PersonaCreate(name=p.name, position=p.position, persona_json=dict(p.persona_json))
                for p in personas
            ],
        )
        append_audit(
            session=session,
            workspace_id=workspace_id,
            actor=actor,
            action=EDITED,
            target_type="icp_version",
            target_id=row.id,
            details={"from_version": old.version, "version": row.version, "summary": summary, "note": note},
        )
        new_id = row.id
    _reindex(knowledge, team_id, engine, [new_id])
    return load_review(engine, team_id=team_id, version_id=new_id)
