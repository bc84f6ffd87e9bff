"""The one-page ICP document that every export format renders: gathered once from the store.

Besides the ICP it holds what the page shows around it: pains and buying triggers in the
customers' words (from the draft), the people (owner, approver, by display name when stored) and
the next review date, and any per-tier plays the draft stored (``draft_json["plays"]``).

The document is plain data (no store rows, no sessions), so the renderers are pure functions of
it and tests can build one by hand. Text that people typed or the LLM wrote (persona fields,
evidence quotes, reasons, names) is kept as it is here; each renderer escapes it for its format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot.services.icp.versions import VersionNotFound, load_icp, pick_version, segment_versions
from bot.store.db import Engine, Session, read_scope
from bot.store.models import DEFAULT_SEGMENT, IcpStatus, IcpVersion
from bot.store.repo.icp import get_active_icp, list_personas
from bot.store.repo.owners import active_installer, added_owners
from bot.store.repo.reminders import next_enabled_reminder
from bot.store.repo.stakeholders import list_stakeholders
from bot.store.repo.workspaces import get_workspace
from icp_engine.model import ICP, Criterion, Disqualifier
from icp_engine.wording import tier_rules

# Persona fields in the order a reader wants them; anything else the drafter stored follows.
PERSONA_FIELDS = (
    "role",
    "titles",
    "seniority",
    "department",
    "buying_role",
    "goals",
    "challenges",
    "motivators",
    "objections",
    "tools",
    "stack",
    "channels",
    "message_hooks",
    "hooks",
)
# Kept next to the texts by the drafter (bot/services/icp/drafting/models.py), not for reading.
PERSONA_SKIPPED = frozenset({"name", "evidence"})
MAX_FIELD_TEXT = 400
MAX_WORDS = 12  # pains and triggers kept from a draft (the page shows fewer)


@dataclass(frozen=True)
class PersonaDoc:
    name: str
    fields: tuple[tuple[str, str], ...]  # (label, text), labels like "Buying role"


@dataclass(frozen=True)
class TierResult:
    tier: str
    label: str
    deals: int
    win_rate: float | None


@dataclass(frozen=True)
class BacktestDoc:
    deals: int | None
    win_rate: float | None
    auc: float | None
    tiers: tuple[TierResult, ...]
    top_tier: str | None
    top_tier_lift: float | None
    coverage: float | None

    def headline(self) -> str:
        """One sentence: "AUC 0.71 on 340 closed deals; top tier A wins 2.1× the average"."""
        parts = []
        if self.auc is not None:
            parts.append(f"AUC {self.auc:.2f}")
        if self.deals is not None:
            parts.append(f"on {self.deals:,} closed deals")
        text = " ".join(parts) or "Backtest"
        if self.win_rate is not None:
            text += f", overall win rate {self.win_rate:.0%}"
        if self.top_tier and self.top_tier_lift is not None:
            text += f"; tier {self.top_tier} wins {self.top_tier_lift:.1f}× the average"
        if self.coverage is not None:
            text += f"; {self.coverage:.0%} of deals had the data to score"
        return text


@dataclass(frozen=True)
class ExportDocument:
    workspace: str
    icp: ICP
    version: int
    segment: str
    status: str
    author: str
    created_at: datetime
    approver: str | None = None
    approved_at: datetime | None = None
    change_note: str | None = None
    personas: tuple[PersonaDoc, ...] = ()
    evidence: tuple[tuple[str, str], ...] = ()  # (id, text) for every id the ICP cites
    backtest: BacktestDoc | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    pains: tuple[str, ...] = ()  # in the customers' own words, from the draft
    triggers: tuple[str, ...] = ()
    owner: str | None = None  # a Slack user id (or a CLI login) as stored
    people: tuple[tuple[str, str], ...] = ()  # (user id, display name) known for this workspace
    next_review: datetime | None = None
    plays: tuple[tuple[str, str], ...] = ()  # (tier, play) stored with the draft; defaults otherwise

    @property
    def title(self) -> str:
        return f"Ideal Customer Profile: {self.icp.name}"

    def name_of(self, who: str | None) -> str | None:
        """A person's display name when one is known, else what is stored (a user id)."""
        if not who:
            return None
        return dict(self.people).get(who) or who

    def approval_line(self) -> str:
        """Where the version stands, in words ("Approved by Alex Kim on 2026-11-30")."""
        approver = self.name_of(self.approver) or "someone"
        if self.status == IcpStatus.approved.value and self.approved_at is not None:
            return f"Approved by {approver} on {self.approved_at:%Y-%m-%d}"
        if self.status == IcpStatus.superseded.value and self.approved_at is not None:
            return f"Approved by {approver} on {self.approved_at:%Y-%m-%d}; since superseded"
        if self.status == IcpStatus.in_review.value:
            return "In review: not approved yet, scores may change"
        return "Draft: not approved yet, scores may change"

    def version_line(self) -> str:
        seg = "" if self.segment == DEFAULT_SEGMENT else f", segment {self.segment}"
        return (
            f"Version {self.version}{seg} · drafted by {self.name_of(self.author)} on {self.created_at:%Y-%m-%d} · "
            f"exported {self.generated_at:%Y-%m-%d %H:%M} UTC"
        )


