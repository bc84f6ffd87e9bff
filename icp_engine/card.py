"""What a score card tells a rep in five seconds: why, where the points were lost, and what to do.

Pure functions over the engine's ScoreResult and ICP: the strongest plus and minus characteristics
(the one-line why), a gap per characteristic where the account is not in the best bin
("industry: professional services 0 · best: fintech +12"), and a short default play per tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from icp_engine.model import FALLBACK_TIER, ICP, LIST_OPS, NO_TIER, Criterion, format_value
from icp_engine.scoring import CharacteristicLine, ScoreResult, compile_icp

DEFAULT_PLAYS: dict[str, str] = {
    "A": "Work it now: an account executive reaches out within 2 business days with a tailored demo.",
    "B": "Sequence it: an SDR starts outreach this week with the standard offer.",
    FALLBACK_TIER: "Do not spend rep time: leave it to marketing nurture unless it comes inbound.",
    NO_TIER: "Find out the missing data first, then score it again.",
}
OTHER_TIER_PLAY = "Work it after tier A and B accounts, with the standard offer."


@dataclass(frozen=True)
class Gap:
    """A characteristic where the account earned less than the best bin gives."""

    name: str
    value: str
    points: float
    best: str  # the best bin in words, e.g. "fintech" or "200–1,000"
    best_points: float

    @property
    def lost(self) -> float:
        return self.best_points - self.points


@dataclass(frozen=True)
class Why:
    """The strongest plus and the strongest minus characteristic (None when there is none)."""

    plus: CharacteristicLine | None
    minus: CharacteristicLine | None


def tier_play(tier: str, plays: dict[str, str] | None = None) -> str:
    """The play for a tier: the ICP's own when given, else a short default."""
    if plays and tier in plays and plays[tier].strip():
        return plays[tier].strip()
    return DEFAULT_PLAYS.get(tier, OTHER_TIER_PLAY)


def why(result: ScoreResult) -> Why:
    """The characteristics that raised and lowered the score most."""
    known = [ln for ln in result.characteristics if ln.status != "unknown"]
    plus = max((ln for ln in known if ln.points > 0), key=lambda ln: (ln.points, -ln.index), default=None)
    minus = min((ln for ln in known if ln.points < 0), key=lambda ln: (ln.points, ln.index), default=None)
    return Why(plus=plus, minus=minus)


def bin_words(b: Criterion) -> str:
    """A bin as a rep says it: its label, or its values without the attribute name."""
    if b.label:
        return b.label
    if len(b.conditions) != 1:
        return b.describe()
    cond = b.conditions[0]
    if cond.op == "between":
        return f"{format_value(cond.values[0])}–{format_value(cond.values[1])}"
    if cond.op in {"eq", "in"} or cond.op in LIST_OPS:
        return format_value(cond.values)
    return b.describe().removeprefix(f"{cond.attribute} ")


def best_words(bins: Sequence[Criterion]) -> str:
    """The best an account can do on a characteristic, in words: the top bin, or for a list
    attribute (tools, whose points add up) every item with points: "salesforce + outreach"."""
    if all(cond.op in LIST_OPS for b in bins for cond in b.conditions):
        plus = sorted((b for b in bins if b.points > 0), key=lambda b: -float(b.points))
        if plus:
            return " + ".join(bin_words(b) for b in plus)
    return bin_words(max(bins, key=lambda b: float(b.points)))


# A derived attribute is filled in through the one it comes from: employees=800 sets employee_band.
DERIVED_FROM: dict[str, str] = {
    "employee_band": "employees",
    "revenue_band": "annual_revenue",
    "country_region": "country",
}


def attributes_to_ask(result: ScoreResult) -> list[str]:
    """The unknown attributes as a person types them (bands through their source), those of the
    heaviest characteristics first, then those only a disqualifier looks at."""
    heavy = sorted(
        (ln for ln in result.characteristics if ln.status == "unknown"), key=lambda ln: (-ln.weight, ln.index)
    )
    unknown = set(result.unknown)
    ordered = [a for ln in heavy for a in ln.attributes if a in unknown] + list(result.unknown)
    return list(dict.fromkeys(DERIVED_FROM.get(a, a) for a in ordered))


def gaps(result: ScoreResult, icp: ICP) -> list[Gap]:
    """Known characteristics below their best, the most points lost first."""
    comp = compile_icp(icp)
    out: list[Gap] = []
    for line in result.characteristics:
        if line.status == "unknown" or line.index >= len(icp.characteristics):
            continue
        best_points = comp.best[line.index]
        if line.points >= best_points:
            continue
        out.append(
            Gap(
                line.name,
                line.value,
                line.points,
                best_words(icp.characteristics[line.index].bins),
                best_points,
            )
        )
    return sorted(out, key=lambda g: -g.lost)


MAX_GAPS_SHOWN = 8


def _pts(p: float) -> str:
    if p == 0:
        return "0"
    text = f"{int(abs(p))}" if float(p).is_integer() else f"{abs(p):g}"
    return f"+{text}" if p > 0 else f"−{text}"


def card_lines(result: ScoreResult, icp: ICP, *, command: str = "icp score") -> list[str]:
    """The five-second card as plain text lines (the CLI prints them), the headline first."""
    version = f" v{result.icp_version}" if result.icp_version is not None else ""
    tier = "not enough data" if result.tier == NO_TIER else f"tier {result.tier} ({result.tier_label})"
    out = [f"Score {result.score:g}/100 — {tier} — ICP '{result.icp_name}'{version}"]
    facts = [f"{_pts(result.earned)} points", f"confidence {result.confidence:.0%}"]
    if result.win_probability is not None:
        facts.append(f"expected win rate {result.win_probability:.0%}")
    out.append(", ".join(facts))
    for hit in result.disqualifiers:
        out.append(f"⛔ Disqualified: {hit.reason} ({hit.condition}: {hit.value})")
    found = why(result)
    parts = [
        f"{mark} {ln.name}: {ln.value} ({_pts(ln.points)})"
        for mark, ln in (("✓", found.plus), ("✗", found.minus))
        if ln is not None
    ]
    out.append("Why: " + (" · ".join(parts) if parts else "nothing known raises or lowers the score"))
    below = gaps(result, icp)
    for g in below[:MAX_GAPS_SHOWN]:
        out.append(f"  {g.name}: {g.value} {_pts(g.points)} · best: {g.best} {_pts(g.best_points)}")
    if len(below) > MAX_GAPS_SHOWN:
        out.append(f"  …and {len(below) - MAX_GAPS_SHOWN} more below their best")
    ask = attributes_to_ask(result)
    if ask:
        typed = " ".join(f"{'_'.join(a.split())}=…" for a in ask)
        out.append(f"Unknown: {', '.join(ask)} — add them: {command} … {typed}")
    out.append(f"Play: {tier_play(result.tier)}")
    return out


__all__ = [
    "DEFAULT_PLAYS",
    "DERIVED_FROM",
    "Gap",
    "Why",
    "attributes_to_ask",
    "bin_words",
    "card_lines",
    "gaps",
    "tier_play",
    "why",
]
