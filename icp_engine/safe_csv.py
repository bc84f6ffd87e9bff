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
import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from icp_engine.csv_columns import csv_bytes, float_texts

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Endings from which ``to_csv`` infers a compressed file: such files are left to pandas.
COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")


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


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series)


def _starts_risky(series: pd.Series) -> np.ndarray:
    """Cells that may need the quote: text starting with a formula character (checked column-wise)."""
    try:
        starts = series.str.startswith(FORMULA_STARTS)
    except AttributeError:  # an object column without any text: pandas has no .str for it
        return np.zeros(len(series), dtype=bool)
    return np.asarray(starts.fillna(False), dtype=bool)  # non-text cells of an object column: NaN


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are safe (number columns are not touched)."""
    safe = frame.copy()
    for position in range(safe.shape[1]):
        series = safe.iloc[:, position]
        if not _is_text(series):
            continue
        risky = _starts_risky(series)
        if risky.any():  # only those cells go through safe_cell
            values = series.to_numpy(dtype=object, copy=True)
            values[risky] = [safe_cell(v) for v in values[risky]]
            safe.isetitem(position, pd.Series(values, dtype=series.dtype).array)
    safe.columns = [safe_cell(c) if isinstance(c, str) else c for c in safe.columns]
    return safe


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if not _is_text(series):
            continue
        try:
            if bool(series.str.contains("\r", regex=False).fillna(False).any()):
                return True
        except AttributeError:  # no text in the column
            continue
    return False


def write_frame(frame: pd.DataFrame, target: str | Path | IO[str], **options: Any) -> None:
    """``frame.to_csv(target, **options)`` with every text cell and header made formula-safe.

    Python's csv writer leaves a bare carriage return unquoted when lines end in ``\n``, and a
    reader then splits the cell in two (the second half unquoted); such a file is written with
    every text cell quoted. A plain file (see `csv_bytes`) is built column-wise, the same bytes
    about ten times faster; anything else is written row by row, as `write_frame_rowwise` does."""
    safe, options = _safe(frame, options)
    path = _plain_path(target)
    pieces = csv_bytes(safe, options) if path is not None else None
    if path is None or pieces is None:
        _to_csv(safe, target, options)
        return
    with open(path, "wb") as handle:
        for piece in pieces:
            handle.write(piece)


def write_frame_rowwise(frame: pd.DataFrame, target: str | Path | IO[str], **options: Any) -> None:
    """`write_frame` through pandas and the csv module, row by row: the reference of its fast path."""
    safe, options = _safe(frame, options)
    _to_csv(safe, target, options)


def _safe(frame: pd.DataFrame, options: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The formula-safe frame and the options to write it with (every text cell quoted if one has a CR)."""
    safe = safe_frame(frame)
    if "quoting" not in options and _has_carriage_return(safe):
        options = {**options, "quoting": csv.QUOTE_NONNUMERIC}
    return safe, options


def _to_csv(safe: pd.DataFrame, target: str | Path | IO[str], options: dict[str, Any]) -> None:
    if not {"quoting", "float_format", "decimal"} & options.keys():
        safe = _floats_as_written(safe)
    safe.to_csv(target, **options)


def _plain_path(target: str | Path | IO[str]) -> str | None:
    """The local file ``to_csv`` would write plainly (no compression, existing folder), or None."""
    if not isinstance(target, str | os.PathLike) or "://" in str(target):
        return None
    path = os.path.expanduser(os.fspath(target))
    if path.lower().endswith(COMPRESSED) or not os.path.isdir(os.path.dirname(path) or "."):
        return None
    return path


def _floats_as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns as the texts ``to_csv`` would write, each distinct value formatted once.

    Why: pandas formats every float with ``astype(str)``, about a second per million values; a
    score or a confidence column holds a few thousand distinct values. Same texts (NaN: empty),
    so the same bytes; only with minimal quoting, where a number and its text are written alike.
    """
    out = frame
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if not (isinstance(series.dtype, np.dtype) and series.dtype.kind == "f"):
            continue
        values = series.to_numpy()
        codes, texts = float_texts(values)  # NaN: None, written as na_rep, as pandas writes NaN
        if out is frame:
            out = frame.copy()
        out.isetitem(position, texts[codes])
    return out
