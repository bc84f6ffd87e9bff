"""Shared printing for the benchmarks: one rich table style, ratios and PASS/FAIL marks.

Why: every benchmark reports side-by-side figures from one run; printing them the same way keeps
the reports comparable and the scripts short. Tables are printed wide enough not to wrap, so the
output can be pasted into an issue verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

CONSOLE = Console(width=200, highlight=False, soft_wrap=True)
NA = "—"


def mark(ok: bool | None) -> str:
    """PASS / FAIL, or a dash where a bar does not apply."""
    if ok is None:
        return NA
    return "PASS" if ok else "FAIL"


def ratio(numerator: float, denominator: float) -> float:
    """A ratio that never divides by zero (infinite when the denominator is zero)."""
    return numerator / denominator if denominator > 0 else float("inf")


def fmt_ratio(x: float) -> str:
    return f"{x:,.2f}×" if x < 100 else f"{x:,.0f}×"


def fmt_seconds(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:,.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:,.1f} ms"
    return f"{s:,.2f} s"


def fmt_signed(x: float, digits: int = 4) -> str:
    return f"{x:+.{digits}f}"


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    caption: str | None = None,
    left: int = 1,
) -> None:
    """Print one table; the first `left` columns are left-aligned labels, the rest right-aligned."""
    table = Table(title=title, caption=caption, caption_justify="left", title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i < left else "right", overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    CONSOLE.print(table)


def say(text: str = "") -> None:
    """Plain text under the tables (notes, cut-offs, diagnoses)."""
    CONSOLE.print(text, markup=False)
