"""Normalisation of CRM account attributes into the canonical, comparable form the engine scores.

Numbers written by people ("5k", "$2.5M", "1,000-5,000") become floats; countries become ISO 3166-1
alpha-2 codes; industries and tech stacks become lowercase canonical names. Every value that was
changed on the way is reported as a :class:`ValueMapping`, so the user can see (and correct) what the
import did. Anything that is not a canonical attribute is a custom attribute and is kept as it is.

A value the file holds is never overwritten or dropped: a categorical value that is not in our
tables (a sales territory such as 'Midwest' in a region column, a country we do not know) is kept as
written and reported as 'kept'. Derived values go to their own attributes: the bands, and
`country_region` (the sales region of the country). Only when the file has no region column is
`region` filled from the country as well.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import numbers
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "CANONICAL_ATTRIBUTES",
    "DERIVED_ATTRIBUTES",
    "EMPLOYEE_BANDS",
    "REGIONS",
    "REVENUE_BANDS",
    "NormalizationReport",
    "ValueMapping",
    "employee_band",
    "merge_reports",
    "normalize_account",
    "normalize_country",
    "normalize_frame",
    "normalize_industry",
    "normalize_region",
    "parse_number",
    "parse_range",
    "parse_tech_stack",
    "region_of",
    "revenue_band",
]

CANONICAL_ATTRIBUTES = ("industry", "employees", "annual_revenue", "country", "region", "tech_stack")
DERIVED_ATTRIBUTES = ("employee_band", "revenue_band", "country_region")
REGIONS = ("North America", "Latin America", "EMEA", "APAC")

# ---------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------

# Written for "no value". "NA" only counts for numbers: as a country it is Namibia.
_MISSING_TEXT = frozenset({"", "-", "--", "—", "–", "n/a", "n.a.", "none", "null", "nan", "?", "unknown"})
_MISSING_NUMBER = _MISSING_TEXT | {"na"}

_MULTIPLIERS: dict[str, Decimal] = {
    "k": Decimal(10) ** 3,
    "thousand": Decimal(10) ** 3,
    "thousands": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "mm": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "mio": Decimal(10) ** 6,
    "mil": Decimal(10) ** 6,
    "million": Decimal(10) ** 6,
    "millions": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "billion": Decimal(10) ** 9,
    "billions": Decimal(10) ** 9,
    "t": Decimal(10) ** 12,
    "tn": Decimal(10) ** 12,
    "trillion": Decimal(10) ** 12,
    "trillions": Decimal(10) ** 12,
}
# Longest first so that the regex alternation prefers "mm" over "m" and "bn" over "b".
_SUFFIX_RE = "|".join(sorted(map(re.escape, _MULTIPLIERS), key=len, reverse=True))
_CURRENCY_RE = (
    r"(?:us\$|a\$|c\$|nz\$|hk\$|r\$|[$€£¥₹]|"
    r"(?:usd|eur|gbp|cad|aud|nzd|chf|jpy|cny|rmb|inr|brl|mxn|sek|nok|dkk|pln|zar|sgd|hkd)(?![a-z]))"
)
_DIGITS_RE = r"(?:\d(?:[\d,.'\u00a0\u202f ]*\d)?|\.\d+)(?:e[+-]?\d+)?"


def _amount_re(p: str) -> str:
    """One amount: optional sign and currency, digits, optional multiplier, optional currency after."""
    return (
        rf"(?P<{p}sign>[-+])?\s*(?:{_CURRENCY_RE}\s*)?(?P<{p}sign2>[-+])?\s*(?P<{p}num>{_DIGITS_RE})"
        rf"\s*(?P<{p}suf>(?:{_SUFFIX_RE})(?![a-z]))?\.?\s*(?:{_CURRENCY_RE})?"
    )


_SINGLE = re.compile(rf"^{_amount_re('a_')}$")
_RANGE = re.compile(rf"^{_amount_re('a_')}\s*(?:-|to|\.\.)\s*{_amount_re('b_')}$")
_UNIT_WORDS = re.compile(
    r"\s*(?:employees?|people|persons?|staff|ftes?|headcount|"
    r"per\s+(?:year|annum)|a\s+year|/\s*(?:yr|year|y)|annually|p\.?a\.?)$"
)
_LOWER_PREFIX = re.compile(r"^(?:>=|=>|≥|>|over|above|more\s+than|greater\s+than|at\s+least|min\.?)\s*")
_UPPER_PREFIX = re.compile(r"^(?:<=|=<|≤|<|under|below|less\s+than|fewer\s+than|up\s+to|at\s+most|max\.?)\s*")
_APPROX_PREFIX = re.compile(r"^(?:~|≈|approx\.?|approximately|about|around|circa|ca\.)\s*")
_LOWER_SUFFIX = re.compile(r"\s*(?:\+|or\s+more|and\s+(?:above|up|over)|plus)$")
_UPPER_SUFFIX = re.compile(r"\s*(?:or\s+(?:less|fewer)|and\s+(?:below|under))$")


def _not_a_number(text: object) -> ValueError:
    return ValueError(f"not a number: {text!r}")


def _group_ok(groups: list[str]) -> bool:
    """Thousands groups: a 1-3 digit head then groups of exactly three digits."""
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _digits_to_decimal(digits: str, original: object) -> Decimal:
    """Read one written number, working out which of ',' '.' ' ' and "'" separate thousands.

    Rules: both ',' and '.' present -> the last one is the decimal mark. Only commas: several, or one
    followed by exactly three digits -> thousands ("1,234" is 1234, the English reading); otherwise a
    decimal comma ("1,5"). Only dots: one -> decimal point; several -> European thousands ("1.234.567").
    """
    mantissa, exp = digits, ""
    m = re.search(r"e[+-]?\d+$", digits)
    if m:
        mantissa, exp = digits[: m.start()], m.group(0)
    spaced = re.split(r"[ '\u00a0\u202f]", mantissa)
    if len(spaced) > 1:
        # Spaces and apostrophes only ever separate thousands; a ',' or '.' left is the decimal mark.
        last, mark, frac = [*re.split(r"([.,])", spaced[-1], maxsplit=1), "", ""][:3]
        head = "".join(spaced[:-1])
        if not _group_ok([*spaced[:-1], last]) or not head.isdigit() or (mark and not frac.isdigit()):
            raise _not_a_number(original)
        return _decimal(head + last + ("." + frac if mark else "") + exp, original)
    has_comma, has_dot = "," in mantissa, "." in mantissa
    if has_comma and has_dot:
        decimal_mark = "," if mantissa.rfind(",") > mantissa.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        int_part, _, frac = mantissa.rpartition(decimal_mark)
        if not _group_ok(int_part.split(thousands)):
            raise _not_a_number(original)
        mantissa = int_part.replace(thousands, "") + "." + frac
    elif has_comma:
        parts = mantissa.split(",")
        if len(parts) > 2 or (len(parts[1]) == 3 and parts[0] not in ("", "0")):
            if not _group_ok(parts):
                raise _not_a_number(original)
            mantissa = "".join(parts)
        else:
            mantissa = parts[0] + "." + parts[1]
    elif has_dot and mantissa.count(".") > 1:
        parts = mantissa.split(".")
        if not _group_ok(parts):
            raise _not_a_number(original)
        mantissa = "".join(parts)
    return _decimal(mantissa + exp, original)


def _decimal(text: str, original: object) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _not_a_number(original) from None


def _amount(match: re.Match[str], p: str, original: object) -> tuple[Decimal, str | None]:
    value = _digits_to_decimal(match.group(f"{p}num"), original)
    suffix = match.group(f"{p}suf")
    signs = [sign for sign in (match.group(f"{p}sign"), match.group(f"{p}sign2")) if sign]
    if len(signs) > 1:
        raise _not_a_number(original)
    if signs == ["-"]:
        value = -value
    return value, suffix


def _to_float(value: Decimal, original: object) -> float:
    result = float(value)
    if not math.isfinite(result):
        raise _not_a_number(original)
    return result


def _clean_text(text: str) -> str:
    s = text.strip().casefold()
    s = s.replace("−", "-").replace("–", "-").replace("—", "-").replace("\u2009", " ")
    return re.sub(r"\s+", " ", s)


_DIGITS = re.compile(r"\d{1,15}(?:\.\d{1,15})?")


def parse_range(text: object) -> tuple[float | None, float | None]:
    """Read a value or band as (low, high); an open end is None.

    '1,000-5,000' -> (1000, 5000); '10M+' -> (1e7, None); '<50' -> (None, 50); '250' -> (250, 250).
    Currency signs and codes are dropped, not converted (no exchange rates in a deterministic core).
    A reversed range ('5000-1000') is read as the same interval. Raises ValueError for garbage.
    """
    if type(text) is str and _DIGITS.fullmatch(text):  # the common case in big exports: no cascade
        value = float(text)
        return value, value
    if text is None:
        return None, None
    if isinstance(text, bool):
        raise _not_a_number(text)
    if isinstance(text, numbers.Real):
        if math.isnan(float(text)):
            return None, None
        value = float(text)
        if not math.isfinite(value):
            raise _not_a_number(text)
        return value, value
    if not isinstance(text, str):
        raise _not_a_number(text)
    s = _clean_text(text)
    if s in _MISSING_NUMBER:
        return None, None
    negative = False
    paren = re.fullmatch(r"\((.*)\)", s)
    if paren:
        s, negative = paren.group(1).strip(), True
    s = _UNIT_WORDS.sub("", s)
    s = _APPROX_PREFIX.sub("", s)
    bound = ""
    for pattern, kind in (
        (_LOWER_PREFIX, "low"),
        (_UPPER_PREFIX, "high"),
        (_LOWER_SUFFIX, "low"),
        (_UPPER_SUFFIX, "high"),
    ):
        stripped = pattern.sub("", s)
        if stripped != s:
            if bound and bound != kind:
                raise _not_a_number(text)
            bound, s = kind, stripped
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    single = _SINGLE.match(s)
    if single:
        amount, suffix = _amount(single, "a_", text)
        if suffix and percent:
            raise _not_a_number(text)
        if suffix:
            amount *= _MULTIPLIERS[suffix]
        result = _to_float(-amount if negative else amount, text)
        if bound == "low":
            return result, None
        if bound == "high":
            return None, result
        return result, result
    both = _RANGE.match(s)
    if both is None or bound or negative:
        raise _not_a_number(text)
    low, low_suffix = _amount(both, "a_", text)
    high, high_suffix = _amount(both, "b_", text)
    if (low_suffix or high_suffix) and percent:
        raise _not_a_number(text)
    high *= _MULTIPLIERS[high_suffix] if high_suffix else 1
    if low_suffix:
        low *= _MULTIPLIERS[low_suffix]
    elif high_suffix and low * _MULTIPLIERS[high_suffix] <= high:
        # "$1-5M" means 1M to 5M; "500-5M" keeps 500 because 500M would exceed the top.
        low *= _MULTIPLIERS[high_suffix]
    lo, hi = sorted((_to_float(low, text), _to_float(high, text)))
    return lo, hi


def parse_number(text: object) -> float | None:
    """Read a number as people write it in CRM exports; None means unknown.

    None/''/'n/a'/'-' -> None. '5k' -> 5000, '$2.5M' -> 2.5e6, '10M+' -> 1e7, '1.2bn' -> 1.2e9,
    '(1,200)' -> -1200, '12%' -> 12.0, a range '1,000-5,000' -> its midpoint 3000.0, an open band
    ('<50', '10M+') -> its bound. European '1.234,5' -> 1234.5 when unambiguous.
    Raises ValueError("not a number: 'abc'") for anything else.
    """
    low, high = parse_range(text)
    if low is None:
        return high
    if high is None:
        return low
    if low == high:
        return low
    return float((Decimal(low) + Decimal(high)) / 2)


# ---------------------------------------------------------------------------------------------------
# Bands
# ---------------------------------------------------------------------------------------------------

EMPLOYEE_BANDS = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+")
_EMPLOYEE_EDGES = (10, 50, 200, 500, 1000, 5000, 10000)  # each band includes its upper edge
REVENUE_BANDS = ("<1M", "1M-10M", "10M-50M", "50M-100M", "100M-500M", "500M-1B", "1B+")
_REVENUE_EDGES = (1e6, 1e7, 5e7, 1e8, 5e8, 1e9)  # each band includes its lower edge


def _is_missing(value: object) -> bool:
    """None, NaN (float, numpy or pandas NA) and blank strings all mean 'unknown'."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def employee_band(n: float | None) -> str | None:
    """Headcount band as CRMs and LinkedIn use it: 10 -> '1-10', 11 -> '11-50', 10001 -> '10001+'.

    Fractional counts (a range midpoint such as 10.5) fall in the band above the edge they pass.
    """
    if n is None or _is_missing(n):
        return None
    if n < 0:
        raise ValueError(f"must not be negative: {n!r}")
    return EMPLOYEE_BANDS[bisect.bisect_left(_EMPLOYEE_EDGES, n)]