def tier_rows(icp: ICP) -> list[tuple[str, str, str]]:
    """(tier, label, rule) from the best tier down, the fallback, then "not enough data"."""
    return tier_rules(icp)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        text = ", ".join(_text(v) for v in value if v not in (None, ""))
    elif isinstance(value, Mapping):
        text = "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    else:
        text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_FIELD_TEXT else text[: MAX_FIELD_TEXT - 1] + "…"


def persona_doc(name: str, data: Mapping[str, Any]) -> PersonaDoc:
    """A stored persona's readable fields, known ones first; repeats (hooks) shown once."""
    keys = [k for k in PERSONA_FIELDS if k in data]
    keys += [k for k in data if k not in PERSONA_FIELDS and k not in PERSONA_SKIPPED]
    fields: list[tuple[str, str]] = []
    shown: set[str] = set()
    for key in keys:
        text = _text(data[key])
        if text and text not in shown:
            shown.add(text)
            fields.append((str(key).replace("_", " ").capitalize(), text))
    return PersonaDoc(name=_text(name) or "Persona", fields=tuple(fields))


def _citation_text(citation: Any) -> str:
    """A drafter's citation ({source, quote}) as "source: “quote”"."""
    if not isinstance(citation, Mapping):
        return ""
    quote, source = _text(citation.get("quote")), _text(citation.get("source"))
    if quote and source:
        return f"{source}: “{quote}”"
    return quote or source


def evidence_of(icp: ICP, citations: Mapping[str, Any] | None = None) -> tuple[tuple[str, str], ...]:
    """Every evidence id the bins and disqualifiers cite, in order, with its text when known
    (the ICP's own evidence notes first, else the drafter's citation of it)."""
    cited: dict[str, None] = {}
    rules: tuple[Criterion | Disqualifier, ...] = (*icp.criteria, *icp.disqualifiers)
    for item in rules:
        for ref in item.evidence:
            cited.setdefault(ref, None)
    for ref in icp.evidence:
        cited.setdefault(ref, None)
    found = citations or {}
    return tuple((ref, _text(icp.evidence.get(ref, "")) or _citation_text(found.get(ref))) for ref in cited)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def backtest_doc(data: Mapping[str, Any] | None) -> BacktestDoc | None:
    """The stored backtest (``icp_engine.backtest.Backtest.to_dict``), read defensively."""
    if not isinstance(data, Mapping) or not data:
        return None
    tiers = []
    for row in data.get("tiers") or []:
        if isinstance(row, Mapping) and row.get("tier") is not None:
            n = _number(row.get("n"))
            tiers.append(
                TierResult(
                    tier=str(row["tier"]),
                    label=_text(row.get("label") or ""),
                    deals=int(n) if n is not None else 0,
                    win_rate=_number(row.get("win_rate")),
                )
            )
    n = _number(data.get("n"))
    top = data.get("top_tier")
    return BacktestDoc(
        deals=int(n) if n is not None else None,
        win_rate=_number(data.get("win_rate")),
        auc=_number(data.get("auc")),
        tiers=tuple(tiers),
        top_tier=str(top) if top is not None else None,
        top_tier_lift=_number(data.get("top_tier_lift")),
        coverage=_number(data.get("coverage")),
    )


def _draft(row: IcpVersion) -> Mapping[str, Any]:
    draft = getattr(row, "draft_json", None)
    return draft if isinstance(draft, Mapping) else {}


def words_of(items: Any) -> tuple[str, ...]:
    """The texts of a draft's traits (``[{text, evidence}]`` or plain strings), each once."""
    out: dict[str, None] = {}
    for item in items if isinstance(items, list | tuple) else []:
        text = _text(item.get("text") if isinstance(item, Mapping) else item)
        if text:
            out.setdefault(text, None)
    return tuple(out)[:MAX_WORDS]


