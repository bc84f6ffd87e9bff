"""The approved ICP's score, tier and version written onto the CRM's companies/accounts.

Only records whose score, tier or ICP version differs from what was last written are sent (the
written values are kept per record), so a write-back after a sync that changed nothing sends
nothing, and one after an approval sends every record whose score moved. Scores come from the
engine's batch scoring of the stored accounts, the same numbers ``/icp score`` shows. What was
written is recorded after each chunk: a write-back stopped half way resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from bot.connectors.errors import CrmAuthError, CrmError
from bot.connectors.records import CrmConnector, ScoreUpdate
from bot.services.crm.frames import load_account_frame
from bot.services.scoring.service import icp_in_use
from bot.store.db import Engine, read_scope, session_scope
from bot.store.repo.icp import get_active_icp
from bot.store.repo.sync import WrittenScore, mark_fields_ready, record_written_scores, written_scores
from bot.store.types import utcnow
from icp_engine.batch import score_batch
from icp_engine.model import NO_TIER

__all__ = ["WRITE_CHUNK", "WriteBackSummary", "write_back"]

WRITE_CHUNK = 1_000  # updates handed to the connector at once (it batches them within the API's limit)
Status = Literal["written", "unchanged", "no_icp", "dry_run", "failed"]


@dataclass
class WriteBackSummary:
    """What a write-back did (or, in a dry run, would do)."""

    status: Status = "unchanged"
    icp_version: int | None = None
    scored: int = 0
    changed: int = 0
    written: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    fields_created: list[str] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "icp_version": self.icp_version,
            "scored": self.scored,
            "changed": self.changed,
            "written": self.written,
            "refused": [{"crm_id": crm_id, "reason": reason} for crm_id, reason in self.refused[:100]],
            "refused_count": len(self.refused),
            "fields_created": list(self.fields_created),
            "message": self.message,
        }


@dataclass(frozen=True)
class WriteBackJob:
    """One workspace's write-back: where, through which connector, and how."""

    engine: Engine
    workspace_id: int
    connector: CrmConnector
    fields_ready: bool
    dry_run: bool = False
    clock: Callable[[], datetime] = utcnow


def write_back(job: WriteBackJob) -> WriteBackSummary:
    """Score every stored account with the approved ICP and write the changed ones to the CRM.

    A refused token (``CrmAuthError``) is raised for the sync to handle; any other CRM failure
    ends the write-back with ``status="failed"`` and what was written so far stays recorded.
    """
    summary = WriteBackSummary()
    updates = _changed_scores(job, summary)
    if updates is None or not updates or job.dry_run:
        return summary
    noun = job.connector.provider.label
    try:
        if not job.fields_ready:
            summary.fields_created = job.connector.ensure_score_fields()
            with session_scope(job.engine) as session:
                mark_fields_ready(session=session, workspace_id=job.workspace_id)
        for start in range(0, len(updates), WRITE_CHUNK):
            _write_chunk(job, updates[start : start + WRITE_CHUNK], summary)
    except CrmAuthError:
        raise
    except CrmError as exc:
        summary.status = "failed"
        summary.message = f"writing scores back stopped after {summary.written:,} records: {exc.reason}"
        return summary
    summary.status = "written"
    refused = f"; {len(summary.refused):,} refused by {noun}" if summary.refused else ""
    summary.message = f"wrote ICP v{summary.icp_version} scores onto {summary.written:,} records whose score changed{refused}"
    return summary


def _changed_scores(job: WriteBackJob, summary: WriteBackSummary) -> list[ScoreUpdate] | None:
    with read_scope(job.engine) as session:
        version = get_active_icp(session=session, workspace_id=job.workspace_id)
        if version is None:
            summary.status = "no_icp"
            summary.message = "no approved ICP yet: scores are written back once one is approved"
            return None
        icp = icp_in_use(version).icp
        frame = load_account_frame(session=session, workspace_id=job.workspace_id)
        previous = written_scores(session=session, workspace_id=job.workspace_id)
    summary.icp_version = version.version
    summary.scored = len(frame)
    if frame.empty:
        summary.message = "no accounts to score"
        return []
    scores = score_batch(frame, icp)
    tiers = scores.to_frame()["tier"].to_numpy(dtype=object)
    points = np.rint(scores.score).astype(int)
    updates = [
        ScoreUpdate(
            crm_id=str(crm_id),
            score=int(score),
            tier="" if tier == NO_TIER else str(tier),
            icp_version=version.version,
        )
        for crm_id, score, tier in zip(frame["account_id"].to_numpy(dtype=object), points, tiers, strict=True)
    ]
    changed = [u for u in updates if previous.get(u.crm_id) != (u.score, u.tier, u.icp_version)]
    summary.changed = len(changed)
    if not changed:
        summary.message = f"every record already carries its ICP v{version.version} score"
    elif job.dry_run:
        summary.status = "dry_run"
        summary.message = f"would write ICP v{version.version} scores onto {len(changed):,} records"
    return changed


def _write_chunk(job: WriteBackJob, chunk: Sequence[ScoreUpdate], summary: WriteBackSummary) -> None:
    report = job.connector.write_scores(chunk)
    refused = {crm_id for crm_id, _ in report.refused}
    summary.refused.extend(report.refused)
    written: list[tuple[str, WrittenScore]] = [
        (u.crm_id, (u.score, u.tier, u.icp_version)) for u in chunk if u.crm_id not in refused
    ]
    with session_scope(job.engine) as session:
        record_written_scores(session=session, workspace_id=job.workspace_id, written=written, at=job.clock())
    summary.written += len(written)
