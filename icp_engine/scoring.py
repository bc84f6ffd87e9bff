"""Deterministic fit scoring of one account against an ICP scorecard, explained line by line.

Points are centred, so the score is a fixed monotone map of the account's total points:

    score = 100 × 1 / (1 + exp(−total × ln 2 / 20))

0 points (the average account, or nothing known) gives 50; every 20 points doubles the odds of
winning against the average account; the map never changes with the data, so a favourable fact
always raises a score and an unfavourable one always lowers it. An unknown attribute adds 0
points, exactly like an average value. How much of the ICP's weight is known is reported beside
the score as `confidence`, never folded into it; below the ICP's `min_confidence` the account gets
no tier ("?", not enough data) and the answer lists the attributes to ask for. Any disqualifier that
matches sets the score to 0 and the tier to the fallback tier, and the line says why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from icp_engine.model import (
    FALLBACK_TIER,
    ICP,
    LIST_OPS,
    NO_TIER,
    Condition,
    Criterion,
    format_value,
)
from icp_engine.ops import evaluate, is_missing

Status = Literal["matched", "missed", "unknown"]
CharacteristicStatus = Literal["matched", "average", "unknown"]

POINTS_TO_DOUBLE_ODDS = 20
_LOG_ODDS_PER_POINT = math.log(2.0) / POINTS_TO_DOUBLE_ODDS

# id(icp) -> (icp, compiled): ICPs are frozen, and holding the object keeps its id unique.
_COMPILED: dict[int, tuple[ICP, CompiledICP]] = {}


@dataclass(frozen=True)
class CompiledICP:
    """What scoring needs, computed once per ICP."""

    icp: ICP
    tiers: tuple[tuple[str, float], ...]
    conditions: tuple[tuple[Condition, ...], ...]  # per bin (entry of icp.criteria)
    descriptions: tuple[str, ...]  # per bin
    attributes: tuple[tuple[str, ...], ...]  # per bin
    characteristic_of: tuple[int, ...]  # bin -> characteristic index
    weights: tuple[float, ...]  # per characteristic: its largest |points|
    best: tuple[float, ...]  # per characteristic: the most points it can give
    total_weight: float
    disqualifier_texts: tuple[str, ...]
    mentioned: tuple[str, ...]  # every attribute a characteristic or disqualifier looks at, sorted

    @property
    def achievable(self) -> float:
        return float(sum(self.best))


def _best_points(bins: list[Criterion]) -> float:
    """The most one characteristic can give an account (0 if no bin helps).

    Learned bins never overlap, but hand-written ones may (and list items always can), and
    matched points add up; so every value that reaches a distinct combination of bins is tried.
    """
    if all(cond.op in LIST_OPS for b in bins for cond in b.conditions):
        return float(sum(max(0.0, float(b.points)) for b in bins))
    if any(len(b.conditions) > 1 for b in bins):  # a pair: bins of value pairs do not overlap
        return max(0.0, *(float(b.points) for b in bins))
    probes: list[Any] = []
    for b in bins:
        cond = b.conditions[0]
        for v in cond.values:
            probes.append(v)
            if isinstance(v, int | float) and not isinstance(v, bool):
                probes += [math.nextafter(float(v), math.inf), math.nextafter(float(v), -math.inf)]
    attribute = bins[0].conditions[0].attribute
    best = 0.0
    for probe in probes:
        total = sum(float(b.points) for b in bins if criterion_status(b, {attribute: probe}) == "matched")
        best = max(best, total)
    return best


def compile_icp(icp: ICP) -> CompiledICP:
    """Flatten bins and weigh characteristics; cached per (immutable) ICP object."""
    hit = _COMPILED.get(id(icp))
    if hit is not None and hit[0] is icp:
        return hit[1]
    criteria = icp.criteria
    weights = tuple(ch.weight for ch in icp.characteristics)
    attributes = tuple(c.attributes for c in criteria)
    compiled = CompiledICP(
        icp=icp,
        tiers=tuple((name, float(t)) for name, t in icp.ordered_tiers()),
        conditions=tuple(c.conditions for c in criteria),
        descriptions=tuple(c.describe() for c in criteria),
        attributes=attributes,
        characteristic_of=tuple(icp.characteristic_of()),
        weights=weights,
        best=tuple(_best_points(ch.bins) for ch in icp.characteristics),
        total_weight=float(sum(weights)),
        disqualifier_texts=tuple(d.condition.describe() for d in icp.disqualifiers),
        mentioned=tuple(
            sorted(
                {a for ch in icp.characteristics for a in ch.attributes}
                | {d.attribute for d in icp.disqualifiers}
            )
        ),
    )
    if len(_COMPILED) >= 256:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[id(icp)] = (icp, compiled)
    return compiled


def score_from_points(total: float) -> float:
    """The fixed map of total points to 0–100, rounded half-up to one decimal (batch uses it too)."""
    z = total * _LOG_ODDS_PER_POINT
    x = 100.0 / (1.0 + math.exp(-z)) if z >= -700 else 0.0
    return math.floor(x * 10.0 + 0.5) / 10.0


def win_probability(total: float, icp: ICP) -> float | None:
    """The win rate the ICP's calibration predicts for this many points (None when uncalibrated)."""
    if icp.calibration is None:
        return None
    base = icp.calibration.base_rate
    z = math.log(base / (1.0 - base)) + total * _LOG_ODDS_PER_POINT
    return 1.0 / (1.0 + math.exp(-z)) if z >= -700 else 0.0


