"""Normalisation never drops a value the file holds (issue 13).

Over random categorical columns named like canonical fields, every distinct non-blank value survives
either as a value of the output (up to case and spacing, which normalisation may change) or as a
reported mapping raw -> canonical whose canonical value is in the output. The row and the columnar
paths agree on values and mappings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.normalize import ValueMapping, normalize_account, normalize_frame

# Known names, aliases, misspellings and territories beside random text.
_KNOWN: dict[str, list[str]] = {
    "industry": ["software", "SaaS", "technolgy", "Retail", "Widget Makers", "fintech"],
    "country": ["US", "Germany", "Philipines", "Atlantis", "NA", "korea", "New York"],
    "region": ["EMEA", "NAM", "north america", "Midwest", "DACH", "Nordics", "Pacific", "Mordor"],
    "tech_stack": ["SFDC", "Salesforce", "hubspot", "Acme CRM", "Slack"],
}
_HEADERS: dict[str, list[str]] = {
    "industry": ["industry", "Industry"],
    "country": ["country", "COUNTRY"],
    "region": ["region", "Region"],
    "tech_stack": ["tech_stack", "Tech Stack"],
}
# What people write for "no value": these may vanish (they are not values).
_BLANK = frozenset({"", "-", "--", "—", "–", "n/a", "n.a.", "none", "null", "nan", "?", "unknown"})
# Tech stack cells are lists; separators split them, so random tech values hold none.
_TECH_SEPARATORS = frozenset(";,|/\n")
_AND = re.compile(r"\band\b", re.IGNORECASE)


def _text(value: str) -> str:
    return " ".join(value.split())


def _is_blank(value: str) -> bool:
    return _text(value).casefold() in _BLANK


def _random_text(field: str) -> st.SearchStrategy[str]:
    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
    if field == "tech_stack":
        text = text.filter(lambda t: not (_TECH_SEPARATORS & set(t)) and not _AND.search(t))
    return st.one_of(st.sampled_from(_KNOWN[field]), text)


@st.composite
def _frames(draw: st.DrawFn) -> dict[str, list[object]]:
    fields = draw(st.sets(st.sampled_from(sorted(_KNOWN)), min_size=1))
    n = draw(st.integers(min_value=1, max_value=10))
    data: dict[str, list[object]] = {}
    for field in sorted(fields):
        header = draw(st.sampled_from(_HEADERS[field]))
        cells = st.one_of(_random_text(field), st.none(), st.just("  "))
        data[header] = [draw(cells) for _ in range(n)]
    return data


def _field(header: str) -> str:
    return header.casefold().replace(" ", "_")


def _output_values(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(v) for v in value] if isinstance(value, tuple) else [str(value)]


@settings(max_examples=150, deadline=None)
@given(_frames())
def test_every_value_survives_as_a_value_or_a_reported_mapping(data: dict[str, list[object]]) -> None:
    frame, report = normalize_frame(pd.DataFrame(data, dtype=object))
    mappings = [m for m, _ in report.mappings]
    for header, cells in data.items():
        field = _field(header)
        output = {v for cell in frame[field] for v in _output_values(cell)}
        folded = {v.casefold() for v in output}
        reported = {m.raw: m for m in mappings if m.field == field}
        for cell in {c for c in cells if isinstance(c, str) and not _is_blank(c)}:
            raw = _text(cell)
            mapping = reported.get(raw)
            if mapping is not None:
                assert mapping.method != "unknown", mapping
                assert str(mapping.value) in output, (mapping, output)
            else:
                assert raw.casefold() in folded, (field, raw, output, reported)


@settings(max_examples=100, deadline=None)
@given(_frames())
def test_row_and_frame_paths_agree(data: dict[str, list[object]]) -> None:
    frame, report = normalize_frame(pd.DataFrame(data, dtype=object))
    n = len(next(iter(data.values())))
    expected: Counter[ValueMapping] = Counter()
    for i in range(n):
        account, found = normalize_account({h: cells[i] for h, cells in data.items()})
        expected.update(found)
        row: dict[str, Any] = {}
        for column in frame.columns:
            value = frame[column].iloc[i]
            if not _output_values(value):
                continue
            row[str(column)] = value.item() if isinstance(value, np.generic) else value
        assert row == account
    assert dict(report.mappings) == dict(expected)


def test_a_kept_region_is_reported_with_its_rows() -> None:
    frame, report = normalize_frame(pd.DataFrame({"Region": ["Midwest", " Midwest ", "north america", None]}))
    assert frame["region"].tolist() == ["Midwest", "Midwest", "North America", None]
    assert "country_region" not in frame.columns  # no country: nothing to derive
    assert report.lines() == ["region: 'Midwest' kept as written (no canonical match, 2 rows)"]
