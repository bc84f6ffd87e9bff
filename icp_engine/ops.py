"""Operator semantics for one value, shared by single-account and batch scoring.

Batch scoring evaluates object columns by calling these functions once per distinct value, so
the two paths cannot drift apart: there is exactly one definition of what `in` or `between`
means. Numeric columns are compared with numpy using the same float64 comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from icp_engine.model import LIST_OPS, NUMERIC_OPS, Scalar

Key = tuple[str, float | str]


def is_missing(v: Any) -> bool:
    """Unknown values: None, NaN, blank strings and empty lists all mean "we don't know"."""
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, list | tuple | set | frozenset):
        return len(v) == 0
    if type(v).__name__ in {"NAType", "NaTType"}:
        return True
    try:
        return bool(v != v)  # numpy NaN and pandas NA-likes
    except (TypeError, ValueError):
        return False


def value_key(v: Any) -> Key:
    """Comparison key: numbers by value, strings case- and space-insensitively.

    "5", 5 and 5.0 are the same key, so a custom field typed on the command line matches an
    ICP written in YAML.
    """
    if isinstance(v, bool):
        return ("s", "true" if v else "false")
    if isinstance(v, int | float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iuf"):
        return ("n", float(v))
    s = " ".join(str(v).split()).casefold()
    try:
        f = float(s)
    except ValueError:
        return ("s", s)
    if math.isfinite(f):
        return ("n", f)
    return ("s", s)


def as_number(v: Any) -> float | None:
    """A value as a number for gt/lt/between, or None when it is not numeric."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        f = float(v)
        return None if f != f else f
    if isinstance(v, str):
        try:
            f = float(v.strip().replace(",", ""))
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def as_items(v: Any) -> tuple[Any, ...]:
    """List attributes (tech stack) as a tuple; a single value is a one-item list."""
    if isinstance(v, list | tuple | set | frozenset):
        return tuple(v)
    return (v,)


def evaluate(op: str, values: Sequence[Scalar], v: Any) -> tuple[bool, bool]:
    """Return (known, matched) for one condition on one account value."""
    missing = is_missing(v)
    if op == "exists":
        return True, not missing
    if op == "missing":
        return True, missing
    if missing:
        return False, False
    if op in NUMERIC_OPS:
        x = as_number(v)
        if x is None:
            return True, False
        nums = [float(w) for w in values]
        if op == "gt":
            return True, x > nums[0]
        if op == "gte":
            return True, x >= nums[0]
        if op == "lt":
            return True, x < nums[0]
        if op == "lte":
            return True, x <= nums[0]
        return True, nums[0] <= x <= nums[1]
    wanted = {value_key(w) for w in values}
    have = {value_key(i) for i in as_items(v) if not is_missing(i)}
    if op in LIST_OPS:
        if op == "contains_any":
            return True, bool(have & wanted)
        return True, wanted <= have
    hit = bool(have & wanted)
    if op in {"eq", "in"}:
        return True, hit
    return True, not hit  # ne, not_in
