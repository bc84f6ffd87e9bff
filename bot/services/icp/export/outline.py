"""The document's layout as a few plain elements (headings, paragraphs, tables, labelled items).

Markdown, HTML, PDF and Slack (``bot/slack/views/icp_page.py``) render the same outline, so they
never disagree about what the one-page ICP holds or in what order: the statement with its proof,
tiers with their plays, characteristics, disqualifiers, personas, pains and triggers in the
customers' words, then owner, approver and next review. Evidence, citations and the backtest go
to the appendix. Element text is raw (unescaped): renderers escape it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.icp.export.document import ExportDocument, PersonaDoc, tier_rows
from bot.services.icp.export.plays import tier_play
from bot.services.icp.export.statement import icp_statement
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
    new_page: bool = False  # the appendix starts on a page of its own (PDF)


@dataclass(frozen=True)
class Para:
    text: str
    small: bool = False
    lead: bool = False  # the ICP statement: emphasised


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


@dataclass(frozen=True)
class Limits:
    """How much of each section the one page shows; the rest is counted ("+3 more")."""

    characteristics: int = 10
    bins: int = 6
    disqualifiers: int = 5
    personas: int = 4
    words: int = 3  # pains, and triggers
    persona_text: int = 230
    quote: int = 150
    cell: int = 320  # a characteristic's points by value


# From roomy to tight: the PDF takes the first that fits on one page (the last always does for
# any ICP, as every section is capped in rows and characters).
DENSITIES = (
    Limits(),
    Limits(
        characteristics=8, bins=5, disqualifiers=4, personas=3, words=2, persona_text=170, quote=110, cell=200
    ),
    Limits(
        characteristics=6, bins=4, disqualifiers=3, personas=2, words=2, persona_text=110, quote=80, cell=120
    ),
)
APPENDIX_EVIDENCE_MAX = 150
QUOTE_MAX = 300
PERSONA_LABELS = ("Role", "Buying role", "Goals", "Challenges", "Objections", "Message hooks", "Channels")
APPENDIX_HINT = "the appendix (export with --appendix)"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _more(n: int, what: str) -> Para:
    return Para(f"+{n} more {what}: see {APPENDIX_HINT}.", small=True)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def people_line(doc: ExportDocument) -> str:
    """ "Owner: Alex Kim · Approver: Alex Kim (2026-11-30) · Next review: 2027-03-01"."""
    approver = doc.name_of(doc.approver)
    if approver and doc.approved_at is not None:
        approver += f" ({doc.approved_at:%Y-%m-%d})"
    review = f"{doc.next_review:%Y-%m-%d}" if doc.next_review is not None else "none set (`/icp remind`)"
    return (
        f"Owner: {doc.name_of(doc.owner) or 'not set'} · Approver: {approver or 'not approved yet'} · "
        f"Next review: {review}"
    )


def tier_play_rows(doc: ExportDocument) -> tuple[tuple[str, str, str, str], ...]:
    """(tier, who it is, backtest win rate, play) from the best tier down."""
    results = {t.tier: t for t in doc.backtest.tiers} if doc.backtest is not None else {}
    rows = []
    for tier, label, rule in tier_rows(doc.icp):
        result = results.get(tier)
        rate = "—"
        if result is not None and result.win_rate is not None:
            rate = f"{result.win_rate:.0%} ({result.deals:,} deals)"
        rows.append((tier, f"{label}: {rule}", rate, tier_play(doc.icp, tier, doc.plays)))
    return tuple(rows)


def persona_card(persona: PersonaDoc, limit: int) -> str:
    """A persona in one line: buying role, role, goals, challenges, objections, hook."""
    fields = dict(persona.fields)
    parts = [f"{label}: {fields[label]}" for label in PERSONA_LABELS if fields.get(label)]
    if not parts:
        parts = [f"{label}: {text}" for label, text in persona.fields[:3]]
    return _cut(" · ".join(parts), limit)


QUOTE_MARKS = "\"'“”‘’«»"


def _quoted(texts: tuple[str, ...], limits: Limits) -> str:
    """Each text in quotation marks, unless it already opens with one (extractive drafts quote)."""
    return " · ".join(
        _cut(text, limits.quote) if text[:1] in QUOTE_MARKS else f"“{_cut(text, limits.quote)}”"
        for text in texts[: limits.words]
    )


def page(doc: ExportDocument, limits: Limits = DENSITIES[0]) -> list[Element]:
    """The one page, in reading order."""
    icp = doc.icp
    out: list[Element] = [
        Heading(doc.title),
        Para(f"{doc.approval_line()} · {doc.version_line()}", small=True),
        Para(icp_statement(icp, doc.backtest).sentence(), lead=True),
        Heading("Tiers and plays"),
        Table(("Tier", "Who", "Win rate (backtest)", "Play"), tier_play_rows(doc), (1, 5, 2.2, 6)),
        Heading("Characteristics (points by value; values not listed score 0)"),
    ]
    chars = icp.characteristics
    if chars:
        rows = tuple(
            (_cut(ch.name, 80), _cut(bins_text(ch, max_bins=limits.bins), limits.cell))
            for ch in chars[: limits.characteristics]
        )
        out.append(Table(("Characteristic", "Points by value"), rows, (2, 7)))
        if len(chars) > limits.characteristics:
            out.append(_more(len(chars) - limits.characteristics, "characteristics"))
    else:
        out.append(Para("No characteristics yet."))
    out.append(
        Para(
            f"Points predict the {target_text(icp)}. {UNKNOWN_RULE.removesuffix('.')} (50/100); "
            f"+{POINTS_TO_DOUBLE_ODDS} points double the odds.",
            small=True,
        )
    )
    out.append(Heading(f"Disqualifiers (always tier {FALLBACK_TIER})"))
    if icp.disqualifiers:
        shown = icp.disqualifiers[: limits.disqualifiers]
        out.append(
            Table(
                ("Rule", "Reason"),
                tuple((_cut(d.condition.describe(), 160), _cut(d.reason, 160)) for d in shown),
                (5, 5),
            )
        )
        if len(icp.disqualifiers) > len(shown):
            out.append(_more(len(icp.disqualifiers) - len(shown), "disqualifiers"))
    else:
        out.append(Para("None."))
    out.append(Heading("Personas"))
    if doc.personas:
        cards = doc.personas[: limits.personas]
        out.append(Items(tuple((p.name, persona_card(p, limits.persona_text)) for p in cards)))
        if len(doc.personas) > len(cards):
            out.append(_more(len(doc.personas) - len(cards), "personas"))
    else:
        out.append(Para("No personas stored with this version."))
    out.append(Heading("In customers' words"))
    words = [
        (lead, _quoted(texts, limits))
        for lead, texts in (("Pains", doc.pains), ("Buying triggers", doc.triggers))
        if texts
    ]
    out.append(Items(tuple(words)) if words else Para("No pains or buying triggers drafted yet."))
    out.append(Para(people_line(doc), small=True))
    return out


def _evidence(doc: ExportDocument) -> list[Element]:
    out: list[Element] = [Heading("Evidence and citations")]
    quoted = [(ref, text) for ref, text in doc.evidence if text]
    bare = [ref for ref, text in doc.evidence if not text]
    if not doc.evidence:
        return [*out, Para("No evidence cited.")]
    if quoted:
        shown = quoted[:APPENDIX_EVIDENCE_MAX]
        out.append(Items(tuple((ref, _cut(text, QUOTE_MAX)) for ref, text in shown)))
    if len(quoted) > APPENDIX_EVIDENCE_MAX:
        more = len(quoted) - APPENDIX_EVIDENCE_MAX
        out.append(
            Para(f"…and {more} more cited answer{'s' if more != 1 else ''} and statistics.", small=True)
        )
    if bare:
        out.append(Para(f"Also cited: {', '.join(bare)}.", small=True))
    return out


def appendix(doc: ExportDocument) -> list[Element]:
    """What backs the page: every characteristic and disqualifier with its evidence ids, every
    persona, pain and trigger in full, the cited evidence, the backtest, and the change note."""
    icp = doc.icp
    out: list[Element] = [Heading("Appendix: evidence, citations and backtest", new_page=True)]
    if doc.change_note:
        out.append(Para(f"Change note: {_cut(doc.change_note, QUOTE_MAX)}", small=True))
    out.append(Heading("Characteristics with their evidence"))
    if icp.characteristics:
        rows: tuple[tuple[str, ...], ...] = tuple(
            (ch.name, bins_text(ch), ", ".join(characteristic_evidence(ch)) or "—")
            for ch in icp.characteristics
        )
        out.append(Table(("Characteristic", "Points by value", "Evidence"), rows, (2, 5, 3)))
    else:
        out.append(Para("No characteristics yet."))
    if icp.disqualifiers:
        rows = tuple(
            (d.condition.describe(), d.reason, ", ".join(d.evidence) or "—") for d in icp.disqualifiers
        )
        out.append(Table(("Disqualifier", "Reason", "Evidence"), rows, (4, 4, 2)))
    if doc.personas:
        out.append(Heading("Personas in full"))
        out.append(
            Items(
                tuple(
                    (p.name, "; ".join(f"{label}: {text}" for label, text in p.fields) or "—")
                    for p in doc.personas
                )
            )
        )
    words = [
        (lead, " · ".join(texts))
        for lead, texts in (("Pains", doc.pains), ("Buying triggers", doc.triggers))
        if texts
    ]
    if words:
        out.append(Heading("Pains and buying triggers, all of them"))
        out.append(Items(tuple(words)))
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


def outline(
    doc: ExportDocument, *, appendix_too: bool = False, limits: Limits = DENSITIES[0]
) -> list[Element]:
    """The one page, then (when asked) the appendix."""
    return page(doc, limits) + (appendix(doc) if appendix_too else [])