def revenue_band(x: float | None) -> str | None:
    """Annual revenue band in USD: 999,999 -> '<1M', 1,000,000 -> '1M-10M', 1e9 -> '1B+'."""
    if x is None or _is_missing(x):
        return None
    if x < 0:
        raise ValueError(f"must not be negative: {x!r}")
    return REVENUE_BANDS[bisect.bisect_right(_REVENUE_EDGES, x)]


def _band_index(values: np.ndarray, edges: tuple[float, ...], side: Literal["left", "right"]) -> np.ndarray:
    """Vectorised employee_band / revenue_band: an object array of labels, None where unknown."""
    labels = np.array(EMPLOYEE_BANDS if side == "left" else REVENUE_BANDS, dtype=object)
    out = np.full(len(values), None, dtype=object)
    known = ~np.isnan(values)
    out[known] = labels[np.searchsorted(np.asarray(edges, dtype=float), values[known], side=side)]
    return out


# ---------------------------------------------------------------------------------------------------
# Mappings and lookup tables
# ---------------------------------------------------------------------------------------------------

Method = Literal["exact", "synonym", "fuzzy", "parsed", "derived", "kept", "unknown"]


def _show(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:,.15g}"
    return repr(value)


@dataclasses.dataclass(frozen=True)
class ValueMapping:
    """One change the normaliser made to a value, so that the user can see and correct it.

    method: 'exact' (a name or code in the table, written differently), 'synonym' (an alias),
    'fuzzy' (a misspelling, with its rapidfuzz score 0-100), 'parsed' (a number read from text),
    'derived' (computed from another attribute, e.g. region from country), 'kept' (a categorical
    value not in our tables, kept as written: reported even when unchanged, so that the user sees
    it was not recognised) or 'unknown' (a band label we cannot read; the value is dropped). Other
    changes are reported only beyond case and spacing.
    """

    field: str
    raw: str
    value: object
    method: Method
    score: float | None = None

    def describe(self, rows: int | None = None) -> str:
        if self.method == "kept":
            count = "" if rows is None else f", {rows:,} row" + ("" if rows == 1 else "s")
            kept = "as written" if self.value == self.raw else f"as {_show(self.value)}"
            return f"{self.field}: {self.raw!r} kept {kept} (no canonical match{count})"
        details = [self.method if self.score is None else f"{self.method} {self.score:.0f}"]
        if rows is not None:
            details.append(f"{rows:,} row" + ("" if rows == 1 else "s"))
        return f"{self.field}: {self.raw!r} -> {_show(self.value)} ({', '.join(details)})"

    def __str__(self) -> str:
        return self.describe()