def confidence_of(known_weight: float, total_weight: float) -> float:
    return 1.0 if total_weight <= 0 else math.floor(known_weight / total_weight * 100.0 + 0.5) / 100.0


def pick_tier(score: float, tiers: tuple[tuple[str, float], ...]) -> str:
    for name, threshold in tiers:
        if score >= threshold:
            return name
    return FALLBACK_TIER


def criterion_status(c: Criterion, values: Mapping[str, Any]) -> Status:
    """Matched if every condition holds; missed if any known condition fails; else unknown."""
    return _status(c.conditions, values)


def _status(conditions: tuple[Condition, ...], values: Mapping[str, Any]) -> Status:
    all_matched = True
    for cond in conditions:
        known, matched = evaluate(cond.op, cond.values, values.get(cond.attribute))
        if known and not matched:
            return "missed"
        if not (known and matched):
            all_matched = False
    return "matched" if all_matched else "unknown"


# --- results ---------------------------------------------------------------------------------


class CriterionLine(BaseModel):
    """One bin: what it asks, what the account has, what it earned (0 unless matched)."""

    model_config = ConfigDict(frozen=True)

    index: int
    characteristic: int
    criterion: str
    status: Status
    value: str
    points: float
    max_points: float
    evidence: list[str]

    def text(self) -> str:
        mark = {"matched": "✓", "missed": "✗", "unknown": "?"}[self.status]
        pts = _signed(self.points) if self.status == "matched" else f"0 of {_signed(self.max_points)}"
        return f"{mark} {self.criterion} — {self.value} ({pts})"


class CharacteristicLine(BaseModel):
    """One characteristic: the account's value and the points it earned from it."""

    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    attributes: list[str]
    status: CharacteristicStatus
    value: str
    points: float
    weight: float
    matched: list[str]  # the bins that matched, described
    evidence: list[str]

    def text(self) -> str:
        if self.status == "unknown":
            return f"   ? {self.name}: unknown (0; worth up to ±{_fmt_pts(self.weight)})"
        why = "; ".join(self.matched) if self.matched else "like the average account"
        return f"{_signed(self.points):>4} {self.name}: {self.value} ({why})"


class DisqualifierHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    reason: str
    condition: str
    value: str


class ScoreResult(BaseModel):
    """Everything a score card shows; identical input gives byte-identical JSON."""

    model_config = ConfigDict(frozen=True)

    icp_name: str
    icp_version: int | None
    score: float
    tier: str
    tier_label: str
    fit_score: float  # the score before disqualifiers were applied
    earned: float  # total points
    achievable: float  # the most points any account could earn
    win_probability: float | None
    confidence: float
    disqualified: bool
    disqualifiers: list[DisqualifierHit]
    unchecked_disqualifiers: list[str]
    characteristics: list[CharacteristicLine]
    lines: list[CriterionLine]
    unknown: list[str]
    ask_for: list[str]  # unknown attributes, heaviest characteristic first, when the tier needs more data

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))

    def explain(self) -> list[str]:
        version = f" v{self.icp_version}" if self.icp_version is not None else ""
        head = f"Score {self.score:g}/100 — tier {self.tier} ({self.tier_label}) — ICP '{self.icp_name}'{version}"
        facts = [f"{_signed(self.earned)} points"]
        if self.win_probability is not None:
            facts.append(f"expected win rate {self.win_probability:.0%}")
        facts.append(f"confidence {self.confidence:.0%}")
        out = [head, ", ".join(facts)]
        for hit in self.disqualifiers:
            out.append(
                f"⛔ Disqualified: {hit.reason} ({hit.condition}: {hit.value}); fit alone: {self.fit_score:g}"
            )
        out += [line.text() for line in self.characteristics]
        for d in self.unchecked_disqualifiers:
            out.append(f"? Could not check disqualifier: {d}")
        if self.ask_for:
            out.append(f"Not enough data for a tier: ask for {', '.join(self.ask_for)}")
        return out


def _fmt_pts(p: float) -> str:
    return f"{int(p)}" if float(p).is_integer() else f"{p:g}"


