"""Finding stored accounts by domain or company name, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.services.scoring.account_lookup import (
    AccountLookup,
    LookupResult,
    _Index,
    find_accounts,
    lookup_for,
    match_in_index,
    normalize_domain,
)
from bot.store.db import make_engine, session_scope, upgrade
from bot.store.models import AccountCreate
from bot.store.repo.crm import bulk_upsert_accounts
from bot.store.repo.workspaces import get_or_create_workspace
from icp_engine.readers import normalize_company_name

ACCOUNTS = [
    ("A1", "Acme, Inc.", "https://www.acme.com/"),
    ("A2", "Acme Labs", "acmelabs.io"),
    ("A3", "Globex Corporation", "globex.com"),
    ("A4", "Initech LLC", None),
    ("A5", "Umbrella Group", "umbrella.co.uk"),
    ("A6", "Umbrella Group", "umbrella-eu.com"),
    ("A7", "Société Générale Café", "cafe.fr"),
]


def new_workspace(engine: Engine, rows: Sequence[tuple[str, str, str | None]] = ACCOUNTS) -> int:
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session=session, slack_team_id=f"T{uuid.uuid4().hex[:10]}")
        assert workspace.id is not None
        workspace_id = workspace.id
    upsert(engine, workspace_id, rows)
    return workspace_id


def upsert(engine: Engine, workspace_id: int, rows: Sequence[tuple[str, str, str | None]]) -> None:
    with session_scope(engine) as session:
        bulk_upsert_accounts(
            session=session,
            workspace_id=workspace_id,
            rows=[AccountCreate(crm_id=c, name=n, domain=d) for c, n, d in rows],
        )


def names(result: LookupResult) -> list[str]:
    return [c.account.name for c in result.candidates]


@pytest.mark.parametrize(
    "query",
    ["acme.com", "ACME.com", "www.acme.com", "https://acme.com/pricing", "jane@acme.com", " acme.com "],
)
def test_an_exact_domain_finds_the_account_whatever_form_it_is_typed_in(
    store_engine: Engine, query: str
) -> None:
    wid = new_workspace(store_engine)
    found = find_accounts(store_engine, workspace_id=wid, query=query)
    assert found.status == "found" and found.match is not None
    assert (found.match.account.crm_id, found.match.method) == ("A1", "domain")
    assert found.searched == len(ACCOUNTS)


@pytest.mark.parametrize(
    ("query", "crm_id"),
    [
        ("acme", "A1"),
        ("ACME INC", "A1"),
        ("Acme, Inc.", "A1"),
        ("globex corp", "A3"),
        ("initech", "A4"),
        ("societe generale cafe", "A7"),
    ],
)
def test_a_normalised_company_name_finds_the_account(store_engine: Engine, query: str, crm_id: str) -> None:
    found = find_accounts(store_engine, workspace_id=new_workspace(store_engine), query=query)
    assert found.status == "found" and found.match is not None
    assert (found.match.account.crm_id, found.match.method) == (crm_id, "name")


def test_a_typo_finds_the_account_by_fuzzy_match_or_asks_to_confirm_a_weak_guess(
    store_engine: Engine,
) -> None:
    wid = new_workspace(store_engine)
    found = find_accounts(store_engine, workspace_id=wid, query="Societe Generale Caffe")
    assert found.status == "found" and found.match is not None
    assert found.match.account.crm_id == "A7" and found.match.method == "fuzzy"
    assert 90 <= found.match.score < 100
    guess = find_accounts(store_engine, workspace_id=wid, query="Glodex")
    assert guess.status == "ambiguous" and not guess.exact
    assert names(guess) == ["Globex Corporation"]


def test_a_name_shared_by_two_accounts_asks_which(store_engine: Engine) -> None:
    found = find_accounts(store_engine, workspace_id=new_workspace(store_engine), query="umbrella group")
    assert found.status == "ambiguous" and found.exact
    assert sorted(c.account.crm_id for c in found.candidates) == ["A5", "A6"]


def test_a_partial_name_matching_several_accounts_offers_them(store_engine: Engine) -> None:
    wid = new_workspace(
        store_engine, [("B1", "Acme Holdings", None), ("B2", "Acme Labs", None), ("B3", "Zeta", None)]
    )
    found = find_accounts(store_engine, workspace_id=wid, query="acme")
    assert found.status == "ambiguous" and not found.exact
    assert sorted(names(found)) == ["Acme Holdings", "Acme Labs"]


def test_an_unknown_domain_offers_accounts_on_a_sibling_domain_but_never_picks_one(
    store_engine: Engine,
) -> None:
    wid = new_workspace(store_engine)
    found = find_accounts(store_engine, workspace_id=wid, query="acme.de")
    assert found.status == "ambiguous" and not found.exact
    assert names(found)[0] == "Acme, Inc."
    lone = find_accounts(store_engine, workspace_id=wid, query="globex.io")
    assert lone.status == "ambiguous" and names(lone) == ["Globex Corporation"]


def test_nothing_close_is_not_found_and_says_how_many_were_searched(store_engine: Engine) -> None:
    wid = new_workspace(store_engine)
    found = find_accounts(store_engine, workspace_id=wid, query="Zyxwvut Quorp")
    assert (found.status, found.candidates, found.searched) == ("not_found", (), len(ACCOUNTS))
    assert find_accounts(store_engine, workspace_id=wid, query="   ").status == "not_found"
    empty = new_workspace(store_engine, [])
    assert find_accounts(store_engine, workspace_id=empty, query="acme").searched == 0


def test_another_workspaces_accounts_are_never_found(store_engine: Engine) -> None:
    mine = new_workspace(store_engine, [("X1", "Mine Ltd", "mine.com")])
    new_workspace(store_engine, [("Y1", "Theirs Ltd", "theirs.com")])
    for query in ("theirs.com", "Theirs Ltd", "theirs"):
        found = find_accounts(store_engine, workspace_id=mine, query=query)
        assert all(c.account.crm_id == "X1" for c in found.candidates), query
        assert found.status != "found"


def test_an_import_is_seen_by_the_next_lookup_and_an_unchanged_table_is_not_reread(
    store_engine: Engine,
) -> None:
    wid = new_workspace(store_engine)
    lookup = AccountLookup(store_engine)
    first = lookup.index(wid)
    assert lookup.index(wid) is first  # nothing changed: the same index
    assert lookup.find(wid, "Hooli").status == "not_found"
    upsert(store_engine, wid, [("A8", "Hooli", "hooli.xyz")])
    found = lookup.find(wid, "Hooli")  # a miss is always answered from a confirmed index
    assert found.status == "found" and found.match is not None and found.match.account.crm_id == "A8"
    assert lookup.index(wid) is not first
    upsert(store_engine, wid, [("A3", "Globex International", "globex.com")])  # a rename
    assert lookup.find(wid, "globex international").status == "found"
    renamed = lookup.find(wid, "globex corporation", fresh=True)
    assert "Globex Corporation" not in names(renamed)


def test_an_exact_hit_is_trusted_only_for_a_short_while(store_engine: Engine) -> None:
    wid = new_workspace(store_engine, [("C1", "Old Name", None)])
    now = [0.0]
    lookup = AccountLookup(store_engine, trust_seconds=10, clock=lambda: now[0])
    assert lookup.find(wid, "old name").status == "found"
    upsert(store_engine, wid, [("C1", "New Name", None)])
    assert lookup.find(wid, "old name").status == "found"  # trusted: no database round trip
    now[0] = 11.0
    assert lookup.find(wid, "old name").status != "found"  # re-checked: the rename is seen
    assert lookup.find(wid, "new name").status == "found"


def test_indexes_are_shared_per_engine_and_bounded(store_engine: Engine) -> None:
    assert lookup_for(store_engine) is lookup_for(store_engine)
    lookup = AccountLookup(store_engine, max_workspaces=2)
    ids = [new_workspace(store_engine, [("D1", f"Company {i}", None)]) for i in range(3)]
    first = lookup.index(ids[0])
    lookup.index(ids[1])
    lookup.index(ids[2])
    assert lookup.index(ids[0]) is not first  # evicted, rebuilt
    assert lookup.find(ids[0], "company 0").status == "found"


@pytest.mark.slow
def test_a_hundred_thousand_accounts(tmp_path: Path) -> None:
    """One backend is enough here: the matching is in memory; SQL only loads the columns."""
    store_engine = make_engine(f"sqlite:///{tmp_path / 'big.db'}")
    upgrade(store_engine)
    rows = [(f"N{i}", f"Company {i} Holdings", f"company{i}.com") for i in range(100_000)]
    rows.append(("N-special", "Quillstone Analytics", "quillstone.ai"))
    wid = new_workspace(store_engine, rows)
    for query, crm_id in (
        ("company77777.com", "N77777"),
        ("Company 4242 Holdings", "N4242"),
        ("Quilstone Analytics", "N-special"),
    ):
        found = find_accounts(store_engine, workspace_id=wid, query=query)
        assert found.status == "found" and found.match is not None, query
        assert found.match.account.crm_id == crm_id
    vague = find_accounts(store_engine, workspace_id=wid, query="company 4242")
    assert vague.status == "ambiguous" and names(vague)[0] == "Company 4242 Holdings"
    assert len(vague.candidates) <= 6 and vague.searched == 100_001
    store_engine.dispose()


# --- the matching rules on an in-memory index (no database), over many generated names ---

WORDS = ["acme", "globex", "north", "star", "blue", "river", "data", "labs", "systems", "quantum", "zenith"]
SUFFIXES = ["", " Inc", ", Inc.", " LLC", " GmbH", " Ltd."]


@st.composite
def company_names(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True))
    return " ".join(w.capitalize() for w in words) + draw(st.sampled_from(SUFFIXES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stored=st.lists(company_names(), min_size=1, max_size=25, unique=True),
    pick=st.integers(0, 24),
    suffix=st.sampled_from(SUFFIXES),
    upper=st.booleans(),
)
def test_a_stored_name_typed_another_way_finds_exactly_the_accounts_of_that_name(
    stored: list[str], pick: int, suffix: str, upper: bool
) -> None:
    rows = [(i + 1, f"C{i}", name, None) for i, name in enumerate(stored)]
    index = _Index.build((len(rows), None), rows)
    target = stored[pick % len(stored)]
    base = target
    for s in SUFFIXES[1:]:
        base = base.removesuffix(s)
    typed = (base + suffix).upper() if upper else base + suffix
    key = normalize_company_name(target)
    assume(normalize_company_name(typed) == key)
    same = {f"C{i}" for i, name in enumerate(stored) if normalize_company_name(name) == key}
    result = match_in_index(index, typed)
    assert result.exact
    assert {c.account.crm_id for c in result.candidates} == same
    assert result.status == ("found" if len(same) == 1 else "ambiguous")


@given(
    st.from_regex(r"[a-z]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True),
    st.sampled_from(["", "www.", "https://", "http://www."]),
)
def test_domains_normalise_to_the_same_key(domain: str, prefix: str) -> None:
    assert normalize_domain(prefix + domain.upper() + "/path?q=1") == normalize_domain(domain) == domain
