"""64-bit hashes of Arrow texts, computed on their bytes with numpy: no Python string per value.

Why: finding the few values of a million that repeat (account ids, names) only needs a hash per
value, sorted; turning every text into a Python string to hash it, or rewriting every name with
regular expressions to compare them, costs about a second per million. Equal inputs always give
equal hashes; unequal ones almost never do, and a caller always confirms a repeat on the texts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa

_SLICE = 1 << 16  # values hashed at a time: temporaries of a few bytes per byte of a slice
_BASE = np.uint64(0x100000001B3)  # odd: every power is odd, so no position is lost mod 2**64
_MIX = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.uint64(0x2545F4914F6CDD1D)  # the hash of an empty text (and of a key with no word)
_SPACE = 32


def _mix(values: np.ndarray) -> np.ndarray:
    """A cheap finaliser (xor-shift-multiply) so that close sums end far apart."""
    values = values ^ (values >> np.uint64(31))
    values = values * _MIX
    mixed: np.ndarray = values ^ (values >> np.uint64(29))
    return mixed


def _powers(count: int) -> np.ndarray:
    """``_BASE ** k`` mod 2**64 for k < count (numpy's unsigned products wrap)."""
    steps = np.full(max(count, 1), _BASE, np.uint64)
    steps[0] = 1
    powers: np.ndarray = np.cumprod(steps, dtype=np.uint64)
    return powers


def _segments(symbols: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """A polynomial hash of each segment of ``symbols`` (uint64), segments beginning at ``starts``
    (increasing, each segment non-empty), mixed with the segment's length."""
    if not len(starts):
        return np.zeros(0, np.uint64)
    lengths = np.diff(np.append(starts, len(symbols)))
    position = np.arange(len(symbols), dtype=np.int64) - np.repeat(starts, lengths)
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(symbols * _powers(int(lengths.max()))[position], starts)
        return _mix(sums ^ (lengths.astype(np.uint64) * _MIX))


def string_bytes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a string array without nulls and its offsets (from 0): the bytes a view
    of Arrow's buffer, no text copied."""
    if values.type == pa.large_string():
        offset_type: type[np.signedinteger] = np.int64
    elif values.type == pa.string():
        offset_type = np.int32
    else:
        raise TypeError(f"expected a string array, got {values.type}")
    if values.null_count:
        raise ValueError("texts to hash may not be null")
    _, offsets_buffer, data_buffer = values.buffers()
    if offsets_buffer is None or not len(values):
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    offsets = np.frombuffer(offsets_buffer, offset_type)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    return data, (offsets - offsets[0]).astype(np.int64)


def _sliced(values: pa.Array, hashes: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    parts = [hashes(values.slice(start, _SLICE)) for start in range(0, len(values), _SLICE)]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _text_slice(values: pa.Array) -> np.ndarray:
    data, offsets = string_bytes(values)
    filled = np.diff(offsets) > 0
    out = np.full(len(values), _EMPTY, np.uint64)
    out[filled] = _segments(data.astype(np.uint64) + np.uint64(1), offsets[:-1][filled])
    return out


def _word_key_slice(values: pa.Array, dropped: np.ndarray, table: np.ndarray | None) -> np.ndarray:
    data, offsets = string_bytes(values)
    if table is not None:
        data, offsets = _translated(data, offsets, table)
    out = np.full(len(values), _EMPTY, np.uint64)
    space = data == _SPACE
    begins = np.zeros(len(data), bool)  # a word begins after a space or where a text begins
    begins[1:] = space[:-1]
    begins[offsets[:-1][np.diff(offsets) > 0]] = True
    letters = np.flatnonzero(~space)
    if not len(letters):
        return out
    first = np.flatnonzero(begins[letters])  # each word's first byte, among the word bytes
    words = _segments(data[letters].astype(np.uint64) + np.uint64(1), first)  # as _text_slice's
    kept = ~np.isin(words, dropped)
    owner = np.searchsorted(offsets, letters[first][kept], side="right") - 1  # each kept word's text
    if not len(owner):
        return out
    groups = np.flatnonzero(np.diff(owner, prepend=-1))  # where each text's kept words begin
    out[owner[groups]] = _segments(_mix(words[kept]), groups)
    return out


def _translated(data: np.ndarray, offsets: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every byte through ``table``; bytes it maps to 0 are left out (the offsets follow)."""
    data = table[data]
    gone = data == 0
    if not gone.any():
        return data, offsets
    before = np.concatenate(([0], np.cumsum(gone)))
    return data[~gone], offsets - before[offsets]


def text_hashes(values: pa.Array) -> np.ndarray:
    """A 64-bit hash of each text of a string array without nulls (equal texts, equal hashes)."""
    return _sliced(values, _text_slice)


def word_key_hashes(
    values: pa.Array, dropped: Iterable[str], *, table: np.ndarray | None = None
) -> np.ndarray:
    """A 64-bit hash of each text's sequence of words (split on spaces) without the ``dropped`` words.

    Texts with the same words in the same order, once the dropped ones are left out, get equal
    hashes, however many spaces stand between them. ``table`` (256 bytes) first maps every byte of
    the texts to another; a byte it maps to 0 is left out.
    """
    words = sorted(set(dropped))
    dropped_hashes = np.unique(_text_slice(pa.array(words, pa.string())))
    return _sliced(values, functools.partial(_word_key_slice, dropped=dropped_hashes, table=table))
