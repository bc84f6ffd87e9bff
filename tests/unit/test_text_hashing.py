"""Hashes of texts on their bytes: equal inputs, equal hashes; the coarse name key never splits a company."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_engine.readers import text_hashing
from icp_engine.readers.account_join import _LEGAL_SUFFIXES, normalize_company_name
from icp_engine.readers.account_table import coarse_name_hashes
from icp_engine.readers.columnar import repeating
from icp_engine.readers.text_hashing import text_hashes, word_key_hashes

WORDS = st.sampled_from(
    [
        "acme",
        "the",
        "ltd",
        "Inc.",
        "co",
        "&",
        "and",
        "Zeta",
        "o'neil",
        "ONeil",
        "inc",
        "A.B",
        "ab",
        "x1",
        "ÄB",
        "Café",
    ]
)
NAMES = (
    st.lists(WORDS, min_size=0, max_size=5)
    .flatmap(
        lambda words: st.tuples(
            st.just(words), st.lists(st.sampled_from([" ", "  ", ", ", "-", " . "]), min_size=5, max_size=5)
        )
    )
    .map(lambda pair: "".join(w + sep for w, sep in zip(pair[0], pair[1], strict=False)).strip())
)


@given(st.lists(st.text(max_size=12), max_size=60))
def test_equal_texts_hash_equal_and_distinct_ones_apart(texts: list[str]) -> None:
    hashes = text_hashes(pa.array(texts, pa.string()))
    by_text: dict[str, int] = {}
    for text, value in zip(texts, hashes.tolist(), strict=True):
        assert by_text.setdefault(text, value) == value
    assert len(set(by_text.values())) == len(by_text)  # no collision among a few dozen texts


def test_a_slice_boundary_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = pa.array([f"A{i % 700:05d}" for i in range(3_000)], pa.string())
    names = pa.array([f"company {i % 500} ltd" for i in range(3_000)], pa.string())
    whole, whole_keys = text_hashes(texts), word_key_hashes(names, ["ltd"])
    monkeypatch.setattr(text_hashing, "_SLICE", 97)
    assert np.array_equal(text_hashes(texts), whole)
    assert np.array_equal(word_key_hashes(names, ["ltd"]), whole_keys)
    assert len(np.unique(whole)) == 700 and len(np.unique(whole_keys)) == 500


def test_word_keys_drop_words_anywhere_and_ignore_spacing() -> None:
    hashes = word_key_hashes(
        pa.array(["acme ltd", "acme", "ltd  acme", "acme x", "x acme", "", "ltd"]), ["ltd"]
    )
    assert hashes[0] == hashes[1] == hashes[2]
    assert len({hashes[1], hashes[3], hashes[4]}) == 3  # word order counts
    assert hashes[5] == hashes[6]  # nothing left: the empty key


def test_a_sliced_array_is_read_from_its_own_offset() -> None:
    texts = pa.array(["zero", "one", "two", "three"], pa.string())
    assert np.array_equal(text_hashes(texts.slice(2)), text_hashes(pa.array(["two", "three"])))


@settings(max_examples=300)
@given(st.lists(NAMES, min_size=2, max_size=8))
def test_names_normalised_alike_get_one_coarse_key(names: list[str]) -> None:
    hashes = coarse_name_hashes(pa.array(names, pa.string())).tolist()
    by_key: dict[str, int] = {}
    for name, value in zip(names, hashes, strict=True):
        assert by_key.setdefault(normalize_company_name(name), value) == value, (name, by_key)


def test_distinct_companies_get_distinct_coarse_keys() -> None:
    names = [f"Company {i} Ltd" for i in range(50_000)] + ["Acme GmbH", "Acme Rockets", "Rockets Acme"]
    assert len(np.unique(coarse_name_hashes(pa.array(names)))) == len(names)
    assert "ltd" in _LEGAL_SUFFIXES  # (the key leaves it out: 'Company 1 Ltd' and 'Company 1' are one)
    pair = coarse_name_hashes(pa.array(["Company 1 Ltd", "company 1", "The Company 1, Inc."]))
    assert pair[0] == pair[1] == pair[2]


@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), max_size=40))
def test_repeating_finds_every_record_whose_hash_another_masked_record_shares(
    records: list[tuple[int, bool]],
) -> None:
    hashes = np.array([h for h, _ in records], np.uint64)
    mask = np.array([m for _, m in records], bool)
    masked = [h for h, m in records if m]
    expected = [i for i, (h, m) in enumerate(records) if m and masked.count(h) > 1]
    assert repeating(hashes, mask).tolist() == expected
