"""Erasure reaches drafts too: ``icp forget USER`` removes what drafts quote or say from that person.

A draft keeps short quotes of answers (citations) and statements drawn from them (the offline
drafter's traits are quotes). When a person is forgotten, every ICP version of the workspace loses
the citations of their answers, the ids of those answers wherever they are cited, and every
statement (trait, persona trait, hypothesis, conflict) that rested on their answers alone. Criteria
keep their points: those come from the CRM data, not from anyone's words. Approved versions are
scrubbed too: erasure overrides immutability, and only evidence changes, never a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.store import Document
from bot.services.knowledge.documents import icp_document, persona_document
from bot.services.redaction import Words
from bot.store.db import Session
from bot.store.repo import icp as icp_repo

TRAIT_LISTS = ("pains", "goals", "triggers", "disqualifiers")
#: The narrative may quote or paraphrase anyone it drew on, so it is replaced, not edited.
NARRATIVE_ERASED = (
    "The narrative was removed: it drew on the answers of a person who has since been forgotten."
)


@dataclass
class ScrubResult:
    versions: list[int] = field(default_factory=list)
    personas: list[int] = field(default_factory=list)  # touched: rewritten or deleted


def _answer_ids(draft: dict[str, Any], slack_user_id: str) -> set[str]:
    prefix = f"{slack_user_id} ("
    return {
        key
        for key, c in (draft.get("citations") or {}).items()
        if isinstance(c, dict) and c.get("kind") == "answer" and str(c.get("source", "")).startswith(prefix)
    }


def _keep(ids: list[str], gone: set[str]) -> tuple[list[str], bool]:
    """The ids left, and whether the statement still stands: it cited none of the erased answers,
    or another person's answer still backs it (a statistic alone does not carry words)."""
    left = [i for i in ids if i not in gone]
    if len(left) == len(ids):
        return left, True
    return left, any(i.startswith("ans:") for i in left)


