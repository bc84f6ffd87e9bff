"""What changed between two ICP versions: criteria added, removed, re-weighted or re-worded.

Pure and symmetric: ``diff_icps(b, a)`` is ``diff_icps(a, b).reversed()`` (added and removed swap,
every change swaps its before and after), and ``diff_icps(a, a)`` is empty. Criteria are paired
in three passes, each a one-to-one pairing in list order: identical criteria first (no change),
then the same conditions (points, label or evidence changed), then the same attributes (the
condition itself changed, e.g. "employees between 200 and 2,000" became "between 100 and 5,000").
Whatever is left is added or removed. Pairing by position within a key keeps it symmetric.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from icp_engine.model import FALLBACK_TIER, ICP, NO_TIER, Condition, Criterion, Disqualifier, format_value
from icp_engine.wording import signed_points, target_text

T = TypeVar("T")


@dataclass(frozen=True)
class CriterionChange:
    """One criterion present in both versions, with what differs."""

    before: Criterion
    after: Criterion

    @property
    def points_changed(self) -> bool:
        return float(self.before.points) != float(self.after.points)

    @property
    def condition_changed(self) -> bool:
        return _conditions_key(self.before) != _conditions_key(self.after)

    @property
    def details_changed(self) -> bool:
        """Label, evidence or rationale differ (the scoring does not)."""
        b, a = self.before, self.after
        return (b.label, b.evidence, b.rationale) != (a.label, a.evidence, a.rationale)

    @property
    def points_delta(self) -> float:
        return float(self.after.points) - float(self.before.points)

    def reversed(self) -> CriterionChange:
        return CriterionChange(before=self.after, after=self.before)


@dataclass(frozen=True)
class DisqualifierChange:
    """A disqualifier on the same condition whose reason or evidence changed."""

    before: Disqualifier
    after: Disqualifier

    def reversed(self) -> DisqualifierChange:
        return DisqualifierChange(before=self.after, after=self.before)


@dataclass(frozen=True)
class ValueChange(Generic[T]):
    """A named setting (tier threshold, tier label, name, description, target, minimum confidence)."""

    name: str
    before: T | None
    after: T | None

    def reversed(self) -> ValueChange[T]:
        return ValueChange(self.name, self.after, self.before)


@dataclass(frozen=True)
class IcpDiff:
    """Every difference from ``before`` to ``after``; empty when they score and read the same."""

    criteria_added: tuple[Criterion, ...] = ()
    criteria_removed: tuple[Criterion, ...] = ()
    criteria_changed: tuple[CriterionChange, ...] = ()
    disqualifiers_added: tuple[Disqualifier, ...] = ()
    disqualifiers_removed: tuple[Disqualifier, ...] = ()
    disqualifiers_changed: tuple[DisqualifierChange, ...] = ()
    tiers: tuple[ValueChange[float], ...] = ()
    tier_labels: tuple[ValueChange[str], ...] = ()
    settings: tuple[ValueChange[str], ...] = ()

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.criteria_added,
                self.criteria_removed,
                self.criteria_changed,
                self.disqualifiers_added,
                self.disqualifiers_removed,
                self.disqualifiers_changed,
                self.tiers,
                self.tier_labels,
                self.settings,
            )
        )

    @property
    def reweighted(self) -> tuple[CriterionChange, ...]:
        return tuple(c for c in self.criteria_changed if c.points_changed)

    @property
    def reworded(self) -> tuple[CriterionChange, ...]:
        """Changed conditions (the rule itself), whatever happened to the points."""
        return tuple(c for c in self.criteria_changed if c.condition_changed)

    def reversed(self) -> IcpDiff:
        return IcpDiff(
            criteria_added=self.criteria_removed,
            criteria_removed=self.criteria_added,
            criteria_changed=tuple(c.reversed() for c in self.criteria_changed),
            disqualifiers_added=self.disqualifiers_removed,
            disqualifiers_removed=self.disqualifiers_added,
            disqualifiers_changed=tuple(c.reversed() for c in self.disqualifiers_changed),
            tiers=tuple(c.reversed() for c in self.tiers),
            tier_labels=tuple(c.reversed() for c in self.tier_labels),
            settings=tuple(c.reversed() for c in self.settings),
        )

    def summary(self) -> str:
        """One line, e.g. "2 criteria added, 1 removed, 3 re-weighted; tiers changed"."""
        if self.empty:
            return "no changes"
        parts: list[str] = []
        counts = [
            (len(self.criteria_added), "added"),
            (len(self.criteria_removed), "removed"),
            (len(self.reweighted), "re-weighted"),
            (len([c for c in self.reworded if not c.points_changed]), "condition changed"),
        ]
        crit = [f"{n} {word}" for n, word in counts if n]
        if crit:
            parts.append("criteria: " + ", ".join(crit))
        disq = (
            len(self.disqualifiers_added) + len(self.disqualifiers_removed) + len(self.disqualifiers_changed)
        )
        if disq:
            parts.append(f"{disq} disqualifier change{'s' if disq != 1 else ''}")
        if self.tiers or self.tier_labels:
            parts.append("tiers changed")
        details = [c for c in self.criteria_changed if not c.points_changed and not c.condition_changed]
        if details:
            parts.append(f"{len(details)} criteria re-labelled or re-sourced")
        parts += [f"{s.name} changed" for s in self.settings]
        return "; ".join(parts)


def signed(points: float) -> str:
    """Points as people write them: +25, −10, +2.5, 0."""
    return signed_points(points)


def _setting(value: float | str | None) -> str:
    return "—" if value is None else value if isinstance(value, str) else format_value(value)


def _value_line(change: ValueChange[float] | ValueChange[str], what: str) -> str:
    before, after = _setting(change.before), _setting(change.after)
    if change.before is None:
        return f"{what}{change.name} added: {after}"
    if change.after is None:
        return f"{what}{change.name} removed (was {before})"
    return f"{what}{change.name}: {before} → {after}"


def _criterion_lines(diff: IcpDiff) -> list[tuple[str, str]]:
    out = [("Criteria added", f"{signed(c.points)} {c.describe()}") for c in diff.criteria_added]
    out += [("Criteria removed", f"{signed(c.points)} {c.describe()}") for c in diff.criteria_removed]
    for c in diff.criteria_changed:
        b, a = c.before, c.after
        if c.condition_changed:
            points = (
                f"points {signed(b.points)} → {signed(a.points)}" if c.points_changed else signed(a.points)
            )
            out.append(("Condition changed", f"{b.describe()} → {a.describe()} ({points})"))
        elif c.points_changed:
            out.append(
                (
                    "Re-weighted",
                    f"{a.describe()}: {signed(b.points)} → {signed(a.points)} ({signed(c.points_delta)})",
                )
            )
        else:
            out.append(("Label or evidence changed", a.describe()))
    return out


def change_lines(diff: IcpDiff) -> list[tuple[str, str]]:
    """Every change as (group, plain-text line), groups in reading order; views format them."""
    out = _criterion_lines(diff)
    out += [
        ("Disqualifiers", f"added: {d.condition.describe()} ({d.reason})") for d in diff.disqualifiers_added
    ]
    out += [
        ("Disqualifiers", f"removed: {d.condition.describe()} ({d.reason})")
        for d in diff.disqualifiers_removed
    ]
    out += [
        ("Disqualifiers", f"{c.after.condition.describe()}: reason “{c.before.reason}” → “{c.after.reason}”")
        for c in diff.disqualifiers_changed
    ]
    out += [("Tiers", _value_line(t, "tier ")) for t in diff.tiers]
    out += [("Tiers", _value_line(t, "label of tier ")) for t in diff.tier_labels]
    out += [("Other", _value_line(s, "")) for s in diff.settings]
    order = ["Criteria added", "Criteria removed", "Re-weighted", "Condition changed"]
    order += ["Label or evidence changed", "Disqualifiers", "Tiers", "Other"]
    return sorted(out, key=lambda item: order.index(item[0]))


def _json_key(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _condition_key(c: Condition) -> str:
    return _json_key(c.model_dump(mode="json"))


def _conditions_key(c: Criterion) -> tuple[str, ...]:
    """All_of order does not change what a criterion means, so its conditions are sorted."""
    return tuple(sorted(_condition_key(cond) for cond in c.conditions))


def _pair(
    before: Sequence[T], after: Sequence[T], key: Callable[[T], Hashable]
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """One-to-one pairs of equal keys in list order; also what is left on each side."""
    waiting: dict[Hashable, list[int]] = {}
    for index, item in enumerate(after):
        waiting.setdefault(key(item), []).append(index)
    pairs: list[tuple[T, T]] = []
    taken: set[int] = set()
    left_before: list[T] = []
    for item in before:
        queue = waiting.get(key(item))
        if queue:
            index = queue.pop(0)
            taken.add(index)
            pairs.append((item, after[index]))
        else:
            left_before.append(item)
    left_after = [item for index, item in enumerate(after) if index not in taken]
    return pairs, left_before, left_after


def _diff_criteria(
    before: Sequence[Criterion], after: Sequence[Criterion]
) -> tuple[tuple[Criterion, ...], tuple[Criterion, ...], tuple[CriterionChange, ...]]:
    _, old, new = _pair(before, after, lambda c: _json_key(c.model_dump(mode="json")))
    same_rule, old, new = _pair(old, new, _conditions_key)
    same_attrs, old, new = _pair(old, new, lambda c: tuple(sorted(c.attributes)))
    changes = [CriterionChange(b, a) for b, a in (*same_rule, *same_attrs)]
    return tuple(new), tuple(old), tuple(changes)


def _diff_disqualifiers(
    before: Sequence[Disqualifier], after: Sequence[Disqualifier]
) -> tuple[tuple[Disqualifier, ...], tuple[Disqualifier, ...], tuple[DisqualifierChange, ...]]:
    _, old, new = _pair(before, after, lambda d: _json_key(d.model_dump(mode="json")))
    same_rule, old, new = _pair(old, new, lambda d: _condition_key(d.condition))
    return tuple(new), tuple(old), tuple(DisqualifierChange(b, a) for b, a in same_rule)


def _tier_changes(before: ICP, after: ICP) -> tuple[ValueChange[float], ...]:
    names = sorted({*before.tiers, *after.tiers})
    out = []
    for name in names:
        b, a = before.tiers.get(name), after.tiers.get(name)
        if b is None or a is None or float(b) != float(a):
            out.append(ValueChange(name, None if b is None else float(b), None if a is None else float(a)))
    return tuple(out)


def _label_changes(before: ICP, after: ICP) -> tuple[ValueChange[str], ...]:
    # Added tiers say their label already; the fallback and "not enough data" always exist.
    names = sorted(({*before.tiers} & {*after.tiers}) | {FALLBACK_TIER, NO_TIER})
    return tuple(
        ValueChange(name, before.tier_label(name), after.tier_label(name))
        for name in names
        if before.tier_label(name) != after.tier_label(name)
    )


def _percent(share: float) -> str:
    return f"{format_value(round(share * 100, 2))}%"


def _calibration(icp: ICP) -> str | None:
    cal = icp.calibration
    return None if cal is None else f"average account wins {cal.base_rate:.1%} ({cal.deals:,} deals)"


def _setting_changes(before: ICP, after: ICP) -> tuple[ValueChange[str], ...]:
    """Settings that change what a score means, as readable text (percentages, not fractions)."""
    out: list[ValueChange[str]] = []
    for name in ("name", "description"):
        b, a = getattr(before, name), getattr(after, name)
        if b != a:
            out.append(ValueChange(name, b, a))
    if before.target != after.target:
        out.append(ValueChange("target", target_text(before), target_text(after)))
    if before.min_confidence != after.min_confidence:
        out.append(
            ValueChange("minimum confidence", _percent(before.min_confidence), _percent(after.min_confidence))
        )
    if _calibration(before) != _calibration(after):
        out.append(ValueChange("calibration", _calibration(before), _calibration(after)))
    return tuple(out)


def diff_icps(before: ICP, after: ICP) -> IcpDiff:
    """What changed from ``before`` to ``after`` (the version number itself is not compared)."""
    added, removed, changed = _diff_criteria(before.criteria, after.criteria)
    d_added, d_removed, d_changed = _diff_disqualifiers(before.disqualifiers, after.disqualifiers)
    return IcpDiff(
        criteria_added=added,
        criteria_removed=removed,
        criteria_changed=changed,
        disqualifiers_added=d_added,
        disqualifiers_removed=d_removed,
        disqualifiers_changed=d_changed,
        tiers=_tier_changes(before, after),
        tier_labels=_label_changes(before, after),
        settings=_setting_changes(before, after),
    )