@functools.lru_cache(maxsize=1 << 16)  # the same few words recur across many distinct values
def _key(text: str) -> str:
    """Match key: casefolded, accents, dots and apostrophes dropped, other punctuation as spaces,
    '&' read as 'and', 'St' as 'Saint', a leading 'the' dropped."""
    s = unicodedata.normalize("NFKD", text.casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("&", " and ")
    s = re.sub(r"[.'’`]", "", s)
    s = re.sub(r"[\W_]+", " ", s).strip()
    s = re.sub(r"\bst\b", "saint", s)
    return re.sub(r"^the ", "", s)


def _same_text(raw: str, value: object) -> bool:
    """True when the value only differs from the raw text by case or spacing (nothing to report)."""
    return isinstance(value, str) and " ".join(raw.split()).casefold() == value.casefold()


@dataclasses.dataclass(frozen=True)
class _Lookup:
    """Key -> (canonical value, method), plus the keys that fuzzy matching may pick from."""

    name: str
    by_key: dict[str, tuple[str, Method]]
    fuzzy_keys: tuple[str, ...]

    def add(self, text: str, value: str, method: Method) -> None:
        key = _key(text)
        known = self.by_key.get(key)
        if known is not None and known[0] != value:
            raise ValueError(f"{self.name}: {text!r} is listed for both {known[0]!r} and {value!r}")
        if known is None or method == "exact":
            self.by_key[key] = (value, method)


def _load_yaml(filename: str) -> Any:
    text = resources.files("icp_engine").joinpath("data", filename).read_text(encoding="utf-8")
    # libyaml's safe loader when PyYAML has it: the same data, ten times faster than pure Python
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.cache
def _countries() -> tuple[_Lookup, dict[str, str | None], _Lookup]:
    """(country lookup, iso2 -> region, region lookup), read once from data/countries.yaml."""
    data = _load_yaml("countries.yaml")
    countries = _Lookup("countries.yaml", {}, ())
    regions: dict[str, str | None] = {}
    fuzzy: list[str] = []
    for row in data["countries"]:
        iso2, region = str(row["iso2"]), row.get("region")
        if region is not None and region not in REGIONS:
            raise ValueError(f"countries.yaml: {iso2} has unknown region {region!r}")
        regions[iso2] = region
        for code in (iso2, str(row["iso3"])):
            countries.add(code, iso2, "exact")
        countries.add(row["name"], iso2, "exact")
        for alias in row.get("aliases") or ():
            countries.add(alias, iso2, "synonym")
        fuzzy += [_key(t) for t in (row["name"], *(row.get("aliases") or ()))]
    region_lookup = _Lookup("countries.yaml regions", {}, ())
    for region, aliases in data["regions"].items():
        region_lookup.add(region, region, "exact")
        for alias in aliases:
            region_lookup.add(alias, region, "synonym")
    lookup = dataclasses.replace(countries, fuzzy_keys=tuple(sorted({k for k in fuzzy if len(k) >= 4})))
    return lookup, regions, region_lookup


@functools.cache
def _synonym_table(filename: str, section: str) -> _Lookup:
    """Canonical name -> synonyms tables (industries.yaml, tech.yaml)."""
    lookup = _Lookup(filename, {}, ())
    for canonical, synonyms in _load_yaml(filename)[section].items():
        lookup.add(canonical, canonical, "exact")
        for synonym in synonyms or ():
            lookup.add(synonym, canonical, "synonym")
    keys = tuple(sorted(k for k in lookup.by_key if len(k) >= 4))
    return dataclasses.replace(lookup, fuzzy_keys=keys)


_FUZZY_CUTOFF = 85.0  # fuzz.ratio: 'philipines' scores 95, 'technolgy' 95; unrelated words stay below 75
_ONE_TYPO_MIN_LENGTH = 6  # one edit or swapped pair ('retial') is a typo only in a word this long


def _fuzzy(key: str, lookup: _Lookup) -> tuple[str, float] | None:
    """Best fuzzy match when it is good enough and not a tie between two different values.

    Good enough: fuzz.ratio >= 85, or a single typo (one insertion, deletion, substitution or
    swap of neighbours) in a word of six letters or more, which fuzz.ratio underrates for swaps.
    """
    if len(key) < 4:
        return None
    from rapidfuzz import fuzz, process  # here: values found in the tables never load it
    from rapidfuzz.distance import OSA

    found = process.extract(key, lookup.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=5)
    if found:
        best = found[0][1]
        candidates = [choice for choice, score, _ in found if score == best]
    elif len(key) >= _ONE_TYPO_MIN_LENGTH:
        candidates = [
            choice
            for choice, _, _ in process.extract(
                key, lookup.fuzzy_keys, scorer=OSA.distance, score_cutoff=1, limit=5
            )
        ]
        best = max((fuzz.ratio(key, choice) for choice in candidates), default=0.0)
    else:
        return None
    winners = {lookup.by_key[choice][0] for choice in candidates}
    if len(winners) != 1:
        return None
    return winners.pop(), round(best, 1)


def _text(value: object) -> str | None:
    """The stripped text of a categorical value, None when it is empty or a 'no value' marker."""
    if _is_missing(value):
        return None
    text = " ".join(str(value).split())
    return None if text.casefold() in _MISSING_TEXT else text


def _lookup_value(
    field: str, value: object, lookup: _Lookup, *, fuzzy: bool
) -> tuple[str | None, ValueMapping | None, bool]:
    """(canonical or None, mapping to report, found in the table)."""
    text = _text(value)
    if text is None:
        return None, None, True
    hit = lookup.by_key.get(_key(text))
    if hit is not None:
        canonical, method = hit
        mapping = None if _same_text(text, canonical) else ValueMapping(field, text, canonical, method)
        return canonical, mapping, True
    match = _fuzzy(_key(text), lookup) if fuzzy else None
    if match is not None:
        return match[0], ValueMapping(field, text, match[0], "fuzzy", match[1]), True
    return None, None, False


# ---------------------------------------------------------------------------------------------------
# Categorical attributes
# ---------------------------------------------------------------------------------------------------


def _kept(field: str, text: object, value: str | None = None) -> tuple[str, ValueMapping]:
    """An unrecognised value, kept (as written unless `value` says otherwise) and reported."""
    raw = str(_text(text))
    kept = raw if value is None else value
    return kept, ValueMapping(field, raw, kept, "kept")


def normalize_country(text: object) -> tuple[str | None, ValueMapping | None]:
    """ISO 3166-1 alpha-2 code from a name, alias, alpha-2/alpha-3 code or a misspelt name.

    An unrecognised country is kept as written (trimmed) with a 'kept' mapping naming it: it is the
    user's data and still forms its own segment; it has no region.
    """
    lookup, _, _ = _countries()
    code, mapping, found = _lookup_value("country", text, lookup, fuzzy=True)
    if not found:
        return _kept("country", text)
    return code, mapping


def region_of(iso2: object) -> str | None:
    """Sales region of a country: 'North America', 'Latin America', 'EMEA' or 'APAC'."""
    if not isinstance(iso2, str):
        return None
    return _countries()[1].get(iso2.strip().upper())


def normalize_region(text: object, field: str = "region") -> tuple[str | None, ValueMapping | None]:
    """One of REGIONS from what CRMs write ('NA', 'NAM', 'LATAM', 'Europe', 'Asia Pacific' ...).

    Anything else (a sales territory such as 'Midwest', 'DACH', 'Nordics') is the user's own region
    and is kept as written (trimmed), reported as 'kept'.
    """
    code, mapping, found = _lookup_value(field, text, _countries()[2], fuzzy=False)
    if not found:
        return _kept(field, text)
    return code, mapping


def normalize_industry(text: object) -> tuple[str | None, ValueMapping | None]:
    """Lowercase canonical industry from a label, synonym, HubSpot enum or misspelling.

    An industry that is not in data/industries.yaml is kept as its casefolded, space-collapsed text
    (industries are lowercase; it still forms its own segment) and reported as 'kept'.
    """
    canonical, mapping, found = _lookup_value(
        "industry", text, _synonym_table("industries.yaml", "industries"), fuzzy=True
    )
    if not found:
        return _kept("industry", text, str(_text(text)).casefold())
    return canonical, mapping


_TECH_SPLIT = re.compile(r"\s*(?:[;,|/\n]|\band\b)\s*", re.IGNORECASE)


def _tech_stack(value: object) -> tuple[tuple[str, ...], list[ValueMapping]]:
    if isinstance(value, list | tuple | set | frozenset):
        parts = [str(part) for part in value if not _is_missing(part)]
    elif _is_missing(value):
        parts = []
    else:
        parts = [str(value)]
    lookup = _synonym_table("tech.yaml", "technologies")
    names: set[str] = set()
    mappings: list[ValueMapping] = []
    for part in parts:
        for token in _TECH_SPLIT.split(part):
            text = _text(token)
            if text is None:
                continue
            hit = lookup.by_key.get(_key(text))
            name = hit[0] if hit else text.casefold()
            if hit is None:
                mappings.append(ValueMapping("tech_stack", text, name, "kept"))
            elif not _same_text(text, name):
                mappings.append(ValueMapping("tech_stack", text, name, hit[1]))
            names.add(name)
    return tuple(sorted(names)), mappings


def parse_tech_stack(text: object) -> tuple[str, ...]:
    """Sorted unique lowercase tool names from 'Salesforce; HubSpot', 'SFDC | G Suite and Slack' or a
    list; aliases from data/tech.yaml are mapped ('SFDC' -> 'salesforce'), others kept lowercased."""
    return _tech_stack(text)[0]


# ---------------------------------------------------------------------------------------------------
# Per-value normalisers shared by the row and the columnar paths
# ---------------------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def _number(field: str, value: object) -> tuple[float | None, list[ValueMapping]]:
    """A non-negative number; raises ValueError(reason) without the field name (callers add it)."""
    number = parse_number(value)
    if number is None:
        return None, []
    if number < 0:
        shown = value.item() if isinstance(value, np.generic) else value
        raise ValueError(f"must not be negative: {shown!r}")
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()):
        return number, [ValueMapping(field, value.strip(), number, "parsed")]
    return number, []


