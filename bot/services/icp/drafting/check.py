"""Check: the engine decides what a proposal may claim.

* Points come only from the data: the scoring ICP is the engine's learned ICP (its
  characteristics, their bins' points, disqualifiers and tiers). A drafter adds words and
  evidence, never points.
* Points are centred (0 = like the average account): a learned bin keeps its signed points. A
  proposed criterion (a trait of the ideal customer) that matches a learned bin with positive
  points joins it (its evidence is added); one the data cannot check (an attribute the CRM does
  not have, a value it never tested) or do not support (its bins score at or below average)
  becomes a hypothesis with 0 points; one without evidence in the pool is dropped.
* Evidence ids outside the pool are removed; a trait left without evidence is dropped.
* No sentence is in two personas: a persona's statement that repeats an earlier persona's is
  removed (``persona_overlap``), whichever drafter wrote it.
* The result is backtested on the CRM history, and disagreements (between stakeholders, and
  between what they said and the data) are listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.services.icp.drafting.evidence import OVERALL_ID, shorten
from bot.services.icp.drafting.gather import AnswerEvidence, Gathered
from bot.services.icp.drafting.models import (
    BacktestSummary,
    Citation,
    Conflict,
    DraftedIcp,
    DraftedPersona,
    TierSummary,
    Trait,
)
from bot.services.icp.drafting.persona_overlap import distinct_personas
from bot.services.icp.drafting.proposal import Proposal, ProposedCriterion
from icp_engine.backtest import Backtest, backtest
from icp_engine.model import ICP, Criterion, ICPError
from icp_engine.stats import SegmentStat

MAX_CRITERION_ANSWERS = 5
MAX_CONFLICTS = 10
DESCRIPTION_CHARS = 600
POSITIVE_TOPICS = frozenset({"best_customers", "value", "expansion"})
NEGATIVE_TOPICS = frozenset({"bad_fit", "churn"})


@dataclass
class Checked:
    drafted: DraftedIcp
    personas: list[DraftedPersona]
    pains: list[Trait]
    goals: list[Trait]
    triggers: list[Trait]
    disqualifiers: list[Trait]
    narrative: str
    backtest: BacktestSummary | None
    conflicts: list[Conflict]
    notes: list[str] = field(default_factory=list)


# -- evidence ------------------------------------------------------------------------------------


def _known(ids: Iterable[str], pool: dict[str, Citation]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and i.strip() in pool))


def _clean_traits(traits: Sequence[Trait], pool: dict[str, Citation], dropped: list[str]) -> list[Trait]:
    out = []
    for t in traits:
        ids = _known(t.evidence, pool)
        if not ids or not t.text.strip():
            dropped.append(t.text)
            continue
        out.append(Trait(text=t.text.strip(), evidence=ids))
    return out


def _clean_persona(p: DraftedPersona, pool: dict[str, Citation], dropped: list[str]) -> DraftedPersona | None:
    fields: dict[str, Any] = {
        "name": p.name.strip() or "Persona",
        "titles": [t for t in p.titles if t.strip()],
        "role": p.role,
    }
    for name in DraftedPersona.SCALAR_FIELDS:
        trait = getattr(p, name)
        if trait is not None:
            kept = _clean_traits([trait], pool, dropped)
            fields[name] = kept[0] if kept else None
    for name in DraftedPersona.LIST_FIELDS:
        fields[name] = _clean_traits(getattr(p, name), pool, dropped)
    persona = DraftedPersona(**fields)
    return persona if persona.evidence else None


# -- mentions of data values in answers ----------------------------------------------------------


def _value_segments(g: Gathered) -> list[SegmentStat]:
    if g.analysis is None:
        return []
    return [
        s
        for s in g.analysis.segments
        if s.segment.kind in ("value", "contains") and s.segment.value and len(str(s.segment.value)) >= 3
    ]


def _pattern(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(value)}(?![\w-])", re.IGNORECASE)


def mentions(g: Gathered) -> dict[str, list[AnswerEvidence]]:
    """Segment id → the answers that name its value ("fintech", "salesforce")."""
    out: dict[str, list[AnswerEvidence]] = {}
    for s in _value_segments(g):
        pattern = _pattern(str(s.segment.value))
        said = [a for a in g.answers if pattern.search(a.text)]
        if said:
            out[s.id] = said
    return out


# -- criteria ------------------------------------------------------------------------------------


def _values_of(c: Criterion) -> set[str]:
    """Values a criterion rewards by naming them (not those it names to exclude)."""
    return {
        str(v).casefold()
        for cond in c.conditions
        if cond.op in ("eq", "in", "contains_any", "contains_all")
        for v in cond.values
    }


def _matches(p: ProposedCriterion, c: Criterion) -> bool:
    if p.attribute not in c.attributes:
        return False
    numeric = [v for v in p.values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numeric:
        low, high = min(numeric), max(numeric)
        for cond in c.conditions:
            nums = [v for v in cond.values if isinstance(v, int | float) and not isinstance(v, bool)]
            if cond.attribute == p.attribute and nums:
                if cond.op in ("gte", "gt") and high >= nums[0]:
                    return True
                if cond.op in ("lt", "lte") and low < nums[0]:
                    return True
                if cond.op == "between" and low <= nums[1] and high >= nums[0]:
                    return True
        return False
    return bool({str(v).casefold() for v in p.values} & _values_of(c))


def _names_any(text: str, values: Sequence[object]) -> bool:
    folded = text.casefold()
    return any(str(v).casefold() in folded for v in values if str(v).strip())


def signed_points(points: float) -> str:
    """'+12', '−8' (a real minus sign), '0': centred points read as better or worse than average."""
    if points == 0:
        return "0"
    text = f"{abs(points):g}"
    return f"+{text}" if points > 0 else f"−{text}"


def _data_note(p: ProposedCriterion, g: Gathered, below: Sequence[Criterion] = ()) -> str:
    """What the data says about a proposed value it does not support; ``below`` are the learned
    bins it matches, all scoring at or below the average account."""
    if g.analysis is None:
        return "no closed deals to check it against"
    scored = ""
    if below:
        named = ", ".join(f"{c.describe()} {signed_points(c.points)}" for c in below[:3])
        scored = f"the learned ICP scores it at or below the average account ({named} points)"
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in p.values):
        return (
            f"the data do not support it: {scored}"
            if scored
            else (f"no {p.attribute} range like this is supported by the won and lost deals")
        )
    wanted = {str(v).casefold() for v in p.values}
    o = g.analysis.overall
    for s in g.analysis.segments:
        if s.segment.attribute == p.attribute and str(s.segment.value or "").casefold() in wanted:
            figures = (
                f"the data do not support it: {s.segment.label} win rate {s.win_rate:.0%} vs "
                f"{o.win_rate:.0%} overall, n={s.deals}" + ("" if s.significant else ", not significant")
            )
            return f"{figures}; {scored}" if scored else figures
    if scored:
        return f"the data do not support it: {scored}"
    return "the data have too few deals with this value to test it"


def _hypothesis(p: ProposedCriterion, ids: list[str], why: str) -> Criterion | None:
    op = p.op if p.op else "in"
    values: list[Any] = list(p.values)
    if op == "eq" and len(values) > 1:
        op = "in"
    try:
        return Criterion(
            attribute=p.attribute,
            op=op,  # type: ignore[arg-type]
            values=values,
            points=0,
            evidence=ids,
            rationale=shorten(
                f"Hypothesis (0 points until an owner weighs it): {why}. {p.rationale}".strip(), 400
            ),
        )
    except (ValueError, ICPError):
        return None


def _criteria(
    p: Proposal,
    g: Gathered,
    pool: dict[str, Citation],
    said: dict[str, list[AnswerEvidence]],
    notes: list[str],
) -> tuple[list[Criterion], list[Criterion]]:
    learned = list(g.learned.icp.criteria) if g.learned is not None else []
    extra: list[list[str]] = [[] for _ in learned]
    # Answers that name a learned criterion's value are its evidence too.
    by_value: dict[str, list[str]] = {}
    for seg_id, answers in said.items():
        by_value.setdefault(seg_id, []).extend(a.id for a in answers)
    for n, c in enumerate(learned):
        for seg_id in c.evidence:
            extra[n].extend(by_value.get(seg_id, []))
    known_attributes = set(g.closed.columns) & set(g.crm.attributes) if g.analysis is not None else set()
    hypotheses: list[Criterion] = []
    dropped = 0
    for proposed in p.criteria:
        ids = _known(proposed.evidence, pool)
        if not ids:
            dropped += 1
            continue
        # A proposal describes the ideal customer: it joins only bins that score above the
        # average account. One whose values the data score at or below average is a claim the
        # data do not support, so it stays a 0-point hypothesis (and the conflicts say why).
        hits = [n for n, c in enumerate(learned) if _matches(proposed, c) and c.points > 0]
        if hits:
            # An answer joins a data-backed criterion only if it names one of the values.
            named = [i for i in ids if i.startswith("ans:") and _names_any(pool[i].quote, proposed.values)]
            for n in hits:
                extra[n].extend(named)
            continue
        if proposed.attribute in known_attributes:
            why = _data_note(proposed, g, [c for c in learned if _matches(proposed, c)])
        else:
            why = f"the CRM data have no attribute {proposed.attribute!r}"
        h = _hypothesis(proposed, ids, why)
        if h is None:
            dropped += 1
        elif all(h.describe() != other.describe() for other in hypotheses):
            hypotheses.append(h)
    if dropped:
        notes.append(f"dropped {dropped} proposed criteria without valid evidence or a valid rule")
    criteria = []
    for c, more in zip(learned, extra, strict=True):
        answer_ids = list(dict.fromkeys(more))[:MAX_CRITERION_ANSWERS]
        criteria.append(c.model_copy(update={"evidence": list(dict.fromkeys([*c.evidence, *answer_ids]))}))
    return criteria, hypotheses


def _with_bins(icp: ICP, bins: Sequence[Criterion]) -> list[dict[str, Any]]:
    """The ICP's characteristics (order, attributes, labels) with ``bins`` in place of their bins,
    ``bins`` being the flat ``icp.criteria`` with more evidence: points and grouping stay the data's."""
    out: list[dict[str, Any]] = []
    rest = iter(bins)
    for ch in icp.characteristics:
        out.append({**ch.model_dump(), "bins": [next(rest).model_dump() for _ in ch.bins]})
    return out


