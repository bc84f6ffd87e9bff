"""Typing one record's values (numbers, yes/no, dates in one format per column) and wording its errors."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from icp_engine.normalize import parse_number
from icp_engine.readers.aliases import _key
from icp_engine.readers.csv_table import Record
from icp_engine.readers.results import CsvFormatError, RowError

_TRUE = frozenset({"true", "yes", "y", "t", "1", "1.0", "x"})
_FALSE = frozenset({"false", "no", "n", "f", "0", "0.0"})
_CHURNED_WORDS = frozenset({"churned", "cancelled", "canceled", "lost", "inactive"})
_ACTIVE_WORDS = frozenset({"active", "retained", "current", "customer"})

_TIME = (
    r"(?:(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?"
)
_ISO_DATE = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_NUMERIC_DATE = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}")
_NAMED_DMY = re.compile(rf"(\d{{1,2}})[-\s]([A-Za-z]{{3,9}})\.?[-\s,]\s*(\d{{4}}){_TIME}")
_NAMED_MDY = re.compile(rf"([A-Za-z]{{3,9}})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_FAMILIES = ("iso", "numeric", "named")


@dataclass(frozen=True)
class _DateShape:
    family: str  # iso: first=month second=day; numeric: order unknown; named: first=month second=day
    first: int
    second: int
    year: int
    sep: str


def _month(word: str) -> int | None:
    word = word.casefold()
    for number, full in enumerate(_MONTHS, 1):
        if len(word) >= 3 and full.startswith(word):
            return number
    return None


def _date_shape(text: str) -> _DateShape | None:
    if m := _ISO_DATE.fullmatch(text):
        return _DateShape("iso", int(m[3]), int(m[4]), int(m[1]), m[2])
    if m := _NUMERIC_DATE.fullmatch(text):
        year = int(m[4])
        if len(m[4]) == 2:
            year += 2000 if year < 70 else 1900
        return _DateShape("numeric", int(m[1]), int(m[3]), year, m[2])
    for pattern, day_group, month_group in ((_NAMED_DMY, 1, 2), (_NAMED_MDY, 2, 1)):
        if (m := pattern.fullmatch(text)) and (month := _month(m[month_group])):
            return _DateShape("named", month, int(m[day_group]), int(m[3]), " ")
    return None


DayOrder = Literal["dmy", "mdy"]


def _numeric_order(shapes: Iterable[tuple[_DateShape | None, int]]) -> tuple[DayOrder | None, bool]:
    """Day/month order proven by numeric dates ('dmy', 'mdy' or None) and whether proofs conflict.

    ``shapes`` are (shape, how many values have it), so a column is read once per distinct text.
    """
    day_first = month_first = 0
    dots = False
    for shape, count in shapes:
        if shape is None or shape.family != "numeric":
            continue
        day_first += count * (shape.first > 12 >= shape.second)
        month_first += count * (shape.second > 12 >= shape.first)
        dots = dots or shape.sep == "."
    if day_first > month_first:
        return "dmy", False
    if month_first > day_first:
        return "mdy", False
    if day_first == 0 and dots:
        return "dmy", False
    return None, day_first > 0


DateLookup = dict[str, "date | str"]  # text -> its date, or the reason it is not one


def _date_lookup(counts: Mapping[str, int], order_hint: DayOrder | None = None) -> DateLookup:
    """Read one column's distinct non-empty texts (with how often each occurs) in ONE format.

    Dates repeat a lot in CRM exports, so each distinct text is parsed once; the counts weigh
    the column-wide choices exactly as if every value had been looked at.
    """
    shapes = {text: _date_shape(text) for text in counts}
    families: Counter[str] = Counter()
    seps: Counter[str] = Counter()
    for text, shape in shapes.items():
        if shape:
            families[shape.family] += counts[text]
            if shape.family == "numeric":
                seps[shape.sep] += counts[text]
    family = max(families, key=lambda f: (families[f], -_FAMILIES.index(f))) if families else None
    order, conflict = _numeric_order((shape, counts[text]) for text, shape in shapes.items())
    if order is None and not conflict:
        order = order_hint
    sep = seps.most_common(1)[0][0] if seps else "/"
    format_name = {
        "iso": "YYYY-MM-DD",
        "named": "D Mon YYYY",
        "numeric": {"dmy": "DD{0}MM{0}YYYY", "mdy": "MM{0}DD{0}YYYY"}.get(
            order or "", "NN{0}NN{0}YYYY"
        ).format(sep),
    }.get(family or "", "")
    return {
        text: _read_date(text, shape, family, order, conflict, format_name) for text, shape in shapes.items()
    }


def _read_date(
    text: str,
    shape: _DateShape | None,
    family: str | None,
    order: DayOrder | None,
    conflict: bool,
    format_name: str,
) -> date | str:
    """One text as a date in the column's format, or the reason it cannot be one."""
    if shape is None:
        return f"not a date: '{text}'"
    if shape.family != family:
        return f"date '{text}' is not in this column's format ({format_name})"
    month, day = shape.first, shape.second
    if family == "numeric":
        if order is None and shape.first != shape.second:
            if conflict:
                return f"date '{text}': this column mixes day-first and month-first dates; write dates as YYYY-MM-DD"
            return (
                f"ambiguous date '{text}': day and month cannot be told apart (no value in this "
                "column has a day above 12); write dates as YYYY-MM-DD"
            )
        if order == "dmy":
            day, month = shape.first, shape.second
    try:
        value = date(shape.year, month, day)
    except ValueError:
        return f"not a valid date: '{text}' (read as {format_name})"
    if not 1900 <= value.year <= 2100:
        return f"implausible year in date '{text}'"
    return value


