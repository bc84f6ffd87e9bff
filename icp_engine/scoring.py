"""Deterministic fit scoring of one account against an ICP, explained line by line.

The score is the share of achievable points an account earns, 0–100:

    score = 100 × earned / achievable

`earned` adds the points of every matched criterion. `achievable` is the best total an account
could reach: criteria on the same attribute are alternatives (an account has one industry), so
each attribute contributes the best combination of its criteria, found by trying every boundary
value the ICP mentions. With `missing: neutral` an attribute we know nothing about is left out
of both sides (the account is judged on what we know, and `confidence` says how much that is);
with `missing: no_match` it counts as a miss. Any disqualifier that matches sets the score to 0
and the tier to the fallback tier, and the line says why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from icp_engine.model import (
    FALLBACK_TIER,
    ICP,
    LIST_OPS,
    NUMERIC_OPS,
    PRESENCE_OPS,
    Condition,
    Criterion,
    format_value,
)
from icp_engine.ops import evaluate, is_missing

Status = Literal["matched", "missed", "unknown"]

_OTHER = "\x00other"
# id(icp) -> (icp, compiled): ICPs are frozen, and holding the object keeps its id unique.
_COMPILED: dict[int, tuple[ICP, CompiledICP]] = {}


@dataclass(frozen=True)
class Group:
    """Criteria that compete for the same attribute, with the best total they allow together.

    `max_if_missing` is what the group can still give when its attribute is unknown (only
    `exists`/`missing` criteria are decidable then); under `missing: neutral` that replaces
    `max_points`, so unknown criteria count on neither side.
    """

    attribute: str | None  # None: a group of one multi-attribute criterion
    members: tuple[int, ...]
    max_points: float
    max_if_missing: float


@dataclass(frozen=True)
class CompiledICP:
    """What scoring needs, computed once per ICP."""

    icp: ICP
    groups: tuple[Group, ...]
    group_of: tuple[int, ...]  # criterion index -> group index
    total_max: float
    tiers: tuple[tuple[str, float], ...]
    # Per criterion / disqualifier, made once: building them per account was most of a score's CPU.
    conditions: tuple[tuple[Condition, ...], ...] = ()
    descriptions: tuple[str, ...] = ()
    attributes: tuple[tuple[str, ...], ...] = ()
    disqualifier_texts: tuple[str, ...] = ()
    mentioned: tuple[str, ...] = ()  # every attribute a criterion or disqualifier looks at, sorted


def _group_attribute(c: Criterion) -> str | None:
    attrs = {cond.attribute for cond in c.conditions}
    return next(iter(attrs)) if len(attrs) == 1 else None


_MAX_SUBSET_ITEMS = 8


def _candidates(conditions: list[Condition]) -> list[Any]:
    """Values that reach every distinct outcome of these conditions on one attribute."""
    cands: list[Any] = [None, _OTHER]
    items: list[Any] = []
    has_list_op = any(cond.op in LIST_OPS for cond in conditions)
    for cond in conditions:
        for v in cond.values:
            if cond.op in NUMERIC_OPS and isinstance(v, int | float) and not isinstance(v, bool):
                f = float(v)
                cands += [f, math.nextafter(f, math.inf), math.nextafter(f, -math.inf)]
            else:
                cands.append(v)
                items.append(v)
        if cond.op in NUMERIC_OPS:
            cands += [-math.inf, math.inf]
    if has_list_op:
        distinct = list(dict.fromkeys(items))
        cands.append((_OTHER,))
        if len(distinct) <= _MAX_SUBSET_ITEMS:
            cands += [subset for r in range(1, len(distinct) + 1) for subset in combinations(distinct, r)]
        else:
            cands.append(tuple(distinct))
            cands += [(s,) for s in distinct]
    return cands


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


def _best_total(icp: ICP, attribute: str, members: list[int], cands: list[Any]) -> float:
    best = 0.0
    for cand in cands:
        total = 0.0
        for i in members:
            if criterion_status(icp.criteria[i], {attribute: cand}) == "matched":
                total += icp.criteria[i].points
        best = max(best, total)
    return best


def _group_max(icp: ICP, attribute: str, members: list[int]) -> tuple[float, float]:
    conds = [cond for i in members for cond in icp.criteria[i].conditions]
    cands = _candidates(conds)
    # For list attributes the best account holds every rewarded item and none of the penalised.
    rewarded = [
        v
        for i in members
        if icp.criteria[i].points > 0
        for cond in icp.criteria[i].conditions
        if cond.op in LIST_OPS
        for v in cond.values
    ]
    if rewarded:
        cands.append(tuple(dict.fromkeys(rewarded)))
    presence_only = [i for i in members if all(c.op in PRESENCE_OPS for c in icp.criteria[i].conditions)]
    return _best_total(icp, attribute, members, cands), _best_total(
        icp, attribute, presence_only, [None, _OTHER]
    )


def compile_icp(icp: ICP) -> CompiledICP:
    """Group criteria and compute achievable points; cached per (immutable) ICP object."""
    hit = _COMPILED.get(id(icp))
    if hit is not None and hit[0] is icp:
        return hit[1]
    by_attr: dict[str, list[int]] = {}
    singles: list[int] = []
    for i, c in enumerate(icp.criteria):
        attr = _group_attribute(c)
        if attr is None:
            singles.append(i)
        else:
            by_attr.setdefault(attr, []).append(i)
    groups: list[Group] = []
    order = sorted(
        [(members[0], attr, members) for attr, members in by_attr.items()]
        + [(i, None, [i]) for i in singles],
        key=lambda t: t[0],
    )
    for _, attr, members in order:
        if attr is None:
            gmax, gmiss = max(0.0, float(icp.criteria[members[0]].points)), 0.0
        else:
            gmax, gmiss = _group_max(icp, attr, members)
        groups.append(Group(attribute=attr, members=tuple(members), max_points=gmax, max_if_missing=gmiss))
    group_of = [0] * len(icp.criteria)
    for gi, g in enumerate(groups):
        for m in g.members:
            group_of[m] = gi
    total = 0.0
    for g in groups:
        total += g.max_points
    conditions = tuple(c.conditions for c in icp.criteria)
    attributes = tuple(c.attributes for c in icp.criteria)
    compiled = CompiledICP(
        icp=icp,
        groups=tuple(groups),
        group_of=tuple(group_of),
        total_max=total,
        tiers=tuple((name, float(t)) for name, t in icp.ordered_tiers()),
        conditions=conditions,
        descriptions=tuple(c.describe() for c in icp.criteria),
        attributes=attributes,
        disqualifier_texts=tuple(d.condition.describe() for d in icp.disqualifiers),
        mentioned=tuple(
            sorted({a for attrs in attributes for a in attrs} | {d.attribute for d in icp.disqualifiers})
        ),
    )
    if len(_COMPILED) >= 256:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[id(icp)] = (icp, compiled)
    return compiled


def finalize_score(earned: float, achievable: float) -> float:
    """100 × earned / achievable, clamped to 0..100 and rounded half-up to one decimal.

    Written with operations numpy performs identically, so batch and single agree bit for bit.
    """
    if achievable <= 0:
        return 0.0
    x = 100.0 * earned / achievable
    x = min(max(x, 0.0), 100.0)
    return math.floor(x * 10.0 + 0.5) / 10.0


def pick_tier(score: float, tiers: tuple[tuple[str, float], ...]) -> str:
    for name, threshold in tiers:
        if score >= threshold:
            return name
    return FALLBACK_TIER


# --- results ---------------------------------------------------------------------------------


class CriterionLine(BaseModel):
    """One explanation line: what the criterion asks, what the account has, what it earned."""

    model_config = ConfigDict(frozen=True)

    index: int
    criterion: str
    status: Status
    value: str
    points: float
    max_points: float
    evidence: list[str]

    def text(self) -> str:
        mark = {"matched": "✓", "missed": "✗", "unknown": "?"}[self.status]
        pts = f"+{_fmt_pts(self.points)}" if self.status == "matched" else f"0 of {_fmt_pts(self.max_points)}"
        return f"{mark} {self.criterion} — {self.value} ({pts})"


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
    earned: float
    achievable: float
    confidence: float
    disqualified: bool
    disqualifiers: list[DisqualifierHit]
    unchecked_disqualifiers: list[str]
    lines: list[CriterionLine]
    unknown: list[str]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))

    def explain(self) -> list[str]:
        version = f" v{self.icp_version}" if self.icp_version is not None else ""
        head = f"Score {self.score:g}/100 — tier {self.tier} ({self.tier_label}) — ICP '{self.icp_name}'{version}"
        out = [head]
        for hit in self.disqualifiers:
            out.append(
                f"⛔ Disqualified: {hit.reason} ({hit.condition}: {hit.value}); fit points alone: {self.fit_score:g}"
            )
        out += [line.text() for line in self.lines]
        for d in self.unchecked_disqualifiers:
            out.append(f"? Could not check disqualifier: {d}")
        if self.unknown:
            out.append(f"Unknown: {', '.join(self.unknown)} (confidence {self.confidence:.0%})")
        return out


def _fmt_pts(p: float) -> str:
    return f"{int(p)}" if float(p).is_integer() else f"{p:g}"


def _display(values: Mapping[str, Any], attrs: tuple[str, ...]) -> str:
    if len(attrs) == 1:
        return format_value(values.get(attrs[0]))
    return "; ".join(f"{a} {format_value(values.get(a))}" for a in attrs)


def _confidence(known_max: float, total_max: float) -> float:
    return 1.0 if total_max <= 0 else math.floor(known_max / total_max * 100.0 + 0.5) / 100.0


def score(account: Mapping[str, Any], icp: ICP | CompiledICP) -> ScoreResult:
    """Score one account (already normalised attribute values) against an ICP."""
    comp = icp if isinstance(icp, CompiledICP) else compile_icp(icp)
    model = comp.icp
    statuses = [_status(conditions, account) for conditions in comp.conditions]

    earned = 0.0
    for c, st in zip(model.criteria, statuses, strict=True):
        if st == "matched":
            earned += c.points
    known_max = 0.0
    for g in comp.groups:
        known_max += g.max_points if _group_known(g, account, statuses) else g.max_if_missing
    achievable = known_max if model.missing == "neutral" else comp.total_max
    fit = finalize_score(earned, achievable)

    hits: list[DisqualifierHit] = []
    unchecked: list[str] = []
    for i, d in enumerate(model.disqualifiers):
        known, matched = evaluate(d.op, d.values, account.get(d.attribute))
        if matched:
            hits.append(
                DisqualifierHit(
                    index=i,
                    reason=d.reason,
                    condition=comp.disqualifier_texts[i],
                    value=format_value(account.get(d.attribute)),
                )
            )
        elif not known:
            unchecked.append(f"{d.reason} ({comp.disqualifier_texts[i]})")
    disqualified = bool(hits)
    final = 0.0 if disqualified else fit
    tier = FALLBACK_TIER if disqualified else pick_tier(final, comp.tiers)

    lines = [
        CriterionLine(
            index=i,
            criterion=comp.descriptions[i],
            status=st,
            value=_display(account, comp.attributes[i]),
            points=float(c.points) if st == "matched" else 0.0,
            max_points=float(c.points),
            evidence=list(c.evidence),
        )
        for i, (c, st) in enumerate(zip(model.criteria, statuses, strict=True))
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
        achievable=achievable,
        confidence=_confidence(known_max, comp.total_max),
        disqualified=disqualified,
        disqualifiers=hits,
        unchecked_disqualifiers=unchecked,
        lines=lines,
        unknown=unknown,
    )


def _group_known(g: Group, account: Mapping[str, Any], statuses: list[Status]) -> bool:
    if g.attribute is not None:
        return not is_missing(account.get(g.attribute))
    return statuses[g.members[0]] != "unknown"


__all__ = [
    "LIST_OPS",
    "CompiledICP",
    "CriterionLine",
    "DisqualifierHit",
    "Group",
    "ScoreResult",
    "compile_icp",
    "criterion_status",
    "finalize_score",
    "pick_tier",
    "score",
]