# -- conflicts -----------------------------------------------------------------------------------


def _who_says(answers: Sequence[AnswerEvidence], verb: str) -> str:
    """'sales names', 'sales and marketing name' (roles, never people)."""
    roles = sorted({a.role.replace("_", " ") for a in answers})
    who = " and ".join(roles) if len(roles) <= 2 else ", ".join(roles[:-1]) + " and " + roles[-1]
    return f"{who} {verb + 's' if len(roles) == 1 else verb}"


def conflicts_of(g: Gathered, said: dict[str, list[AnswerEvidence]]) -> list[Conflict]:
    """Where people disagree with the data, or with each other, about a named segment."""
    if g.analysis is None:
        return []
    overall = g.analysis.overall.win_rate
    out: list[Conflict] = []
    for s in _value_segments(g):
        answers = said.get(s.id, [])
        value = str(s.segment.value)
        good = [a for a in answers if a.topic in POSITIVE_TOPICS]
        bad = [a for a in answers if a.topic in NEGATIVE_TOPICS]
        figures = f"{value} win rate {s.win_rate:.0%} vs {overall:.0%} overall, n={s.deals}"
        below = s.win_rate < overall and (s.significant or s.ci_high < overall)
        above = s.win_rate > overall and (s.significant or s.ci_low > overall)
        claims = [
            (good, below, f"{_who_says(good, 'name')} {value} among the best customers"),
            (bad, above, f"{_who_says(bad, 'call')} {value} a bad fit"),
        ]
        for who, against, claim in claims:
            if who and against:
                ids = [*(a.id for a in who[:5]), s.id, OVERALL_ID]
                out.append(
                    Conflict(
                        kind="data", topic=s.segment.attribute, statement=f"{claim}; {figures}", evidence=ids
                    )
                )
        if good and bad and {a.stakeholder for a in good} != {a.stakeholder for a in bad}:
            statement = f"{claims[0][2]}; {_who_says(bad, 'name')} it a bad fit or a churn risk ({figures})"
            ids = [*(a.id for a in good[:3]), *(a.id for a in bad[:3]), s.id]
            out.append(
                Conflict(kind="stakeholders", topic=s.segment.attribute, statement=statement, evidence=ids)
            )
    out.sort(key=lambda c: (c.kind != "data", c.statement))
    return out[:MAX_CONFLICTS]


