"""CSV cells a spreadsheet will not run: the one way the product writes CSV.

An account called ``=HYPERLINK("https://evil","click")`` would run as a formula when someone
opens the scored file in Excel or Sheets (CSV injection). Following OWASP, a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, which
spreadsheets show as plain text. Numbers are left alone, a negative number included, and so is a
text cell that is only a number (``"-12.5"``): neither can be a formula.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import IO, Any

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return not math.isnan(value) or text.strip().lower() == "nan"


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are safe (number columns are not touched)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(safe_cell)
    safe.columns = [safe_cell(c) if isinstance(c, str) else c for c in safe.columns]
    return safe


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    return any(isinstance(v, str) and "\r" in v for c in text for v in frame[c])


def write_frame(frame: pd.DataFrame, target: str | Path | IO[str], **options: Any) -> None:
    """``frame.to_csv(target, **options)`` with every text cell and header made formula-safe.

    Python's csv writer leaves a bare carriage return unquoted when lines end in ``\n``, and a
    reader then splits the cell in two (the second half unquoted); such a file is written with
    every text cell quoted."""
    safe = safe_frame(frame)
    if "quoting" not in options and _has_carriage_return(safe):
        options["quoting"] = csv.QUOTE_NONNUMERIC
    safe.to_csv(target, **options)