def _explicit_band(
    field: str, labels: tuple[str, ...], value: object
) -> tuple[str | None, list[ValueMapping]]:
    """A band column given as input: kept when it is one of ours (used if the number is unknown)."""
    text = _text(value)
    if text is None:
        return None, []
    by_key = {re.sub(r"\s+", "", label.casefold()): label for label in labels}
    label = by_key.get(re.sub(r"\s+", "", text.casefold()))
    return label, [] if label else [ValueMapping(field, text, None, "unknown")]


def _tech_stack_or_none(value: object) -> tuple[tuple[str, ...] | None, list[ValueMapping]]:
    """An empty stack is unknown (None), like any other empty value."""
    names, mappings = _tech_stack(value)
    return names or None, mappings


def _lookup_field(fn: Callable[[object], tuple[Any, ValueMapping | None]]) -> Callable[[object], Any]:
    def normalise(value: object) -> tuple[Any, list[ValueMapping]]:
        result, mapping = fn(value)
        return result, [] if mapping is None else [mapping]

    return normalise


_NORMALISERS: dict[str, Callable[[object], tuple[Any, list[ValueMapping]]]] = {
    "industry": _lookup_field(normalize_industry),
    "country": _lookup_field(normalize_country),
    "region": _lookup_field(normalize_region),
    "country_region": _lookup_field(functools.partial(normalize_region, field="country_region")),
    "employees": functools.partial(_number, "employees"),
    "annual_revenue": functools.partial(_number, "annual_revenue"),
    "tech_stack": _tech_stack_or_none,
    "employee_band": functools.partial(_explicit_band, "employee_band", EMPLOYEE_BANDS),
    "revenue_band": functools.partial(_explicit_band, "revenue_band", REVENUE_BANDS),
}
_FIELD_ORDER = {name: i for i, name in enumerate((*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES))}


