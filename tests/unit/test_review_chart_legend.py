"""The review chart's legend never covers a bar: checked on the laid-out figure, by bounding box."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from bot.services.reviews.chart import build_tier_chart, render_tier_chart
from bot.services.reviews.kit import TierFigures

FULL = [  # tall bars everywhere: a 100% win rate and the most deals in the rightmost tier
    TierFigures("A", "Best match", won=40, lost=0),
    TierFigures("B", "Good fit", won=30, lost=10),
    TierFigures("C", "Not a fit", won=60, lost=0),
]
EMPTY: list[TierFigures] = []


def _overlaps(a: Bbox, b: Bbox) -> bool:
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def test_the_legend_covers_no_bar_even_when_every_bar_is_full() -> None:
    for then, now in ((FULL, FULL), (EMPTY, FULL), (FULL, EMPTY)):
        fig = build_tier_chart(then, now)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        bars = [p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0]
        assert len(bars) >= 6
        for bar in bars:
            assert not _overlaps(box, bar.get_window_extent(renderer)), bar
        for ax in fig.axes:  # nor any panel, so a taller bar could not reach it either
            assert not _overlaps(box, ax.get_window_extent(renderer))
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts == ["at approval", "since last review"]


def test_the_rendered_chart_is_still_a_png() -> None:
    assert render_tier_chart(FULL, FULL).startswith(b"\x89PNG")