def plays_of(draft: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Per-tier plays a draft stored as ``{"plays": {"A": "…"}}``; none by default."""
    plays = draft.get("plays")
    if not isinstance(plays, Mapping):
        return ()
    return tuple((str(tier), _text(text)) for tier, text in plays.items() if _text(text))


def document_from(
    row: IcpVersion,
    *,
    workspace: str,
    personas: Sequence[tuple[str, Mapping[str, Any]]] = (),
    generated_at: datetime | None = None,
    owner: str | None = None,
    people: Mapping[str, str] | None = None,
    next_review: datetime | None = None,
) -> ExportDocument:
    """The document of one stored version (ICPError when its ICP no longer validates)."""
    icp = load_icp(row)
    extra = {} if generated_at is None else {"generated_at": generated_at}
    draft = _draft(row)
    return ExportDocument(
        workspace=workspace,
        icp=icp,
        version=row.version,
        segment=row.segment,
        status=IcpStatus(row.status).value,
        author=row.author,
        created_at=row.created_at,
        approver=row.approver,
        approved_at=row.approved_at,
        change_note=row.change_note,
        personas=tuple(persona_doc(name, data) for name, data in personas),
        evidence=evidence_of(icp, _citations(row)),
        backtest=backtest_doc(row.backtest),
        pains=words_of(draft.get("pains")),
        triggers=words_of(draft.get("triggers")),
        owner=owner,
        people=tuple(sorted((people or {}).items())),
        next_review=next_review,
        plays=plays_of(draft),
        **extra,
    )


def _citations(row: IcpVersion) -> Mapping[str, Any]:
    """What the drafter said each evidence id is (stored with the draft), when it was drafted."""
    found = _draft(row).get("citations")
    return found if isinstance(found, Mapping) else {}


def load_document(
    engine: Engine,
    *,
    team_id: str,
    version: int | None = None,
    segment: str = DEFAULT_SEGMENT,
    generated_at: datetime | None = None,
) -> ExportDocument:
    """Version ``version`` of the workspace's ICP, or the approved one, or else the newest draft."""
    with read_scope(engine) as session:
        ws = get_workspace(session=session, slack_team_id=team_id)
        if ws is None or ws.id is None:
            raise VersionNotFound(f"workspace {team_id} has no ICP yet")
        row = (
            get_active_icp(session=session, workspace_id=ws.id, segment=segment) if version is None else None
        )
        if row is None:
            row = pick_version(segment_versions(session, ws.id, segment), version, segment)
        assert row.id is not None
        return document_in(session, row, workspace_id=ws.id, team_id=team_id, generated_at=generated_at)


def document_in(
    session: Session,
    row: IcpVersion,
    *,
    workspace_id: int,
    team_id: str,
    generated_at: datetime | None = None,
) -> ExportDocument:
    """The document of ``row``, read within an open session (ICPError if it no longer validates)."""
    assert row.id is not None
    personas = [
        (p.name, p.persona_json)
        for p in list_personas(session=session, workspace_id=workspace_id, icp_version_id=row.id)
    ]
    owner, next_review = _owner_and_review(session, workspace_id)
    people = {
        s.slack_user_id: s.display_name
        for s in list_stakeholders(session=session, workspace_id=workspace_id)
        if s.display_name
    }
    return document_from(
        row,
        workspace=team_id,
        personas=personas,
        generated_at=generated_at,
        owner=owner,
        people=people,
        next_review=next_review,
    )


def _owner_and_review(session: Session, workspace_id: int) -> tuple[str | None, datetime | None]:
    """Who owns the ICP (the review reminder's owner, else the installer, else an added owner)
    and when the next review is due (the next enabled reminder)."""
    reminder = next_enabled_reminder(session, workspace_id=workspace_id)
    owner = reminder.owner if reminder is not None else None
    owner = owner or active_installer(session=session, workspace_id=workspace_id)
    if owner is None:
        owner = next(iter(added_owners(session=session, workspace_id=workspace_id)), None)
    return owner, reminder.next_run_at if reminder is not None else None


def with_names(doc: ExportDocument, names: Mapping[str, str]) -> ExportDocument:
    """The document with more display names (e.g. looked up in Slack) for its people."""
    known = dict(doc.people)
    known.update({k: v for k, v in names.items() if v})
    return replace(doc, people=tuple(sorted(known.items())))