def _match_columns(names: Iterable[Hashable]) -> dict[Hashable, str | None]:
    """Original column name -> canonical attribute (matched ignoring case, spaces, '-' and '_')."""
    matched: dict[Hashable, str | None] = {}
    seen: dict[str, Hashable] = {}
    for name in names:
        key = re.sub(r"[\s\-_]+", "_", str(name).strip().casefold())
        canonical = key if key in _FIELD_ORDER else None
        if canonical is not None:
            if canonical in seen:
                raise ValueError(f"columns {seen[canonical]!r} and {name!r} both mean {canonical!r}")
            seen[canonical] = name
        matched[name] = canonical
    return matched


def _custom(value: object) -> object:
    """Custom attributes are used as they are: strings stripped, empty values unknown (lists become
    tuples so that values stay hashable and comparable)."""
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    return _hashable(value)


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(value, key=str))
    return value


def _factorize(series: pd.Series) -> tuple[np.ndarray, Any]:
    """pd.factorize, also for columns holding lists (from JSON imports), which are not hashable."""
    try:
        return pd.factorize(series, use_na_sentinel=True)
    except TypeError:
        return pd.factorize(series.map(_hashable), use_na_sentinel=True)


# ---------------------------------------------------------------------------------------------------
# One account
# ---------------------------------------------------------------------------------------------------


