"""The review kit's chart: win rate and deal volume per tier, at approval ("then") and since ("now").

Rendered with matplotlib's Agg backend (no display, no GUI toolkit) into PNG bytes in memory;
each call builds and closes its own figure, so concurrent renders from worker threads do not
share pyplot state.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: servers have no display

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.services.reviews.kit import TierFigures

THEN_COLOUR = "#9aa5b1"
NOW_COLOUR = "#1264a3"


def _tier_order(then: Sequence[TierFigures], now: Sequence[TierFigures]) -> list[str]:
    order: list[str] = []
    for figures in (*then, *now):
        if figures.tier not in order:
            order.append(figures.tier)
    return order


def render_tier_chart(
    then: Sequence[TierFigures], now: Sequence[TierFigures], *, title: str = "ICP tiers: then and now"
) -> bytes:
    """A PNG with two panels (win rate %, closed deals) and a then/now bar pair per tier."""
    fig = build_tier_chart(then, now, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def build_tier_chart(
    then: Sequence[TierFigures], now: Sequence[TierFigures], *, title: str = "ICP tiers: then and now"
) -> Figure:
    """The chart's figure, laid out. The legend sits in its own band under the title, outside
    both panels, so it never covers a bar however tall the bars are."""
    tiers = _tier_order(then, now)
    by_then = {t.tier: t for t in then}
    by_now = {t.tier: t for t in now}
    fig = Figure(figsize=(8, 3.6), dpi=100)
    rate_ax, volume_ax = fig.subplots(1, 2)
    xs = list(range(len(tiers)))
    width = 0.38
    panels: tuple[tuple[Axes, str, Callable[[TierFigures], float]], ...] = (
        (rate_ax, "Win rate (%)", lambda f: 100.0 * (f.win_rate or 0.0)),
        (volume_ax, "Closed deals", lambda f: float(f.n)),
    )
    for ax, label, value in panels:
        then_values = [value(by_then[t]) if t in by_then else 0.0 for t in tiers]
        now_values = [value(by_now[t]) if t in by_now else 0.0 for t in tiers]
        ax.bar([x - width / 2 for x in xs], then_values, width, label="at approval", color=THEN_COLOUR)
        ax.bar([x + width / 2 for x in xs], now_values, width, label="since last review", color=NOW_COLOUR)
        ax.set_xticks(xs, tiers)
        ax.set_title(label)
        ax.spines[["top", "right"]].set_visible(False)
    rate_ax.set_ylim(0, 100)
    fig.suptitle(title, y=0.98)
    handles, labels = rate_ax.get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.91), ncol=2, fontsize=8, frameon=False
    )
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.84))  # the panels stay below the title and the legend
    return fig
