"""The drafting pipeline: gather → (map → retrieve → reduce with the LLM | offline) → check → persist.

The LLM only ever proposes words and evidence; the engine decides criteria, points and tiers
(``check``). Any model fault ends in the offline drafter with a note, so a draft is always made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.services.icp.drafting.check import Checked, check
from bot.services.icp.drafting.evidence import citations_of
from bot.services.icp.drafting.gather import Gathered, GatherError, gather
from bot.services.icp.drafting.models import OFFLINE, OFFLINE_LABEL, DraftOutcome
from bot.services.icp.drafting.offline import offline_proposal
from bot.services.icp.drafting.persist import outcome_of, store_draft
from bot.services.icp.drafting.proposal import Proposal
from bot.store import session_scope
from bot.store.db import Engine
from bot.store.models import DEFAULT_SEGMENT
from bot.store.repo import icp as icp_repo
from bot.store.repo import workspaces as workspaces_repo
from bot.store.repo.errors import NotFoundError

if TYPE_CHECKING:
    from bot.knowledge.store import KnowledgeStore
    from bot.llm.client import LlmClient


class DraftingError(ValueError):
    """A draft cannot be made; the message says why and what to do."""


class NoCrmDataError(DraftingError):
    """The workspace has no CRM data: import it first."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _model_name(llm: LlmClient) -> str:
    """The model's own name (e.g. "gpt-4o-mini"), else the client's label."""
    for attr in ("model_name", "model"):
        value = getattr(llm.model, attr, None)
        if isinstance(value, str) and value:
            return value
    return llm.label


# Every model call of one draft (summaries and the draft itself) shares this deadline, so with the
# engine work around it the person who asked gets a draft, or the offline one, within 60 s.
MODEL_SECONDS = 45.0


def propose(
    g: Gathered,
    *,
    llm: LlmClient | None,
    knowledge: KnowledgeStore | None,
    model_seconds: float = MODEL_SECONDS,
    on_step: Callable[[str], None] | None = None,
) -> tuple[Proposal, str, list[str]]:
    """The proposal of the LLM (or of the offline drafter when there is none or it fails)."""
    if llm is not None:
        from bot.llm.client import LlmUnavailable, PromptTooLarge
        from bot.services.icp.drafting.compose import llm_proposal

        try:
            deadline = llm.deadline_in(model_seconds)
            proposal = llm_proposal(g, llm=llm, knowledge=knowledge, deadline=deadline, on_step=on_step)
            return proposal, _model_name(llm), []
        except (LlmUnavailable, PromptTooLarge) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            note = f"fell back to the offline drafter ({OFFLINE_LABEL}): {reason}"
            _step(on_step, "offline draft")
            return offline_proposal(g), OFFLINE, [note]
    _step(on_step, "offline draft")
    return offline_proposal(g), OFFLINE, []


def _step(on_step: Callable[[str], None] | None, name: str) -> None:
    if on_step is not None:
        on_step(name)


def draft_icp(
    *,
    engine: Engine,
    knowledge: KnowledgeStore | None,
    llm: LlmClient | None,
    workspace: str,
    segment: str = DEFAULT_SEGMENT,
    author: str,
    clock: Callable[[], datetime] = _utc_now,
    model_seconds: float = MODEL_SECONDS,
    on_step: Callable[[str], None] | None = None,
) -> DraftOutcome:
    """Draft the workspace's ICP for ``segment`` and store it as a new draft version.

    ``llm=None`` drafts offline; the model gets ``model_seconds`` in all, then the offline drafter
    takes over. Raises :class:`NoCrmDataError` when there is no CRM data,
    :class:`DraftingError` for an unknown workspace or a segment the data cannot select.
    ``on_step(name)`` is told each step as it starts (gather, map, reduce or offline draft, check,
    store), for a progress display.
    """
    segment = (segment or DEFAULT_SEGMENT).strip() or DEFAULT_SEGMENT
    _step(on_step, "gather")
    try:
        g = gather(engine=engine, workspace=workspace, segment=segment)
    except NotFoundError as exc:
        raise NoCrmDataError(str(exc)) from None
    except GatherError as exc:
        raise (NoCrmDataError if "no CRM data" in str(exc) else DraftingError)(str(exc)) from None
    pool = citations_of(g)
    proposal, drafted_with, notes = propose(
        g, llm=llm, knowledge=knowledge, model_seconds=model_seconds, on_step=on_step
    )
    _step(on_step, "check")
    checked = check(proposal, g, pool)
    cited = _cited(checked)
    outcome = DraftOutcome(
        workspace=workspace,
        segment=segment,
        version_id=0,
        version=0,
        drafted=checked.drafted,
        personas=checked.personas,
        pains=checked.pains,
        goals=checked.goals,
        triggers=checked.triggers,
        disqualifiers=checked.disqualifiers,
        narrative=checked.narrative,
        backtest=checked.backtest,
        conflicts=checked.conflicts,
        citations={key: pool[key] for key in cited if key in pool},
        drafted_with=drafted_with,
        notes=[*notes, *g.notes, *proposal.notes, *checked.notes],
        answers_used=len(g.answers),
        stakeholders=len(g.stakeholders),
    )
    _step(on_step, "store")
    stored, more = store_draft(
        engine=engine,
        knowledge=knowledge,
        workspace_id=g.workspace_id,
        outcome=outcome,
        author=author,
        now=clock(),
    )
    return stored.model_copy(update={"notes": [*stored.notes, *more]}) if more else stored


def _cited(checked: Checked) -> list[str]:
    """Every evidence id the checked draft uses, in order of first use."""
    ids: dict[str, None] = {}
    icp = checked.drafted.icp
    for c in [*icp.criteria, *checked.drafted.hypotheses]:
        ids.update(dict.fromkeys(c.evidence))
    for d in icp.disqualifiers:
        ids.update(dict.fromkeys(d.evidence))
    for t in [*checked.pains, *checked.goals, *checked.triggers, *checked.disqualifiers]:
        ids.update(dict.fromkeys(t.evidence))
    for p in checked.personas:
        ids.update(dict.fromkeys(p.evidence))
    for conflict in checked.conflicts:
        ids.update(dict.fromkeys(conflict.evidence))
    return list(ids)


def load_draft(*, engine: Engine, workspace: str, version_id: int) -> DraftOutcome:
    """A stored ICP version (drafted or not) as a :class:`DraftOutcome`."""
    with session_scope(engine) as session:
        ws = workspaces_repo.get_workspace(session=session, slack_team_id=workspace)
        if ws is None or ws.id is None:
            raise NotFoundError(f"no workspace {workspace!r} in the database")
        row = icp_repo.get_icp_version(session=session, workspace_id=ws.id, version_id=version_id)
        personas = icp_repo.list_personas(session=session, workspace_id=ws.id, icp_version_id=version_id)
        return outcome_of(row, personas, workspace)
