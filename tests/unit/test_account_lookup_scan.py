"""The account index's fast scans give exactly what the plain definitions give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from bot.services.scoring.account_lookup import PREFILTER, _closest, _Index

# Small alphabets so that keys really occur inside names, several times and overlapping.
names = st.lists(st.text(alphabet="ab c", min_size=1, max_size=8), min_size=1, max_size=60, unique=True)
keys = st.text(alphabet="ab c", min_size=1, max_size=4)


def index_of(name_keys: list[str]) -> _Index:
    rows = [(i + 1, f"C{i}", name, None) for i, name in enumerate(name_keys)]
    index = _Index.build((len(rows), None), rows)
    index.name_keys = list(name_keys)  # the scans read only these
    return index


@settings(max_examples=200, deadline=None)
@given(names, keys)
def test_containing_is_every_name_holding_the_key_in_order(name_keys: list[str], key: str) -> None:
    index = index_of(name_keys)
    assert index.containing(key) == [name for name in name_keys if key in name]
    assert index.containing(key) == [name for name in name_keys if key in name]  # built once, reused


def test_a_key_with_a_nul_contains_nothing() -> None:
    assert index_of(["ab", "ba"]).containing("a\0b") == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcd ", min_size=1, max_size=8), min_size=1, max_size=120), keys)
def test_closest_matches_process_extract(name_keys: list[str], key: str) -> None:
    expected = [
        pos
        for _, _, pos in process.extract(
            key, name_keys, scorer=fuzz.QRatio, processor=None, limit=PREFILTER, score_cutoff=50
        )
    ]
    assert _closest(key, name_keys) == expected