def normalize_account(raw: Mapping[str, object]) -> tuple[dict[str, object], list[ValueMapping]]:
    """Normalise one account's attributes; unknown values are left out, never stored as ''.

    Returns the attributes (canonical ones normalised, bands and country_region derived, custom ones
    as they are) and every mapping made. `region` is filled from the country only when `raw` has no
    region key at all: a region the account holds, even blank, is never replaced. Raises ValueError
    naming the field for a bad number, e.g. "employees: not a number: 'lots'".
    """
    columns = _match_columns(raw)
    canonical: dict[str, object] = {}
    custom: dict[str, object] = {}
    mappings: list[ValueMapping] = []
    for name, value in raw.items():
        field = columns[name]
        if field is None:
            kept = _custom(value)
            if kept is not None:
                custom[str(name)] = kept
            continue
        try:
            result, found = _NORMALISERS[field](value)
        except ValueError as exc:
            raise ValueError(f"{field}: {exc}") from None
        mappings += found
        if result is not None:
            canonical[field] = result
    for source, band, banding in (
        ("employees", "employee_band", employee_band),
        ("annual_revenue", "revenue_band", revenue_band),
    ):
        if source in canonical:
            canonical[band] = banding(cast(float, canonical[source]))  # set by _number above
    region = region_of(canonical.get("country"))
    if region is not None:
        canonical.setdefault("country_region", region)  # a country_region the input holds wins
        if "region" not in columns.values():
            canonical["region"] = region
            mappings.append(ValueMapping("region", str(canonical["country"]), region, "derived"))
    ordered = {k: canonical[k] for k in sorted(canonical, key=_FIELD_ORDER.__getitem__)}
    return {**ordered, **custom}, mappings


