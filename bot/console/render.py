"""Rich renderings of engine results for the terminal (pure: results in, renderables out).

Everything that comes from a user's files (values, names, paths) goes in as `Text`, never as a
markup string: a CSV value like "[/b]" or ":rocket:" must print as written, not as a style tag
(which raises) or an emoji.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from icp_engine.card import card_lines
from icp_engine.model import ICP, NO_TIER
from icp_engine.readers import RowError
from icp_engine.scoring import ScoreResult
from icp_engine.wording import (
    SCORE_RULE,
    UNKNOWN_RULE,
    bins_text,
    characteristic_evidence,
    characteristic_rationale,
    no_tier_rule,
    target_text,
)

if TYPE_CHECKING:  # types only: the learning and statistics stack costs a second of imports
    from icp_engine.backtest import Backtest
    from icp_engine.stats import Analysis

MAX_ERRORS_SHOWN = 50


def plain(text: str, style: str = "") -> Text:
    """Show `text` exactly as written (no markup, no :emoji: codes)."""
    return Text(text, style=style)


def labelled(label: str, style: str, text: str) -> Text:
    """A styled label followed by plain user text, e.g. "error: accounts.csv: file not found"."""
    return Text.assemble((label, style), " ", text)


def analysis_table(analysis: Analysis, *, only_significant: bool = True, limit: int = 30) -> Table:
    title = "Segments that differ significantly" if only_significant else "All segments"
    table = Table(title=title, title_justify="left")
    for col in ("segment", "deals", "win rate", "95% CI", "lift", "q", "mean won value"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    rows = [s for s in analysis.segments if s.significant or not only_significant]
    rows.sort(key=lambda s: (-abs(s.lift - 1.0), s.segment.label))
    for s in rows[:limit]:
        table.add_row(
            plain(s.segment.label),
            f"{s.deals:,}",
            f"{s.win_rate:.0%}",
            f"{s.ci_low:.0%}–{s.ci_high:.0%}",
            f"{s.lift:.2f}×",
            f"{s.q_value:.2g}",
            "" if s.mean_value is None else f"{s.mean_value:,.0f}",
        )
    if len(rows) > limit:
        table.caption = f"… and {len(rows) - limit} more (use --json for all)"
    return table


def icp_table(icp: ICP) -> Table:
    """One row per characteristic with its bins grouped ("fintech +12 · retail −8"), then the
    disqualifiers; the caption says what the points mean."""
    version = f" v{icp.version}" if icp.version is not None else ""
    tiers = ", ".join(f"{name} ≥ {t:g} ({icp.tier_label(name)})" for name, t in icp.ordered_tiers())
    tiers += f"; {NO_TIER} ({icp.tier_label(NO_TIER)}) when {no_tier_rule(icp)}"
    table = Table(title=plain(f"ICP '{icp.name}'{version} — tiers: {tiers}"), title_justify="left")
    table.add_column("characteristic")
    table.add_column("points by value", overflow="fold")
    table.add_column("evidence", overflow="fold")
    for ch in icp.characteristics:
        why = characteristic_rationale(ch) or ", ".join(characteristic_evidence(ch))
        table.add_row(plain(ch.name), plain(bins_text(ch)), plain(why))
    for d in icp.disqualifiers:
        table.add_row(plain("⛔ disqualifier", "red"), plain(d.condition.describe()), plain(d.reason))
    if not icp.characteristics and not icp.disqualifiers:
        table.add_row("–", "no characteristics", plain(icp.description or ""))
    table.caption = plain(
        f"Points predict the {target_text(icp)}; values not listed score 0. {UNKNOWN_RULE} {SCORE_RULE}"
    )
    table.caption_justify = "left"
    return table


def score_card(result: ScoreResult, icp: ICP | None = None) -> Panel:
    """The score as a panel: with the ICP, the five-second card (why, gaps, unknowns, play)."""
    lines = result.explain() if icp is None else card_lines(result, icp)
    colour = {"A": "green", "B": "yellow", NO_TIER: "magenta"}.get(result.tier, "red")
    body = Text("\n".join(lines[1:]))
    return Panel(body, title=Text(lines[0], style=f"bold {colour}"), title_align="left")


def backtest_table(bt: Backtest, *, title: str = "Backtest") -> Table:
    table = Table(
        title=plain(
            f"{title}: AUC {bt.auc:.3f}, top-tier lift {bt.top_tier_lift:.2f}×, "
            f"{bt.n:,} deals, win rate {bt.win_rate:.1%}"
        ),
        title_justify="left",
    )
    for col in ("tier", "deals", "share", "wins", "win rate", "95% CI", "won value"):
        table.add_column(col, justify="left" if col == "tier" else "right")
    for t in bt.tiers:
        table.add_row(
            plain(f"{t.tier} {t.label}"),
            f"{t.n:,}",
            f"{t.share:.0%}",
            f"{t.wins:,}",
            f"{t.win_rate:.1%}" if t.n else "–",
            f"{t.ci_low:.0%}–{t.ci_high:.0%}" if t.n else "–",
            "" if t.won_value is None else f"{t.won_value:,.0f}",
        )
    return table


def error_lines(errors: Sequence[RowError | str], *, limit: int = MAX_ERRORS_SHOWN) -> list[str]:
    out = [str(e) for e in errors[:limit]]
    if len(errors) > limit:
        out.append(f"… and {len(errors) - limit:,} more")
    return out


def bullet_list(title: str, lines: Sequence[str]) -> Group:
    return Group(Text(title, style="bold"), *(Text(f"  • {line}") for line in lines))
