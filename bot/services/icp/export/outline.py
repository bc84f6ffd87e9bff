"""The document's layout as a few plain elements (headings, paragraphs, tables, labelled items).

Markdown, HTML and PDF render the same outline, so the three formats never disagree about what
the one-page ICP holds or in what order. Element text is raw (unescaped): renderers escape it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.icp.export.document import ExportDocument, tier_rows
from icp_engine.model import FALLBACK_TIER, format_value
from icp_engine.scoring import POINTS_TO_DOUBLE_ODDS
from icp_engine.wording import (
    UNKNOWN_RULE,
    bins_text,
    characteristic_evidence,
    target_text,
)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    small: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths (PDF and HTML)


@dataclass(frozen=True)
class Items:
    """Labelled entries: (lead, text), e.g. ("VP Sales", "Role: …; Goals: …")."""

    items: tuple[tuple[str, str], ...]


Element = Heading | Para | Table | Items


# What keeps a typical ICP on one page: quotes and persona summaries are cut, and past eight
# quotes the rest are counted (the ids stay on the characteristics, so nothing is untraceable).
EVIDENCE_MAX = 8
QUOTE_MAX = 140
PERSONA_MAX = 340


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence(doc: ExportDocument) -> list[Element]:
    out: list[Element] = [Heading("Evidence")]
    quoted = [(ref, text) for ref, text in doc.evidence if text]
    bare = [ref for ref, text in doc.evidence if not text]
    if not doc.evidence:
        return [*out, Para("No evidence cited.")]
    if quoted:
        out.append(Items(tuple((ref, _cut(text, QUOTE_MAX)) for ref, text in quoted[:EVIDENCE_MAX])))
    if len(quoted) > EVIDENCE_MAX:
        more = len(quoted) - EVIDENCE_MAX
        out.append(
            Para(f"…and {more} more cited answer{'s' if more != 1 else ''} and statistics.", small=True)
        )
    if bare:
        out.append(Para(f"Also cited: {', '.join(bare)}.", small=True))
    return out


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def outline(doc: ExportDocument) -> list[Element]:
    """Title with approval and version, then characteristics, tiers, disqualifiers, personas,
    evidence, backtest."""
    icp = doc.icp
    note = f" · Change note: {_cut(doc.change_note, QUOTE_MAX)}" if doc.change_note else ""
    out: list[Element] = [
        Heading(doc.title),
        Para(f"{doc.approval_line()} · {doc.version_line()}{note}", small=True),  # approval and version
    ]
    if icp.description:
        out.append(Para(icp.description))
    out.append(Heading("Characteristics (points by value; values not listed score 0)"))
    if icp.characteristics:
        rows: tuple[tuple[str, ...], ...] = tuple(
            (ch.name, bins_text(ch), ", ".join(characteristic_evidence(ch)) or "—")
            for ch in icp.characteristics
        )
        out.append(Table(("Characteristic", "Points by value", "Evidence"), rows, (2, 5, 3)))
    else:
        out.append(Para("No characteristics yet."))
    out.append(
        Para(
            f"Points predict the {target_text(icp)}. {UNKNOWN_RULE.removesuffix('.')} (50/100); "
            f"+{POINTS_TO_DOUBLE_ODDS} points double the odds.",
            small=True,
        )
    )
    out.append(Heading("Tiers"))
    out.append(Table(("Tier", "Label", "Rule"), tuple(tier_rows(icp)), (1, 3, 6)))
    out.append(Heading(f"Disqualifiers (always tier {FALLBACK_TIER})"))
    if icp.disqualifiers:
        rows = tuple((d.condition.describe(), d.reason) for d in icp.disqualifiers)
        out.append(Table(("Rule", "Reason"), rows, (5, 5)))
    else:
        out.append(Para("None."))
    out.append(Heading("Personas"))
    if doc.personas:
        out.append(
            Items(
                tuple(
                    (p.name, _cut("; ".join(f"{label}: {text}" for label, text in p.fields), PERSONA_MAX))
                    for p in doc.personas
                )
            )
        )
    else:
        out.append(Para("No personas stored with this version."))
    out += _evidence(doc)
    out.append(Heading("Backtest"))
    bt = doc.backtest
    if bt is None:
        out.append(Para("Not backtested: import won and lost deals, then re-draft to validate it."))
    else:
        out.append(Para(bt.headline()))
        if bt.tiers:
            rows = tuple((t.tier, t.label, format_value(t.deals), _percent(t.win_rate)) for t in bt.tiers)
            out.append(Table(("Tier", "Label", "Deals", "Win rate"), rows, (1, 4, 2, 2)))
    return out