def parse_dates(
    values: Sequence[tuple[int, str]], *, order_hint: DayOrder | None = None
) -> tuple[dict[int, date], dict[int, str]]:
    """Parse one column's (line, text) values with ONE format inferred from all of them.

    The column's format family (ISO, numeric d/m/y or m/d/y, named month) is the most common one;
    a day above 12 proves day-first or month-first order, and dots mean day-first. Without proof
    in the column, ``order_hint`` (the order proven by the file's other date columns) is used.
    Values whose order still cannot be told (03/01/2017) are errors, not guesses.
    Returns dates by line and error reasons by line; empty values are in neither.
    """
    lookup = _date_lookup(Counter(text for _, text in values if text), order_hint)
    parsed: dict[int, date] = {}
    problems: dict[int, str] = {}
    for line, text in values:
        if text:
            value = lookup[text]
            if isinstance(value, str):
                problems[line] = value
            else:
                parsed[line] = value
    return parsed, problems


def _date_lookups(counts: Mapping[str, Counter[str]]) -> dict[str, DateLookup]:
    """Each date field's lookup; a day/month order proven in one column settles the others."""
    orders = {
        _numeric_order((_date_shape(text), n) for text, n in texts.items())[0] for texts in counts.values()
    } - {None}
    hint = orders.pop() if len(orders) == 1 else None
    return {f: _date_lookup(texts, order_hint=hint) for f, texts in counts.items()}


def _count_dates(
    records: Iterable[Record], index: Mapping[str, int], fields: Iterable[str]
) -> dict[str, Counter[str]]:
    """How often each non-empty text occurs in each mapped date field (fields without a column are left out)."""
    positions = {f: index[f] for f in fields if f in index}
    counts: dict[str, Counter[str]] = {f: Counter() for f in positions}
    for _, values in records:
        for f, position in positions.items():
            if text := values[position]:
                counts[f][text] += 1
    return counts


@dataclass(frozen=True)
class _Layout:
    """Where each mapped field is: its column name (for messages) and its position in a record."""

    file: str
    columns: dict[str, str]
    index: dict[str, int]

    @classmethod
    def of(cls, file: str, header: Sequence[str], columns: Mapping[str, str]) -> _Layout:
        positions = {column: i for i, column in enumerate(header)}
        return cls(file, dict(columns), {f: positions[c] for f, c in columns.items()})


class _Row:
    """One record being typed: reads mapped fields and collects its errors."""

    __slots__ = ("errors", "layout", "line", "values")

    def __init__(self, layout: _Layout, line: int, values: Sequence[str]) -> None:
        self.layout, self.line, self.values = layout, line, values
        self.errors: list[RowError] = []

    def column(self, field_name: str) -> str:
        return self.layout.columns.get(field_name, field_name)

    def error(self, field_name: str | None, reason: str) -> None:
        column = self.column(field_name) if field_name else None
        self.errors.append(RowError(self.layout.file, self.line, column, reason))

    def text(self, field_name: str) -> str | None:
        position = self.layout.index.get(field_name)
        return None if position is None else (self.values[position] or None)

    def number(
        self, field_name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        text = self.text(field_name)
        if text is None:
            return None
        try:
            value = parse_number(text)
        except ValueError as exc:
            self.error(field_name, str(exc))
            return None
        if value is None:
            return None
        if minimum is not None and value < minimum:
            self.error(
                field_name, f"negative value: '{text}'" if minimum == 0 else f"below {minimum:g}: '{text}'"
            )
            return None
        if maximum is not None and value > maximum:
            self.error(field_name, f"above {maximum:g}: '{text}'")
            return None
        return value

    def flag(
        self, field_name: str, *, true: frozenset[str] = _TRUE, false: frozenset[str] = _FALSE
    ) -> bool | None:
        text = self.text(field_name)
        if text is None:
            return None
        word = text.casefold()
        if word in true:
            return True
        if word in false:
            return False
        self.error(field_name, f"not a yes/no value: '{text}'")
        return None

    def date(self, field_name: str, dates: Mapping[str, DateLookup]) -> date | None:
        lookup = dates.get(field_name)
        text = self.text(field_name)
        if lookup is None or text is None:
            return None
        value = lookup.get(text)
        if value is None:  # every text was counted when the file was first read
            raise CsvFormatError(f"{self.layout.file} changed while it was being read; import it again")
        if isinstance(value, str):
            self.error(field_name, value)
            return None
        return value

    def custom(self, extra_columns: Sequence[tuple[int, str]]) -> dict[str, str]:
        """Non-empty values of the unmapped columns, under the names `_custom_columns` chose."""
        values = self.values
        return {name: value for position, name in extra_columns if (value := values[position])}


def _custom_columns(
    header: Sequence[str], columns: Mapping[str, str], taken: Iterable[str]
) -> list[tuple[int, str]]:
    """(position, attribute name) for every unmapped column, worked out once per file.

    A column whose name means one of our fields but was not used for it is renamed
    '<name> (column)' so it can never pass for the field itself.
    """
    mapped = set(columns.values())
    taken_keys = {_key(t) for t in taken}
    return [
        (position, f"{column} (column)" if _key(column) in taken_keys else column)
        for position, column in enumerate(header)
        if column not in mapped
    ]


def _require_rows(file: str, rows: int, errors: int) -> None:
    if not rows and not errors:
        raise CsvFormatError(f"{file} has a header but no data rows")


def _count(n: int, singular: str, verb: tuple[str, str] | None = None) -> str:
    """'1 open deal has' / '1,425 open deals have'."""
    text = f"{n:,} {singular if n == 1 else singular + 's'}"
    return f"{text} {verb[n != 1]}" if verb else text


def _lines(lines: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in lines[:limit])
    return shown + (f" and {len(lines) - limit:,} more" if len(lines) > limit else "")
