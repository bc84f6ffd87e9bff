"""How a scorecard ICP reads to people: points, bins grouped by characteristic, the scoring rules.

Slack views, exports and the terminal all show the same ICP; they share this wording so that a
characteristic reads the same everywhere ("industry: fintech +12 · software +11 · retail −8")
and the rules about unknown data and the score scale are stated once. Plain text, unescaped:
every caller escapes for its own format.
"""

from __future__ import annotations

from collections.abc import Sequence

from icp_engine.model import (
    FALLBACK_TIER,
    ICP,
    NO_TIER,
    OP_SYMBOLS,
    TARGETS,
    Characteristic,
    Condition,
    Criterion,
    format_value,
)
from icp_engine.scoring import POINTS_TO_DOUBLE_ODDS

MINUS = "−"  # U+2212: a real minus sign, which a hyphen next to a number is not
UNKNOWN_RULE = "Unknown attributes score 0, like an average account."
SCORE_RULE = (
    f"0 points scores 50, like the average account; every +{POINTS_TO_DOUBLE_ODDS} points doubles "
    f"the odds, every {MINUS}{POINTS_TO_DOUBLE_ODDS} halves them."
)


def signed_points(points: float) -> str:
    """Points as people write them: +12, −8, 0, +2.5 (one decimal at most)."""
    value = float(points)
    if value == 0:
        return "0"
    text = f"{int(abs(value))}" if value.is_integer() else f"{round(abs(value), 1):g}"
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def condition_value(cond: Condition) -> str:
    """What a condition asks of its attribute, without the attribute: "fintech", "200 to 2,000"."""
    values = cond.values
    op = cond.op
    if op == "eq":
        return format_value(values[0])
    if op == "ne":
        return f"not {format_value(values[0])}"
    if op == "in":
        return " or ".join(format_value(v) for v in values)
    if op == "not_in":
        return f"none of {format_value(values)}"
    if op == "between":
        return f"{format_value(values[0])} to {format_value(values[1])}"
    if op in {"gt", "gte", "lt", "lte"}:
        return f"{OP_SYMBOLS[op]} {format_value(values[0])}"
    if op in {"contains_any", "contains_all"}:
        if len(values) == 1:
            return f"has {format_value(values[0])}"
        return f"{OP_SYMBOLS[op]} {format_value(values)}"
    return "known" if op == "exists" else "unknown"


def bin_text(characteristic: Characteristic, b: Criterion) -> str:
    """A bin as it reads under its characteristic's name: "fintech", "inbound & EMEA".

    A bin that tests each of the characteristic's attributes once is shown by its values alone,
    in the characteristic's attribute order; anything else (a pair bin testing one attribute,
    repeated conditions) keeps the attribute names so it cannot be misread.
    """
    if b.label:
        return b.label
    conds = b.conditions
    attrs = characteristic.attributes
    if len(conds) == len(attrs) and sorted(c.attribute for c in conds) == sorted(attrs):
        ordered = sorted(conds, key=lambda c: attrs.index(c.attribute))
        return " & ".join(condition_value(c) for c in ordered)
    return b.describe()


def bin_items(characteristic: Characteristic) -> list[tuple[str, str]]:
    """(bin text, signed points) for each bin, in the ICP's order."""
    return [(bin_text(characteristic, b), signed_points(b.points)) for b in characteristic.bins]


def bins_text(characteristic: Characteristic, *, max_bins: int | None = None) -> str:
    """ "fintech +12 · software +11 · retail −8", cut after ``max_bins`` with how many were left."""
    items = bin_items(characteristic)
    shown = items if max_bins is None else items[:max_bins]
    text = " · ".join(f"{what} {points}" for what, points in shown)
    if len(shown) < len(items):
        text += f" · …and {len(items) - len(shown):,} more"
    return text


def characteristic_text(characteristic: Characteristic, *, max_bins: int | None = None) -> str:
    """ "industry: fintech +12 · software +11 · retail −8"."""
    return f"{characteristic.name}: {bins_text(characteristic, max_bins=max_bins)}"


def characteristic_evidence(characteristic: Characteristic) -> list[str]:
    """Every evidence id its bins cite, once each, in order."""
    seen: dict[str, None] = {}
    for b in characteristic.bins:
        for ref in b.evidence:
            seen.setdefault(ref, None)
    return list(seen)


def characteristic_rationale(characteristic: Characteristic) -> str:
    """The bins' rationales, each once, joined."""
    seen: dict[str, None] = {}
    for b in characteristic.bins:
        if b.rationale and b.rationale.strip():
            seen.setdefault(b.rationale.strip(), None)
    return "; ".join(seen)


def target_text(icp: ICP) -> str:
    """What the points predict, e.g. "win rate of closed deals"."""
    return TARGETS.get(icp.target, icp.target)


def no_tier_rule(icp: ICP) -> str:
    """When an account gets tier "?" instead of a letter."""
    return f"less than {icp.min_confidence:.0%} of the ICP's weight is known"


def tier_rules(icp: ICP) -> list[tuple[str, str, str]]:
    """(tier, label, rule) from the best tier down, then the fallback, then "not enough data"."""
    ordered = icp.ordered_tiers()
    rows = [(name, icp.tier_label(name), f"score ≥ {format_value(t)}") for name, t in ordered]
    lowest = min((t for _, t in ordered), default=0)
    rows.append(
        (FALLBACK_TIER, icp.tier_label(FALLBACK_TIER), f"below {format_value(lowest)}, or disqualified")
    )
    rows.append((NO_TIER, icp.tier_label(NO_TIER), no_tier_rule(icp)))
    return rows


def names_list(names: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


__all__ = [
    "MINUS",
    "SCORE_RULE",
    "UNKNOWN_RULE",
    "bin_items",
    "bin_text",
    "bins_text",
    "characteristic_evidence",
    "characteristic_rationale",
    "characteristic_text",
    "condition_value",
    "names_list",
    "no_tier_rule",
    "signed_points",
    "target_text",
    "tier_rules",
]