def _signed(p: float) -> str:
    if p == 0:
        return "0"
    return f"+{_fmt_pts(p)}" if p > 0 else f"−{_fmt_pts(-p)}"


def _display(values: Mapping[str, Any], attrs: tuple[str, ...] | list[str]) -> str:
    if len(attrs) == 1:
        return format_value(values.get(attrs[0]))
    return "; ".join(f"{a} {format_value(values.get(a))}" for a in attrs)


def score(account: Mapping[str, Any], icp: ICP | CompiledICP) -> ScoreResult:
    """Score one account (already normalised attribute values) against an ICP."""
    comp = icp if isinstance(icp, CompiledICP) else compile_icp(icp)
    model = comp.icp
    criteria = model.criteria
    statuses = [_status(conditions, account) for conditions in comp.conditions]

    per_char = [0.0] * len(model.characteristics)
    matched_bins: list[list[int]] = [[] for _ in model.characteristics]
    for j, (c, st) in enumerate(zip(criteria, statuses, strict=True)):
        if st == "matched":
            k = comp.characteristic_of[j]
            per_char[k] += float(c.points)
            matched_bins[k].append(j)
    earned = 0.0
    for p in per_char:
        earned += p
    known_weight = 0.0
    char_lines: list[CharacteristicLine] = []
    unknown_chars: list[tuple[float, int, list[str]]] = []
    for k, ch in enumerate(model.characteristics):
        known = all(not is_missing(account.get(a)) for a in ch.attributes)
        if known:
            known_weight += comp.weights[k]
        else:
            unknown_chars.append(
                (comp.weights[k], k, [a for a in ch.attributes if is_missing(account.get(a))])
            )
        status: CharacteristicStatus = "matched" if matched_bins[k] else ("average" if known else "unknown")
        char_lines.append(
            CharacteristicLine(
                index=k,
                name=ch.name,
                attributes=list(ch.attributes),
                status=status,
                value=_display(account, ch.attributes),
                points=per_char[k],
                weight=comp.weights[k],
                matched=[comp.descriptions[j] for j in matched_bins[k]],
                evidence=[e for j in matched_bins[k] for e in criteria[j].evidence],
            )
        )
    fit = score_from_points(earned)
    confidence = confidence_of(known_weight, comp.total_weight)

    hits: list[DisqualifierHit] = []
    unchecked: list[str] = []
    for i, d in enumerate(model.disqualifiers):
        known_d, matched = evaluate(d.op, d.values, account.get(d.attribute))
        if matched:
            hits.append(
                DisqualifierHit(
                    index=i,
                    reason=d.reason,
                    condition=comp.disqualifier_texts[i],
                    value=format_value(account.get(d.attribute)),
                )
            )
        elif not known_d:
            unchecked.append(f"{d.reason} ({comp.disqualifier_texts[i]})")
    disqualified = bool(hits)
    final = 0.0 if disqualified else fit
    ask_for: list[str] = []
    if disqualified:
        tier = FALLBACK_TIER
    elif confidence < model.min_confidence:
        tier = NO_TIER
        # The attributes to ask for, from the heaviest unknown characteristic down.
        wanted = (a for _, _, attrs in sorted(unknown_chars, key=lambda t: (-t[0], t[1])) for a in attrs)
        ask_for = list(dict.fromkeys(wanted))
    else:
        tier = pick_tier(final, comp.tiers)

    lines = [
        CriterionLine(
            index=j,
            characteristic=comp.characteristic_of[j],
            criterion=comp.descriptions[j],
            status=st,
            value=_display(account, comp.attributes[j]),
            points=float(c.points) if st == "matched" else 0.0,
            max_points=float(c.points),
            evidence=list(c.evidence),
        )
        for j, (c, st) in enumerate(zip(criteria, statuses, strict=True))
    ]
    unknown = [a for a in comp.mentioned if is_missing(account.get(a))]
    return ScoreResult(
        icp_name=model.name,
        icp_version=model.version,
        score=final,
        tier=tier,
        tier_label=model.tier_label(tier),
        fit_score=fit,
        earned=earned,
        achievable=comp.achievable,
        win_probability=None if disqualified else win_probability(earned, model),
        confidence=confidence,
        disqualified=disqualified,
        disqualifiers=hits,
        unchecked_disqualifiers=unchecked,
        characteristics=char_lines,
        lines=lines,
        unknown=unknown,
        ask_for=ask_for,
    )


__all__ = [
    "LIST_OPS",
    "POINTS_TO_DOUBLE_ODDS",
    "CharacteristicLine",
    "CompiledICP",
    "CriterionLine",
    "DisqualifierHit",
    "ScoreResult",
    "compile_icp",
    "confidence_of",
    "criterion_status",
    "pick_tier",
    "score",
    "score_from_points",
    "win_probability",
]