# ---------------------------------------------------------------------------------------------------
# Many accounts (columnar)
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class NormalizationReport:
    """What normalize_frame changed (mapping, rows) and which values it could not read
    (field, raw, rows, reason); rows with bad values hold NaN/None there and may be rejected."""

    mappings: list[tuple[ValueMapping, int]] = dataclasses.field(default_factory=list)
    bad_values: list[tuple[str, str, int, str]] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable, one line per mapping then per bad value."""
        out = [mapping.describe(rows) for mapping, rows in self.mappings]
        for field, raw, rows, reason in self.bad_values:
            out.append(f"{field}: {raw!r} rejected in {rows:,} row{'' if rows == 1 else 's'}: {reason}")
        return out


def _object_series(values: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype=object)


class _FrameBuilder:
    """Normalises one column at a time: each distinct value once, then mapped back to the rows."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.mappings: Counter[ValueMapping] = Counter()
        self.bad: Counter[tuple[str, str, str]] = Counter()

    def by_distinct(self, field: str, series: pd.Series) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """(codes, counts, normalised distinct values); bad values become None and are recorded."""
        codes, uniques = _factorize(series)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        values: list[Any] = []
        for unique, count in zip(uniques, counts, strict=True):
            try:
                value, found = _NORMALISERS[field](unique)
            except ValueError as exc:
                self.bad[(field, str(unique), str(exc))] += int(count)
                value, found = None, []
            for mapping in found:
                self.mappings[mapping] += int(count)
            values.append(value)
        return codes, counts, values

    @staticmethod
    def take(codes: np.ndarray, values: list[Any]) -> np.ndarray:
        table = np.empty(len(values) + 1, dtype=object)
        table[: len(values)] = values  # element-wise, so that tuples stay single objects
        table[len(values)] = None
        return table[np.where(codes < 0, len(values), codes)]

    def numbers(self, field: str, series: pd.Series) -> np.ndarray:
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            bad = values < 0
            if bad.any():
                for raw, count in pd.Series(series[bad]).value_counts(sort=False).items():
                    shown = raw.item() if isinstance(raw, np.generic) else raw
                    self.bad[(field, str(shown), f"must not be negative: {shown!r}")] += int(count)
                values = np.where(bad, np.nan, values)
            return values
        codes, _, distinct = self.by_distinct(field, series)
        table = np.array([np.nan if v is None else v for v in distinct] + [np.nan], dtype=float)
        return table[np.where(codes < 0, len(distinct), codes)]

    def report(self) -> NormalizationReport:
        return _report(self.mappings, self.bad)