def _scrub_items(items: list[dict[str, Any]], gone: set[str]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        left, stands = _keep(list(item.get("evidence") or []), gone)
        if stands:
            out.append({**item, "evidence": left})
    return out


def scrub_draft_json(draft: dict[str, Any], gone: set[str]) -> dict[str, Any]:
    draft = dict(draft)
    if draft.get("narrative"):
        draft["narrative"] = NARRATIVE_ERASED
    draft["citations"] = {k: v for k, v in (draft.get("citations") or {}).items() if k not in gone}
    for name in (*TRAIT_LISTS, "conflicts"):
        draft[name] = _scrub_items(list(draft.get(name) or []), gone)
    drafted = dict(draft.get("drafted") or {})
    drafted["hypotheses"] = _scrub_items(list(drafted.get("hypotheses") or []), gone)
    draft["drafted"] = drafted
    return draft


def _scrub_ids(items: list[dict[str, Any]], gone: set[str]) -> list[dict[str, Any]]:
    return [{**c, "evidence": [i for i in c.get("evidence") or [] if i not in gone]} for c in items]


def scrub_icp_json(icp: dict[str, Any], gone: set[str]) -> dict[str, Any]:
    """The stored ICP without the erased ids: points and bins stay (they are the data's), in either
    form a version may be stored in (characteristics with bins, or the older flat criteria)."""
    icp = dict(icp)
    if icp.get("description"):
        icp["description"] = NARRATIVE_ERASED
    if "characteristics" in icp:
        icp["characteristics"] = [
            {**ch, "bins": _scrub_ids(list(ch.get("bins") or []), gone)}
            for ch in icp["characteristics"] or []
        ]
    for name in ("criteria", "disqualifiers"):
        if name in icp:
            icp[name] = _scrub_ids(list(icp.get(name) or []), gone)
    return icp


def scrub_persona_json(data: dict[str, Any], gone: set[str]) -> dict[str, Any]:
    data = dict(data)
    evidence = dict(data.get("evidence") or {})
    for name, ids in list(evidence.items()):
        if ids and isinstance(ids[0], list):  # a list field: one id list per text
            texts = list(data.get(name) or [])
            kept = [(t, _keep(e, gone)[0]) for t, e in zip(texts, ids, strict=False) if _keep(e, gone)[1]]
            data[name] = [t for t, _ in kept]
            evidence[name] = [e for _, e in kept]
        else:
            left, stands = _keep(list(ids or []), gone)
            if stands:
                evidence[name] = left
            else:
                data.pop(name, None)
                evidence.pop(name)
    data["evidence"] = evidence
    if "message_hooks" in data:
        data["hooks"] = data["message_hooks"]
    return data


ROLE_FIELDS = ("seniority", "department", "buying_role", "budget_authority")


def _evidence_count(data: dict[str, Any], fields: tuple[str, ...] | None = None) -> int:
    total = 0
    for name, ids in (data.get("evidence") or {}).items():
        if fields is not None and name not in fields:
            continue
        for item in ids or []:
            total += len(item) if isinstance(item, list) else 1
    return total


def _rested_on(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the persona's identity (its role fields), or all of it, came from the erased answers."""
    role_gone = _evidence_count(before, ROLE_FIELDS) and not _evidence_count(after, ROLE_FIELDS)
    all_gone = _evidence_count(before) and not _evidence_count(after)
    return bool(role_gone or all_gone)


def scrub_person(*, session: Session, workspace_id: int, slack_user_id: str) -> ScrubResult:
    """Remove the person's words from every ICP version and persona of the workspace.

    A persona whose role (or everything) rested on their answers is deleted. Returns the versions changed and the
    personas touched (their search copies must be rewritten or removed).
    """
    result = ScrubResult()
    versions = icp_repo.list_icp_versions(session=session, workspace_id=workspace_id)
    for row in reversed(versions):  # oldest first
        gone = _answer_ids(row.draft_json or {}, slack_user_id)
        if not gone or row.id is None:
            continue
        icp_repo.rewrite_icp_evidence(
            session,
            version=row,
            draft_json=scrub_draft_json(row.draft_json or {}, gone),
            icp_json=scrub_icp_json(row.icp_json, gone),
        )
        personas = icp_repo.list_personas(session=session, workspace_id=workspace_id, icp_version_id=row.id)
        for persona in personas:
            scrubbed = scrub_persona_json(persona.persona_json, gone)
            assert persona.id is not None
            result.personas.append(persona.id)
            if _rested_on(persona.persona_json, scrubbed):
                icp_repo.delete_persona(session, persona=persona)
            else:
                icp_repo.rewrite_persona(session, persona=persona, persona_json=scrubbed)
        result.versions.append(row.id)
    session.flush()
    return result


def scrub_words(*, session: Session, workspace_id: int, words: Words) -> ScrubResult:
    """Replace the person's quoted words and name wherever drafts keep free text.

    ``scrub_person`` removes what cites their answers; this catches what an LLM or an editor
    copied into rationales, hypotheses, narratives, personas and pains without a citation.
    """
    result = ScrubResult()
    for row in icp_repo.list_icp_versions(session=session, workspace_id=workspace_id):
        if row.id is None:
            continue
        draft, icp = words.json(row.draft_json or {}), words.json(row.icp_json)
        changed = draft != (row.draft_json or {}) or icp != row.icp_json
        if changed:
            had_draft = row.draft_json is not None
            icp_repo.rewrite_icp_evidence(session, version=row, draft_json=draft, icp_json=icp)
            if not had_draft:  # a version written by hand keeps having no draft document
                row.draft_json = None
        for persona in icp_repo.list_personas(
            session=session, workspace_id=workspace_id, icp_version_id=row.id
        ):
            data = words.json(persona.persona_json)
            if data != persona.persona_json:
                assert persona.id is not None
                icp_repo.rewrite_persona(session, persona=persona, persona_json=data)
                result.personas.append(persona.id)
                changed = True
        if changed:
            result.versions.append(row.id)
    session.flush()
    return result


def search_documents(*, session: Session, workspace_id: int, version_ids: list[int]) -> list[Document]:
    """The search copies of scrubbed versions and their remaining personas, to write again."""
    docs: list[Document] = []
    for version_id in version_ids:
        row = icp_repo.get_icp_version(session=session, workspace_id=workspace_id, version_id=version_id)
        docs.append(icp_document(row))
        for persona in icp_repo.list_personas(
            session=session, workspace_id=workspace_id, icp_version_id=version_id
        ):
            docs.append(persona_document(persona, row))
    return docs
