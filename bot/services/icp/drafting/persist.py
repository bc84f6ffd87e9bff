"""Persist: a draft becomes a new draft ICP version with its personas, an audit entry and vectors.

The SQL writes are one unit of work (a failure leaves no half draft). The vectors (ICP and persona
documents, so chat can find them) are written after the commit; if that fails the draft stands
and the note says how to repair the vector store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.icp.drafting.models import DraftedPersona, DraftOutcome
from bot.services.knowledge.documents import icp_document, persona_document
from bot.store import session_scope
from bot.store.db import Engine
from bot.store.models import IcpVersion, IcpVersionCreate, Persona, PersonaCreate
from bot.store.repo import icp as icp_repo
from bot.store.repo.audit import append_audit

AUDIT_ACTION = "icp.drafted"
# DraftOutcome fields that live in their own columns or rows, not in draft_json.
_OWN_COLUMNS = frozenset({"workspace", "segment", "version_id", "version", "personas"})


def draft_payload(outcome: DraftOutcome, drafted_at: datetime) -> dict[str, Any]:
    """``IcpVersion.draft_json``: the outcome without what the row and the personas already hold."""
    data = outcome.model_dump(mode="json", exclude=set(_OWN_COLUMNS))
    data["drafted"] = {"hypotheses": data["drafted"]["hypotheses"]}  # the ICP itself is icp_json
    data["drafted_at"] = drafted_at.isoformat()
    return data


def store_draft(
    *,
    engine: Engine,
    knowledge: Any | None,
    workspace_id: int,
    outcome: DraftOutcome,
    author: str,
    now: datetime,
) -> tuple[DraftOutcome, list[str]]:
    """Store the outcome; returns it with its version id and number, and any notes."""
    notes: list[str] = []
    with session_scope(engine) as session:
        row = icp_repo.create_icp_draft(
            session=session,
            workspace_id=workspace_id,
            data=IcpVersionCreate(
                segment=outcome.segment,
                name=outcome.icp.name,
                icp_json=outcome.icp.to_dict(),
                backtest=None if outcome.backtest is None else outcome.backtest.model_dump(mode="json"),
                change_note=f"Draft {outcome.label}",
                author=author,
                draft_json=draft_payload(outcome, now),
            ),
        )
        assert row.id is not None
        personas = icp_repo.replace_personas(
            session=session,
            workspace_id=workspace_id,
            icp_version_id=row.id,
            personas=[
                PersonaCreate(name=p.name[:512], position=n, persona_json=p.to_store())
                for n, p in enumerate(outcome.personas)
            ],
        )
        append_audit(
            session=session,
            workspace_id=workspace_id,
            actor=author,
            action=AUDIT_ACTION,
            target_type="icp_version",
            target_id=row.id,
            details={
                "segment": row.segment,
                "version": row.version,
                "drafted_with": outcome.drafted_with,
                "characteristics": len(outcome.icp.characteristics),
                "criteria": len(outcome.icp.criteria),
                "hypotheses": len(outcome.drafted.hypotheses),
                "personas": len(outcome.personas),
                "answers": outcome.answers_used,
                "conflicts": len(outcome.conflicts),
            },
        )
        session.flush()
        stored = outcome.model_copy(update={"version_id": row.id, "version": row.version})
        docs = [icp_document(row), *(persona_document(p, row) for p in personas)]
    if knowledge is not None:
        try:
            knowledge.add_documents(workspace=outcome.workspace, docs=docs)
        except Exception as exc:  # the draft is stored; only its search copy is missing
            notes.append(
                f"the draft is stored, but its search copy was not written ({type(exc).__name__}); "
                f"run `icp reindex --workspace {outcome.workspace}`"
            )
    return stored, notes


def outcome_of(row: IcpVersion, personas: list[Persona], workspace: str) -> DraftOutcome:
    """A stored version as a :class:`DraftOutcome` (a version written by hand has no draft_json)."""
    from icp_engine.model import ICP

    data = dict(row.draft_json or {})
    data.pop("drafted_at", None)
    hypotheses = (data.pop("drafted", None) or {}).get("hypotheses", [])
    assert row.id is not None
    return DraftOutcome.model_validate(
        {
            **data,
            "workspace": workspace,
            "segment": row.segment,
            "version_id": row.id,
            "version": row.version,
            "drafted": {
                "icp": ICP.from_dict(row.icp_json, source=f"ICP version {row.version}"),
                "hypotheses": hypotheses,
            },
            "personas": [DraftedPersona.from_store(p.persona_json) for p in personas],
        }
    )