def _report(mappings: Counter[ValueMapping], bad: Counter[tuple[str, str, str]]) -> NormalizationReport:
    """The report of these counts: by field, then the most rows first."""

    def order(item: tuple[ValueMapping, int]) -> tuple[int, int, str]:
        mapping, rows = item
        return _FIELD_ORDER.get(mapping.field, len(_FIELD_ORDER)), -rows, mapping.raw

    worst = sorted(bad.items(), key=lambda kv: (_FIELD_ORDER[kv[0][0]], -kv[1], kv[0][1]))
    return NormalizationReport(
        mappings=sorted(mappings.items(), key=order),
        bad_values=[(field, raw, rows, reason) for (field, raw, reason), rows in worst],
    )


def merge_reports(reports: Iterable[NormalizationReport]) -> NormalizationReport:
    """One report for rows normalised in parts: what ``normalize_frame`` of all of them reports."""
    mappings: Counter[ValueMapping] = Counter()
    bad: Counter[tuple[str, str, str]] = Counter()
    for report in reports:
        for mapping, rows in report.mappings:
            mappings[mapping] += rows
        for field, raw, rows, reason in report.bad_values:
            bad[(field, raw, reason)] += rows
    return _report(mappings, bad)


def normalize_frame(df: pd.DataFrame) -> tuple[pd.DataFrame, NormalizationReport]:
    """Columnar normalize_account for large imports: same values, row by row.

    Output: float64 (NaN = unknown) for employees/annual_revenue; object columns holding str or None
    for industry, country, region, the bands and custom text; tuples or None for tech_stack; custom
    numeric columns unchanged. Bad numbers do not raise: they become NaN and are listed in the report.
    """
    columns = _match_columns(df.columns)
    build = _FrameBuilder(df.index)
    out: dict[Hashable, pd.Series] = {}
    by_field: dict[str, Hashable] = {field: name for name, field in columns.items() if field is not None}
    country_codes: tuple[np.ndarray, list[Any]] | None = None
    for name in df.columns:
        field, series = columns[name], df[name]
        if field is None:
            if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
                codes, uniques = _factorize(series)
                out[name] = _object_series(build.take(codes, [_custom(u) for u in uniques]), df.index)
            else:
                out[name] = series.copy()
        elif field in ("employees", "annual_revenue"):
            out[field] = pd.Series(build.numbers(field, series), index=df.index, dtype="float64")
        else:
            codes, _, distinct = build.by_distinct(field, series)
            out[field] = _object_series(build.take(codes, distinct), df.index)
            if field == "country":
                country_codes = (codes, distinct)
    bandings: tuple[tuple[str, str, tuple[float, ...], Literal["left", "right"]], ...] = (
        ("employees", "employee_band", _EMPLOYEE_EDGES, "left"),
        ("annual_revenue", "revenue_band", _REVENUE_EDGES, "right"),
    )
    for source, band, edges, side in bandings:
        if source in out:
            derived = _band_index(out[source].to_numpy(), edges, side)
            if band in out:  # an input band column only fills in where the number is unknown
                derived = np.where(pd.isna(derived), out[band].to_numpy(), derived)
            out[band] = _object_series(derived, df.index)
    if country_codes is not None:
        codes, distinct = country_codes
        regions = [region_of(code) for code in distinct]
        from_country = build.take(codes, regions)
        if "region" not in by_field:  # a region column the file holds is never replaced
            counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
            for code, region, count in zip(distinct, regions, counts, strict=True):
                if count and region is not None:
                    build.mappings[ValueMapping("region", str(code), region, "derived")] += int(count)
            out["region"] = _object_series(from_country, df.index)
        if "country_region" in by_field:  # values the input holds win; the country fills the gaps
            given = out["country_region"].to_numpy()
            from_country = np.where(pd.isna(given), from_country, given)
        out["country_region"] = _object_series(from_country, df.index)
    # copy=False: the columns are not stacked into one block, a copy of every value, as pandas would
    return pd.DataFrame(out, index=df.index, copy=False), build.report()
