"""The bulk upsert's encoders, built once for speed, must write exactly what json.dumps writes.

Stored digests come from earlier imports: if the digest text changed, every re-imported row would
count as updated. The JSON column must hold what SQLAlchemy's own processor would have written.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import Account, Deal
from bot.store.repo import content_hash
from bot.store.repo._bulk import _processors

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def json_digest(items: list[Any]) -> str:
    """The digest as first defined: blake2b-128 of canonical, sorted-key JSON."""
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@given(items=st.lists(values, max_size=9))
def test_content_hash_is_the_canonical_json_digest(items: list[Any]) -> None:
    assert content_hash(items) == json_digest(items)


def test_content_hash_ignores_key_order_but_not_types() -> None:
    assert content_hash([{"a": 1, "b": 2}]) == content_hash([{"b": 2, "a": 1}])
    assert len({content_hash([1]), content_hash([1.0]), content_hash(["1"]), content_hash([True])}) == 4


json_documents = st.dictionaries(
    st.text(max_size=8),
    st.one_of(scalars.filter(lambda v: not hasattr(v, "year")), st.lists(st.text(max_size=4), max_size=3)),
    max_size=6,
)


@given(document=json_documents)
def test_the_json_column_holds_what_sqlalchemy_would_write(document: dict[str, Any]) -> None:
    dialect = sqlite.dialect()
    column_type = Deal.__table__.c.custom_attributes.type  # type: ignore[attr-defined]
    own = column_type.dialect_impl(dialect).bind_processor(dialect)
    fast = _processors(Deal.__table__, ["custom_attributes"], dialect)["custom_attributes"]  # type: ignore[arg-type]
    assert fast is not None and own is not None
    assert fast(document) == own(document) == json.dumps(document)


@given(stack=st.lists(st.text(max_size=6), max_size=4))
def test_list_columns_too(stack: list[str]) -> None:
    dialect = sqlite.dialect()
    fast = _processors(Account.__table__, ["tech_stack"], dialect)["tech_stack"]  # type: ignore[arg-type]
    assert fast is not None and fast(stack) == json.dumps(stack)


def test_a_processor_that_is_not_json_dumps_is_kept() -> None:
    """psycopg wraps JSON values itself: that processor is used as it is."""
    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    column_type = Deal.__table__.c.custom_attributes.type  # type: ignore[attr-defined]
    fast = _processors(Deal.__table__, ["custom_attributes"], dialect)["custom_attributes"]  # type: ignore[arg-type]
    own = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None and own is not None
    assert type(fast({"a": 1})) is type(own({"a": 1})) and not isinstance(fast({"a": 1}), str)
