"""What each SQL row becomes in the knowledge store: the text that is embedded and its metadata.

One renderer per kind (answer, statistic, ICP version, persona), pure and deterministic, so that
indexing an answer when it arrives and rebuilding it with ``icp reindex`` give the same vector,
and so that the text an LLM retrieves reads like a sentence a person would write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from bot.knowledge.store import Document, Scalar
from bot.store.models import Answer, IcpVersion, Persona, Stakeholder
from icp_engine.model import FALLBACK_TIER, ICP, NO_TIER, TARGETS, ICPError, format_value
from icp_engine.stats import (  # the wording analyze uses, so documents read the same
    Analysis,
    Cohort,
    CohortDiff,
    Overall,
    SegmentDef,
    SegmentStat,
    _ci,
    _pct,
    _q,
)

#: Source id of the one statistic document written when the data show no significant pattern.
NO_PATTERN_ID = "no-significant-pattern"
#: Source id of the statistic document written when deals exist but none can be analysed.
NO_CLOSED_DEALS_ID = "no-closed-deals"


# -- answers -------------------------------------------------------------------------------------


def answer_document(
    *, answer: Answer, stakeholder: Stakeholder, question_key: str | None = None
) -> Document | None:
    """The document of one interview answer; None for an answer with no text to search."""
    if not answer.text or not answer.text.strip():
        return None
    extra: dict[str, Scalar] = {"interview_id": int(answer.interview_id)}
    if question_key:
        extra["question_key"] = question_key
    return Document(
        kind="answer",
        source_id=str(answer.id),
        text=answer.text,
        stakeholder=stakeholder.slack_user_id,
        role=stakeholder.gtm_role.value,
        created_at=answer.answered_at,
        extra=extra,
    )


# -- statistics ----------------------------------------------------------------------------------


def _lift(lift: float) -> str:
    return f"lift {lift:.2f}" if math.isfinite(lift) else "no wins outside it"


def _who(segment: SegmentDef) -> str:
    """'Accounts with industry = software', 'Accounts whose tech_stack includes salesforce'."""
    if segment.kind == "contains":
        return f"Accounts whose {segment.attribute} includes {segment.value}"
    return f"Accounts with {segment.label}"


def _segment_value(segment: SegmentDef) -> str:
    if segment.kind == "bin":
        return segment.label.removeprefix(f"{segment.attribute} ")
    return str(segment.value)


def _finite_extra(**values: float | int | str | bool | None) -> dict[str, Scalar]:
    """Chroma metadata: no None, no NaN or infinity."""
    out: dict[str, Scalar] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        out[key] = value
    return out


def _value_line(s: SegmentStat) -> str:
    parts = []
    if s.mean_value is not None:
        parts.append(f"mean won deal {format_value(round(s.mean_value))}")
    if s.retention is not None:
        parts.append(f"retention {_pct(s.retention)}")
    if s.nps is not None:
        parts.append(f"NPS {s.nps:.0f}")
    if s.ltv is not None:
        parts.append(f"lifetime value {format_value(round(s.ltv))}")
    return f" Their deals and customers: {', '.join(parts)}." if parts else ""


def segment_document(s: SegmentStat, analysis: Analysis) -> Document:
    """One significant win-rate segment, e.g. 'Accounts with industry = software win 41% of …'."""
    overall = analysis.overall
    text = (
        f"{_who(s.segment)} win {_pct(s.win_rate)} of {s.deals:,} closed deals "
        f"({s.accounts:,} accounts; 95% CI {_ci(s.ci_low, s.ci_high)}), vs {_pct(overall.win_rate)} "
        f"overall; {_lift(s.lift)}; significant after correction for {analysis.tested} segments tested "
        f"({_q(s.q_value)}).{_value_line(s)}"
    )
    extra = _finite_extra(
        stat_type="segment",
        attribute=s.segment.attribute,
        value=_segment_value(s.segment),
        segment_kind=s.segment.kind,
        win_rate=round(s.win_rate, 4),
        ci_low=round(s.ci_low, 4),
        ci_high=round(s.ci_high, 4),
        overall_win_rate=round(overall.win_rate, 4),
        lift=round(s.lift, 4) if math.isfinite(s.lift) else None,
        n=s.deals,
        wins=s.wins,
        accounts=s.accounts,
        q=s.q_value,
        mean_value=s.mean_value,
    )
    return Document(kind="statistic", source_id=s.segment.key, text=text, extra=extra)


def cohort_document(d: CohortDiff, cohort: Cohort) -> Document:
    """One segment that sets the best customers apart (by LTV, ACV, NPS, retention or health)."""
    text = (
        f"Best customers ({cohort.description}; {cohort.size:,} of {cohort.population:,} accounts): "
        f"{d.segment.label} describes {_pct(d.share_in_cohort)} of them vs {_pct(d.share_in_rest)} of "
        f"the other accounts; {_lift(d.lift)}; significant after correction for {cohort.tested} "
        f"segments tested ({_q(d.q_value)})."
    )
    extra = _finite_extra(
        stat_type="cohort",
        best_by=cohort.by,
        attribute=d.segment.attribute,
        value=_segment_value(d.segment),
        segment_kind=d.segment.kind,
        share_in_cohort=round(d.share_in_cohort, 4),
        share_in_rest=round(d.share_in_rest, 4),
        lift=round(d.lift, 4) if math.isfinite(d.lift) else None,
        n=d.in_cohort,
        q=d.q_value,
    )
    return Document(kind="statistic", source_id=d.id, text=text, extra=extra)


def no_pattern_document(analysis: Analysis) -> Document:
    """The plain statement that the win rates show no pattern (an ICP must not invent one)."""
    overall: Overall = analysis.overall
    base = (
        f"{overall.wins:,} of {overall.deals:,} closed deals won ({_pct(overall.win_rate)}) across "
        f"{overall.accounts:,} accounts"
    )
    if analysis.tested:
        text = (
            f"No significant pattern in the CRM data: no segment's win rate differs significantly from "
            f"the overall {_pct(overall.win_rate)} ({base}; {analysis.tested} segments tested, "
            f"Benjamini–Hochberg q < {analysis.alpha:g}). The data do not support firmographic ICP criteria."
        )
    else:
        text = (
            f"No significant pattern in the CRM data: no segment could be tested ({base}; no attribute "
            "value has enough closed deals). The data do not support firmographic ICP criteria."
        )
    extra = _finite_extra(
        stat_type="none",
        win_rate=round(overall.win_rate, 4),
        n=overall.deals,
        tested=analysis.tested,
    )
    return Document(kind="statistic", source_id=NO_PATTERN_ID, text=text, extra=extra)


def no_closed_deals_document(deals: int) -> Document:
    text = (
        f"No CRM statistics yet: {deals:,} deals are stored but none is closed (won or lost) with an "
        "account that is in the CRM data, so there is no win rate to analyse."
    )
    return Document(
        kind="statistic", source_id=NO_CLOSED_DEALS_ID, text=text, extra={"stat_type": "none", "n": 0}
    )


def statistic_documents_of(analysis: Analysis) -> list[Document]:
    """One document per significant segment (win rate) and per significant best-customer trait;
    exactly one plain 'no significant pattern' document when nothing is significant at all."""
    docs = [segment_document(s, analysis) for s in analysis.segments if s.significant]
    if analysis.cohort is not None:
        docs += [cohort_document(d, analysis.cohort) for d in analysis.cohort.diffs if d.significant]
    if not any(s.significant for s in analysis.segments):
        docs.insert(0, no_pattern_document(analysis))
    return docs


# -- ICP versions and personas -------------------------------------------------------------------


def _points(points: float) -> str:
    if points == 0:
        return "0 points"
    return f"{'+' if points > 0 else '−'}{format_value(abs(points))} points"


def render_icp(icp: ICP) -> str:
    """The ICP's characteristics (each bin with its signed points), disqualifiers and tiers as
    sentences, with what the points mean: chat answers "why is X a B?" from this text."""
    lines: list[str] = []
    if icp.description:
        lines.append(icp.description.strip())
    lines.append(f"Target: {icp.target} ({TARGETS.get(icp.target, icp.target)}).")
    if icp.characteristics:
        for ch in icp.characteristics:
            items = []
            for c in ch.bins:
                item = f"{c.describe()} ({_points(c.points)})"
                if c.rationale:
                    item += f": {c.rationale.strip()}"
                items.append(item)
            lines.append(f"Characteristic {ch.name}: " + "; ".join(items) + ".")
        lines.append(
            "Points are centred: 0 is like the average account, positive better, negative worse; "
            "a value in no bin, or an unknown one, scores 0. Score = 100 / (1 + exp(−points × ln 2 / 20)): "
            "0 points is 50 and every 20 points doubles the odds."
        )
    else:
        lines.append("Characteristics: none (every account scores 50).")
    if icp.disqualifiers:
        items = [f"{d.condition.describe()} ({d.reason.strip()})" for d in icp.disqualifiers]
        lines.append("Disqualifiers: " + "; ".join(items) + ".")
    tiers = ", ".join(f"{name} ≥ {format_value(t)} {icp.tier_label(name)}" for name, t in icp.ordered_tiers())
    lines.append(
        f"Tiers: {tiers}, otherwise {FALLBACK_TIER} {icp.tier_label(FALLBACK_TIER)}; "
        f"{NO_TIER} {icp.tier_label(NO_TIER)} when under {icp.min_confidence:.0%} of the ICP's weight is known."
    )
    return " ".join(lines)


def icp_document(version: IcpVersion) -> Document:
    """An ICP version: its criteria in words, with its segment, number and status."""
    head = (
        f'ICP "{version.name}" version {version.version} (segment {version.segment}, {version.status.value}).'
    )
    try:
        body = render_icp(ICP.from_dict(version.icp_json, source=f"ICP version {version.id}"))
    except ICPError:
        body = "Definition: " + json.dumps(version.icp_json, ensure_ascii=False, sort_keys=True)
    text = f"{head} {body}"
    if version.change_note and version.change_note.strip():
        text += f" Change note: {version.change_note.strip()}"
    extra = _finite_extra(
        version=version.version,
        segment=version.segment,
        status=version.status.value,
        name=version.name,
        author=version.author,
        approver=version.approver,
    )
    return Document(
        kind="icp", source_id=str(version.id), text=text, created_at=version.created_at, extra=extra
    )


def _words(key: str) -> str:
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _render_value(value: Any) -> str:
    if isinstance(value, Mapping):
        parts = [f"{k}: {_render_value(v)}" for k, v in value.items() if not _empty(v)]
        return ", ".join(parts)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "; ".join(_render_value(v) for v in value if not _empty(v))
    return format_value(value).strip()


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def persona_document(persona: Persona, version: IcpVersion) -> Document:
    """A buyer persona: every field of it in words (role, goals, challenges, objections…)."""
    head = f'Buyer persona "{persona.name}" of ICP "{version.name}" version {version.version}.'
    fields = [
        f"{_words(str(key))}: {_render_value(value)}."
        for key, value in persona.persona_json.items()
        if not _empty(value) and str(key) != "name"
    ]
    extra = _finite_extra(
        icp_version_id=int(version.id or 0),
        version=version.version,
        segment=version.segment,
        position=persona.position,
    )
    return Document(
        kind="persona",
        source_id=str(persona.id),
        text=" ".join([head, *fields]),
        created_at=persona.created_at,
        extra=extra,
    )
