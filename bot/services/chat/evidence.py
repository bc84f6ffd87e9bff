"""The evidence a chat answer may stand on: retrieved chunks and the engine's own figures.

Everything is scoped to one workspace: the vector store only opens that workspace's collections
and SQL reads go through its workspace id. Each piece of evidence gets a stable id naming where it
comes from (``ans:41`` an interview answer, ``stat:industry=software`` a CRM statistic, ``icp:3``
an ICP version, ``persona:7`` a persona): the model cites these ids, and they are checked against
what was retrieved before anything is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.services.chat.intent import STAT_ATTRIBUTES, DataQuestion
from bot.services.knowledge.documents import render_icp
from bot.services.scoring.service import IcpInUse, ScoringError, active_icp
from bot.store.db import Engine, read_scope
from bot.store.repo.answers import existing_answer_ids
from bot.store.repo.workspaces import get_workspace

if TYPE_CHECKING:
    from bot.knowledge.store import Hit, KnowledgeStore

log = logging.getLogger(__name__)

PREFIX = {"answer": "ans", "statistic": "stat", "icp": "icp", "persona": "persona"}
TEXT_MAX = 700  # characters of one piece of evidence kept (the prompt stays small)
ANSWERS_K = 6
STATISTICS_K = 4
ICP_K = 3
RANKING_K = 30  # statistic segments read for an attribute ranking
MAX_RANKED = 6
MAX_EVIDENCE = 12
FIGURE_MAX = 1400  # characters of the ICP figure (its criteria with points, tiers)
MIN_SCORE = 0.15  # cosine similarity below which a chunk is noise, not evidence
RELATIVE = 0.6  # and a chunk far less similar than the best one is off the question's topic
_ROLE_NAMES = {
    "customer_success": "customer success",
    "sales": "sales",
    "marketing": "marketing",
    "product": "product",
    "leadership": "leadership",
    "other": "other role",
}


@dataclass(frozen=True)
class Evidence:
    """One citable piece: ``id`` is what the model cites, ``source`` what a person reads."""

    id: str
    kind: str
    text: str
    source: str
    score: float = 0.0
    person: str | None = None  # an answer's author (Slack id): privacy decides how it is cited
    role: str = ""  # an answer's author's role, the citation used when the name is not shown
    draft: bool = False  # from an ICP version not approved yet: for ICP owners only


@dataclass(frozen=True)
class Figure:
    """A number the engine computed (a win rate, the ICP's points), with the evidence it is from."""

    text: str
    evidence_id: str


@dataclass(frozen=True)
class Gathered:
    evidence: tuple[Evidence, ...]
    figures: tuple[Figure, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(e.id for e in self.evidence)

    def by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.evidence}


def evidence_id(kind: str, source_id: str) -> str:
    return f"{PREFIX.get(kind, kind)}:{source_id}"


def _cut(text: str, limit: int = TEXT_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.0f}%"


def source_label(kind: str, metadata: dict[str, Any]) -> str:
    """Who or what a piece of evidence comes from, in words."""
    if kind == "answer":
        who = str(metadata.get("stakeholder") or "")
        role = _ROLE_NAMES.get(str(metadata.get("role") or ""), "")
        person = f"<@{who}>" if who.isalnum() else "a stakeholder"
        topic = str(metadata.get("question_key") or "").replace("_", " ")
        topic = topic.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        label = f"interview answer by {person}" + (f" ({role})" if role else "")
        return label + (f" on {topic}" if topic else "")
    if kind == "statistic":
        return "CRM statistic"
    if kind == "icp":
        return f"ICP v{metadata.get('version', '?')} ({str(metadata.get('status') or 'stored').replace('_', ' ')})"
    if kind == "persona":
        return f"buyer persona (ICP v{metadata.get('version', '?')})"
    return kind


def _from_hits(hits: Iterable[Hit]) -> list[Evidence]:
    out = []
    for hit in hits:
        if hit.score < MIN_SCORE:
            continue
        out.append(
            Evidence(
                id=evidence_id(hit.kind, hit.source_id),
                kind=hit.kind,
                text=_cut(hit.text),
                source=source_label(hit.kind, hit.metadata),
                score=hit.score,
                person=str(hit.metadata.get("stakeholder") or "") or None if hit.kind == "answer" else None,
                role=_ROLE_NAMES.get(str(hit.metadata.get("role") or ""), "") if hit.kind == "answer" else "",
                draft=str(hit.metadata.get("status") or "") in DRAFT_STATUSES,
            )
        )
    return out


DRAFT_STATUSES = frozenset({"draft", "in_review"})


def drop_erased(engine: Engine, team_id: str, evidence: list[Evidence]) -> list[Evidence]:
    """Evidence without answers that are gone from SQL (one query): SQL is the source of truth.

    An answer forgotten between its commit and its indexing leaves a vector behind; it must
    never be served, so every answer hit is checked here before anyone sees it.
    """
    ids = [
        int(e.id.split(":", 1)[1]) for e in evidence if e.kind == "answer" and e.id.split(":", 1)[1].isdigit()
    ]
    if not ids:
        return evidence
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        alive = (
            existing_answer_ids(session=session, workspace_id=workspace.id, ids=ids)
            if workspace is not None and workspace.id is not None
            else set()
        )
    return [e for e in evidence if e.kind != "answer" or e.id.split(":", 1)[1] in {str(i) for i in alive}]


def _merge(*groups: Sequence[Evidence]) -> list[Evidence]:
    """One entry per id (chunks of one answer merge; the best score wins), best first."""
    best: dict[str, Evidence] = {}
    for group in groups:
        for item in group:
            kept = best.get(item.id)
            if kept is None or item.score > kept.score:
                best[item.id] = item
    return sorted(best.values(), key=lambda e: (-e.score, e.id))


def _retrieve(
    knowledge: KnowledgeStore, team_id: str, question: DataQuestion
) -> tuple[list[Evidence], list[Hit]]:
    """Answers (of the named teams first), statistics, and ICP/persona documents near the question."""
    from bot.knowledge.retriever import KnowledgeRetriever, hit_of

    retriever = KnowledgeRetriever(store=knowledge, workspace=team_id)
    vector = knowledge.embedder.embed([question.text])[0]  # once, for every search below

    def search(k: int, kinds: Sequence[str], where: dict[str, Any] | None = None) -> list[Hit]:
        found = retriever.invoke(question.text, k=k, kinds=kinds, where=where, vector=vector)
        return [hit_of(d) for d in found]

    answers = search(ANSWERS_K, ["answer"])
    if question.roles:
        roles = list(question.roles)
        where = {"role": roles[0]} if len(roles) == 1 else {"role": {"$in": roles}}
        answers = search(ANSWERS_K, ["answer"], where) + answers[: ANSWERS_K // 2]
    statistics = search(STATISTICS_K, ["statistic"])
    icps = search(ICP_K, ["icp", "persona"])
    ranked: list[Hit] = []
    stat_attributes = [a for attr in question.attributes for a in STAT_ATTRIBUTES.get(attr, (attr,))]
    if stat_attributes:
        where = (
            {"attribute": stat_attributes[0]}
            if len(stat_attributes) == 1
            else {"attribute": {"$in": stat_attributes}}
        )
        ranked = search(RANKING_K, ["statistic"], {"$and": [where, {"stat_type": "segment"}]})
    evidence = _merge(_from_hits(answers), _from_hits(statistics), _from_hits(icps))
    if evidence:
        floor = RELATIVE * evidence[0].score
        evidence = [e for e in evidence if e.score >= floor]
    return evidence, ranked


def ranking_figures(hits: Sequence[Hit]) -> list[tuple[Figure, Evidence]]:
    """Segments of the asked attribute by win rate (the engine's statistics), best first."""
    rows = []
    for hit in hits:
        meta = hit.metadata
        if meta.get("stat_type") != "segment" or "win_rate" not in meta:
            continue
        rows.append((float(meta["win_rate"]), hit))
    rows.sort(key=lambda pair: (-pair[0], pair[1].source_id))
    out = []
    for win_rate, hit in rows[:MAX_RANKED]:
        meta = hit.metadata
        interval = (
            f" (95% CI {_pct(meta['ci_low'])}–{_pct(meta['ci_high'])})"
            if "ci_low" in meta and "ci_high" in meta
            else ""
        )
        overall = f" vs {_pct(meta['overall_win_rate'])} overall" if "overall_win_rate" in meta else ""
        text = (
            f"{meta.get('attribute', '?')} {meta.get('value', '?')}: win rate {_pct(win_rate)} of "
            f"{int(meta.get('n', 0)):,} closed deals{interval}{overall}"
        )
        ev = Evidence(
            id=evidence_id("statistic", hit.source_id),
            kind="statistic",
            text=_cut(hit.text),
            source=source_label("statistic", meta),
            score=hit.score,
        )
        out.append((Figure(text=text, evidence_id=ev.id), ev))
    return out


def current_icp(engine: Engine, team_id: str) -> IcpInUse | None:
    """The approved ICP, else the newest draft (what scoring uses); None when there is none."""
    with read_scope(engine) as session:
        workspace = get_workspace(session=session, slack_team_id=team_id)
        if workspace is None or workspace.id is None:
            return None
        try:
            return active_icp(session=session, workspace_id=workspace.id)
        except ScoringError:
            log.warning("the ICP of team %s cannot be read for chat", team_id)
            return None


def icp_figure(icp: IcpInUse) -> tuple[Figure, Evidence]:
    """The ICP in use as the engine reads it: criteria with points, disqualifiers and tiers."""
    status = icp.status.value.replace("_", " ")
    text = render_icp(icp.icp)
    ev = Evidence(
        id=evidence_id("icp", str(icp.version_id)),
        kind="icp",
        text=_cut(f'ICP "{icp.name}" v{icp.version} ({status}). {text}', 2 * TEXT_MAX),
        source=f"ICP v{icp.version} ({status}), as scoring uses it",
        score=1.0,
        draft=icp.status.value in DRAFT_STATUSES,
    )
    figure = Figure(text=_cut(f"ICP v{icp.version} ({status}): {text}", FIGURE_MAX), evidence_id=ev.id)
    return figure, ev


def gather(
    *, engine: Engine, knowledge: KnowledgeStore | None, team_id: str, question: DataQuestion
) -> Gathered:
    """The evidence and engine figures for a data question (the store being down leaves SQL's)."""
    evidence: list[Evidence] = []
    figures: list[Figure] = []
    extra: list[Evidence] = []
    if knowledge is not None:
        try:
            evidence, ranked = _retrieve(knowledge, team_id, question)
        except Exception:  # a broken vector store still leaves the engine's figures
            log.exception("knowledge search failed for team %s", team_id)
            evidence, ranked = [], []
        evidence = drop_erased(engine, team_id, evidence)
        for figure, ev in ranking_figures(ranked):
            figures.append(figure)
            extra.append(ev)
    if question.about_icp or not evidence:
        icp = current_icp(engine, team_id)
        if icp is not None:
            figure, ev = icp_figure(icp)
            figures.insert(0, figure)
            extra.insert(0, ev)
    ids = {e.id for e in extra}
    merged = extra + [e for e in evidence if e.id not in ids]
    return Gathered(evidence=tuple(merged[:MAX_EVIDENCE]), figures=tuple(figures))