# -- backtest ------------------------------------------------------------------------------------


def summarise_backtest(bt: Backtest, learned_auc: float | None) -> BacktestSummary:
    return BacktestSummary(
        n=bt.n,
        wins=bt.wins,
        win_rate=round(bt.win_rate, 4),
        auc=round(bt.auc, 4),
        top_tier=bt.top_tier,
        top_tier_lift=round(bt.top_tier_lift, 4),
        top_tier_win_capture=round(bt.top_tier_win_capture, 4),
        tiers=[
            TierSummary(
                tier=t.tier,
                label=t.label,
                n=t.n,
                wins=t.wins,
                win_rate=round(t.win_rate, 4),
                share=round(t.share, 4),
            )
            for t in bt.tiers
        ],
        learned_auc=None if learned_auc is None else round(learned_auc, 4),
    )


def check(p: Proposal, g: Gathered, pool: dict[str, Citation]) -> Checked:
    """The stored draft of a proposal: evidence checked, points from the data, backtested."""
    notes: list[str] = []
    said = mentions(g)
    criteria, hypotheses = _criteria(p, g, pool, said, notes)
    base = g.learned.icp if g.learned is not None else ICP(name=p.name or "Drafted ICP")
    narrative = " ".join(p.narrative.split())
    icp = ICP.model_validate(
        {
            **base.model_dump(exclude={"characteristics"}),
            "name": shorten(p.name or base.name, 120),
            "description": shorten(narrative, DESCRIPTION_CHARS) if narrative else base.description,
            "characteristics": _with_bins(base, criteria),
        }
    )
    dropped: list[str] = []
    personas = [x for x in (_clean_persona(q, pool, dropped) for q in p.personas) if x is not None]
    if len(personas) < len(p.personas):
        notes.append(f"dropped {len(p.personas) - len(personas)} persona(s) without evidence")
    personas, repeated = distinct_personas(personas)
    if repeated:
        notes.append(f"removed {repeated} statement(s) that repeated another persona's")
    pains = _clean_traits(p.pains, pool, dropped)
    goals = _clean_traits(p.goals, pool, dropped)
    triggers = _clean_traits(p.triggers, pool, dropped)
    disqualifiers = _clean_traits(p.disqualifiers, pool, dropped)
    if dropped:
        notes.append(f"dropped {len(dropped)} statement(s) that cited no known evidence")
    summary = None
    if not g.closed.empty:
        bt = backtest(icp, g.closed)
        learned_auc = backtest(g.learned.icp, g.closed).auc if g.learned is not None else None
        summary = summarise_backtest(bt, learned_auc)
    return Checked(
        drafted=DraftedIcp(icp=icp, hypotheses=hypotheses),
        personas=personas,
        pains=pains,
        goals=goals,
        triggers=triggers,
        disqualifiers=disqualifiers,
        narrative=narrative,
        backtest=summary,
        conflicts=conflicts_of(g, said),
        notes=notes,
    )
