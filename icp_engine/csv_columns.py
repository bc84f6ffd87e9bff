"""The bytes ``DataFrame.to_csv`` writes, built a column at a time with Arrow.

Why: ``to_csv`` hands every row to Python's csv module, about a second per million rows of a
scores file. Arrow builds the same text from whole columns: each cell formatted as pandas formats
it (``str`` of a float, ``True``/``False``, empty for a missing value), quoted as the csv module
quotes with minimal quoting (a cell holding the separator, the quote or a line-end character is
put in quotes, its quotes doubled), then cells joined into lines. Only what this reproduces exactly
is taken; :func:`csv_bytes` answers None for anything else and the caller writes with pandas.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Line ends the columnar text supports; both make the csv module quote a cell with ``\n`` or ``\r``.
LINE_ENDS = ("\n", "\r\n")
#: Cells the csv module puts in quotes (with a line end of ``\n`` or ``\r\n``).
NEEDS_QUOTES = r'[,"\r\n]'
QUOTE_BYTES = b',"\r\n'
#: Lines built and written at a time (a few MB of text).
ROWS_PER_PIECE = 100_000

Texts: TypeAlias = pa.Array | pa.ChunkedArray  # an Arrow text column, whole or in chunks


def csv_bytes(
    frame: pd.DataFrame, options: dict[str, Any], rows_per_piece: int = ROWS_PER_PIECE
) -> Iterator[bytes | pa.Buffer] | None:
    """The pieces of ``frame.to_csv(path, **options)``'s file, or None when pandas must write it.

    Taken: ``index=False``, UTF-8, a ``\\n`` or ``\\r\\n`` line end, at least two plain columns,
    columns of numpy bools, integers or floats or of text (missing values allowed). A text cell with
    a carriage return is not taken: write_frame then quotes every text cell, which this does not do.
    The header, then ``rows_per_piece`` lines at a time: the whole text is never held at once.
    """
    line_end = options.get("lineterminator", os.linesep)
    if not _plain_options(options, line_end) or not _plain_columns(frame):
        return None
    cells = [_cell_texts(frame.iloc[:, position]) for position in range(frame.shape[1])]
    if any(c is None for c in cells):
        return None
    return _pieces(_header(frame, line_end), cast(list[Texts], cells), line_end, rows_per_piece)


def _pieces(
    header: bytes, cells: list[Texts], line_end: str, rows_per_piece: int
) -> Iterator[bytes | pa.Buffer]:
    yield header
    rows = len(cells[0])
    for start in range(0, rows, rows_per_piece):
        part = [c.slice(start, rows_per_piece) for c in cells]
        # the line end joined to the last cells, not to whole lines: a pass over one column, not all
        ended = pc.binary_join_element_wise(part[-1], _text(""), _text(line_end))
        yield _text_buffer(pc.binary_join_element_wise(*part[:-1], ended, _text(",")))


def _plain_options(options: dict[str, Any], line_end: str) -> bool:
    if options.get("index", True) is not False or line_end not in LINE_ENDS:
        return False
    if set(options) - {"index", "encoding", "lineterminator"}:
        return False
    encoding = options.get("encoding") or "utf-8"
    return isinstance(encoding, str) and codecs.lookup(encoding).name == "utf-8"


def _plain_columns(frame: pd.DataFrame) -> bool:
    """One header line of text names (pandas formats other labels), more than one cell a line (the
    csv module quotes a lone empty cell)."""
    return frame.shape[1] > 1 and all(isinstance(name, str) for name in frame.columns)


def _header(frame: pd.DataFrame, line_end: str) -> bytes:
    """The header line, written by the csv module itself (names are few)."""
    text = io.StringIO()
    csv.writer(text, lineterminator=line_end).writerow(list(frame.columns))
    return text.getvalue().encode("utf-8")


def _cell_texts(series: pd.Series) -> Texts | None:
    """Each cell's text as the csv module writes it (quoted where needed), or None: not supported."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return pa.array(np.array(["False", "True"], dtype=object), pa.large_string()).take(
            pa.array(series.to_numpy().view(np.int8))
        )
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pa.array(series.to_numpy()).cast(pa.large_string())
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _float_texts(series.to_numpy())
    if (isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype):
        return _quoted(_text_array(series))
    return None


def float_texts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values.astype(str)`` as pandas writes floats (NaN: None, written empty), as codes into
    the distinct values' texts: each is formatted once (a score column holds a few thousand).

    Distinct by bit pattern: 0.0 and -0.0 are equal but written differently."""
    codes, uniques = pd.factorize(values.view(f"i{values.dtype.itemsize}"))
    distinct = uniques.view(values.dtype)
    texts = distinct.astype(str).astype(object)
    texts[np.isnan(distinct)] = None
    return codes, texts


def _float_texts(values: np.ndarray) -> pa.Array:
    codes, texts = float_texts(values)
    return pc.fill_null(pa.array(texts, pa.large_string()).take(pa.array(codes)), "")


def _text_array(series: pd.Series) -> Texts | None:
    """The column as Arrow text, missing cells empty; None when a cell is not text (pandas writes it)."""
    try:
        texts = pa.array(series, from_pandas=True)
    except (pa.ArrowException, UnicodeError):  # numbers, dates... among texts; unencodable text
        return None
    if pa.types.is_null(texts.type):  # only missing values
        return pa.array([""] * len(series), pa.large_string())
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        return None  # e.g. an object column of numbers: Arrow would not write them as str() does
    return pc.fill_null(texts.cast(pa.large_string()), "")


def _quoted(texts: Texts | None) -> Texts | None:
    """Cells with a separator, a quote or a line end put in quotes, their quotes doubled (csv's minimal quoting)."""
    if texts is None or not _holds_any(texts, QUOTE_BYTES):
        return texts
    needs = pc.match_substring_regex(texts, NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return texts
    quote = _text('"')
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(texts, '"', '""'), quote, _text(""))
    return pc.if_else(needs, quoted, texts)


def _holds_any(texts: Texts, characters: bytes) -> bool:
    """Might a cell hold one of these ASCII characters? A byte search of the column's text, no
    regular expression per cell (in UTF-8 an ASCII byte is never part of another character)."""
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        data = chunk.buffers()[2]  # may hold bytes of cells outside a sliced chunk: only a false alarm
        raw = data.to_pybytes() if data is not None else b""
        if any(bytes([c]) in raw for c in characters):
            return True
    return False


def _text(value: str) -> pa.Scalar:
    """A text constant for Arrow's joins, which want every piece of one type."""
    return pa.scalar(value, pa.large_string())


def _text_buffer(lines: Texts) -> pa.Buffer:
    """The bytes of all the lines, one after the other (Arrow keeps them so in one buffer)."""
    whole = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(whole.buffers()[1], dtype=np.int64)
    start, end = int(offsets[whole.offset]), int(offsets[whole.offset + len(whole)])
    data = whole.buffers()[2]
    return data[start:end] if data is not None else pa.py_buffer(b"")
