"""Find a workspace's stored account from what a person types: a domain or a company name.

Matching goes from strict to loose and stops at the first step that finds something: the exact
domain, then the normalised company name ('ACME, Inc.' is 'acme'), then a fuzzy name match
(rapidfuzz). A lookup that finds exactly one account answers with it; otherwise it answers with a
short list of candidates for the person to choose from, because scoring the wrong company
silently is worse than asking.

Scanning 100,000 names per request would be slow, so each workspace's names and domains are
indexed in memory and reused while the account table is unchanged, judged by the workspace's
account count and latest ``updated_at`` (an import moves one or the other). Asking the database
that costs a scan of the table, so it is not asked on every request: an exact hit from an index
checked in the last few seconds is trusted (the account row itself is read fresh when scored),
while anything else (a miss, a fuzzy guess, a choice to offer) is answered only from an index
just confirmed current, so a company imported a moment ago is always found. A rebuild reuses the
previous build's normalised names, so re-indexing after an import costs little more than the read.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from bot.store.db import Engine, read_only
from bot.store.repo.crm import account_table_state, list_account_refs, recently_changed_workspaces
from icp_engine.readers import normalize_company_name

MatchStatus = Literal["found", "ambiguous", "not_found"]
MatchMethod = Literal["domain", "name", "fuzzy", "domain_stem"]

FUZZY_CUTOFF = 70.0  # below this a name is not worth offering
FUZZY_SURE = 90.0  # a fuzzy match this good, well ahead of the next one, is taken without asking
FUZZY_MARGIN = 5.0  # "well ahead": the runner-up scores at least this much lower
MAX_CANDIDATES = 6
MAX_CACHED_WORKSPACES = 8
TRUST_SECONDS = 10.0  # an exact hit from an index checked this recently is used without asking
PREFILTER = 40  # names kept by the cheap whole-string pass before the full fuzzy scoring
CONTAINS_MAX = 200  # names kept because they contain the typed name ("acme" in "acme labs")

_DOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "gv", "or", "ne"})


@dataclass(frozen=True)
class AccountRef:
    """Enough about an account to show it in a list and fetch it by primary key."""

    id: int
    crm_id: str
    name: str
    domain: str | None


@dataclass(frozen=True)
class Candidate:
    account: AccountRef
    method: MatchMethod
    score: float  # 100 for exact matches, rapidfuzz's score for fuzzy ones


@dataclass(frozen=True)
class LookupResult:
    """``found``: ``match`` is the account. ``ambiguous``: choose among ``candidates``.
    ``not_found``: nothing close. ``exact`` says whether the candidates match the query exactly
    (several accounts share the name or domain) or are only suggestions."""

    query: str
    status: MatchStatus
    match: Candidate | None = None
    candidates: tuple[Candidate, ...] = ()
    exact: bool = False
    searched: int = 0  # how many accounts the workspace has (0: nothing loaded yet)


def normalize_domain(text: str) -> str | None:
    """'https://www.Acme.com/about' → 'acme.com'; 'bob@acme.com' → 'acme.com'; None if not a domain."""
    s = text.strip().casefold()
    if _DOMAIN_RE.match(s) and not s.startswith("www."):
        return s  # already clean: the common case when indexing stored domains
    if not s or any(ch.isspace() for ch in s):
        return None
    if "@" in s and "://" not in s:
        s = s.rsplit("@", 1)[1]
    s = re.sub(r"^[a-z][a-z0-9+.-]*://", "", s)
    s = re.split(r"[/?#]", s, maxsplit=1)[0]
    s = s.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if s.startswith("www."):
        s = s[4:]
    return s if _DOMAIN_RE.match(s) else None


def domain_stem(domain: str) -> str:
    """The name part of a domain: 'acme.co.uk' → 'acme', 'eu.acme.com' → 'acme'."""
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


@dataclass(frozen=True)
class _Groups:
    """Row positions grouped by a key, kept as two arrays instead of 100,000 small lists."""

    code: dict[str, int]  # key -> group number
    order: np.ndarray  # row positions sorted by group
    starts: np.ndarray  # group g's rows are order[starts[g]:starts[g + 1]]

    @classmethod
    def of(cls, codes: np.ndarray, keys: Sequence[str]) -> _Groups:
        """``codes[row]`` is the row's index into ``keys``, or -1 for rows without a key."""
        counts = np.bincount(codes[codes >= 0], minlength=len(keys))
        order = np.argsort(codes, kind="stable")[int((codes < 0).sum()) :]
        starts = np.concatenate(([0], np.cumsum(counts)))
        return cls(dict(zip(keys, range(len(keys)), strict=True)), order, starts)

    def get(self, key: str) -> list[int]:
        group = self.code.get(key)
        if group is None:
            return []
        rows: list[int] = self.order[self.starts[group] : self.starts[group + 1]].tolist()
        return rows


def _keyed(
    raw: list[str | None],
    memo: dict[str, Any],
    previous: Mapping[str, Any],
    normalise: Callable[[str], Any],
) -> tuple[np.ndarray, list[Any]]:
    """Per row, the code of its normalised value, and the distinct normalised values.

    Only distinct raw values are normalised, and those already normalised by the previous build
    are looked up, so an index rebuilt after a small import costs little more than reading rows.
    """
    raw_codes, raw_uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=True)
    normalised = []
    for value in raw_uniques:
        found = previous.get(value, _UNSET) if value else None
        if found is _UNSET:
            found = normalise(value)
        memo[value] = found
        normalised.append(found or None)
    key_codes, keys = pd.factorize(pd.Series(normalised, dtype=object), use_na_sentinel=True)
    codes = np.where(raw_codes >= 0, key_codes[raw_codes] if len(key_codes) else -1, -1)
    return codes.astype(np.int64), list(keys)


_UNSET = object()


@dataclass
class _Index:
    """One workspace's accounts as parallel columns plus the lookup tables built from them."""

    key: tuple[int, datetime | None]
    ids: list[int]
    crm_ids: list[str]
    names: list[str]
    domains: list[str | None]
    by_name: _Groups
    by_domain: _Groups
    domain_keys: list[str]  # distinct normalised domains (by_domain's keys)
    domain_codes: np.ndarray  # per row, its domain's number in domain_keys (-1: none)
    name_keys: list[str]  # distinct normalised names, for rapidfuzz
    name_memo: dict[str, str | None]  # raw name -> normalised, reused by the next build
    domain_memo: dict[str, str | None]
    checked_at: float = 0.0  # time.monotonic() when ``key`` was last confirmed current
    _stems: _Groups | None = None
    _joined: tuple[str, np.ndarray] | None = None

    @classmethod
    def build(
        cls,
        key: tuple[int, datetime | None],
        rows: Sequence[tuple[int, str, str, str | None]],
        previous: _Index | None = None,
    ) -> _Index:
        ids, crm_ids, names, domains = (
            (list(col) for col in zip(*rows, strict=True)) if rows else ([], [], [], [])
        )
        name_memo: dict[str, str | None] = {}
        domain_memo: dict[str, str | None] = {}
        name_codes, name_keys = _keyed(
            names, name_memo, previous.name_memo if previous else {}, normalize_company_name
        )
        domain_codes, domain_keys = _keyed(
            domains, domain_memo, previous.domain_memo if previous else {}, normalize_domain
        )
        return cls(
            key=key,
            ids=ids,
            crm_ids=crm_ids,
            names=names,
            domains=domains,
            by_name=_Groups.of(name_codes, name_keys),
            by_domain=_Groups.of(domain_codes, domain_keys),
            domain_keys=domain_keys,
            domain_codes=domain_codes,
            name_keys=name_keys,
            name_memo=name_memo,
            domain_memo=domain_memo,
        )

    @property
    def by_stem(self) -> _Groups:
        """Rows by the name part of their domain; built on first need (an unknown domain typed)."""
        if self._stems is None:
            stem_codes, stems = pd.factorize(
                pd.Series([domain_stem(d) for d in self.domain_keys], dtype=object), use_na_sentinel=True
            )
            codes = self.domain_codes
            per_row = np.where(codes >= 0, stem_codes[codes] if len(stem_codes) else -1, -1)
            self._stems = _Groups.of(per_row.astype(np.int64), list(stems))
        return self._stems

    def containing(self, key: str) -> list[str]:
        """The name keys that contain ``key``, in ``name_keys`` order.

        One C-level scan of all names joined by NUL (a name key never holds one) instead of
        100,000 Python-level ``in`` tests: a third of the time, most of it without the GIL held
        by a Python loop.
        """
        if self._joined is None:
            lengths = np.fromiter(
                (len(k) + 1 for k in self.name_keys), dtype=np.int64, count=len(self.name_keys)
            )
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else lengths
            self._joined = ("\0".join(self.name_keys), starts)
        if not key or "\0" in key:
            return []
        joined, starts = self._joined
        found: list[int] = []
        at = joined.find(key)
        while at != -1:  # str.find is a fast substring search; a regex is twice as slow here
            found.append(at)
            at = joined.find(key, at + len(key))
        rows = np.unique(np.searchsorted(starts, np.asarray(found, dtype=np.int64), side="right") - 1)
        return [self.name_keys[row] for row in rows.tolist()]

    def ref(self, pos: int) -> AccountRef:
        return AccountRef(self.ids[pos], self.crm_ids[pos], self.names[pos], self.domains[pos])

    def candidates(self, positions: Sequence[int], method: MatchMethod, score: float) -> list[Candidate]:
        return [Candidate(self.ref(p), method, score) for p in positions]


def _from_positions(index: _Index, query: str, positions: Sequence[int], method: MatchMethod) -> LookupResult:
    found = index.candidates(positions, method, 100.0)
    if len(found) == 1:
        return LookupResult(query, "found", match=found[0], candidates=tuple(found), exact=True)
    found.sort(key=lambda c: (c.account.name.casefold(), c.account.id))
    return LookupResult(query, "ambiguous", candidates=tuple(found[:MAX_CANDIDATES]), exact=True)


def _fuzzy(index: _Index, key: str) -> list[Candidate]:
    """Best fuzzy name matches, best first; one entry per account.

    rapidfuzz's WRatio (which also finds a name inside a longer one) costs too much to run on
    100,000 names per request, so it only rescores a shortlist: the names closest as whole strings
    (a cheap pass over all of them) and the names that contain the typed one.
    """
    if not key or not index.name_keys:
        return []
    shortlist = dict.fromkeys(index.name_keys[i] for i in _closest(key, index.name_keys))
    if len(key) >= 3:
        containing = index.containing(key)
        containing.sort(key=len)
        shortlist.update(dict.fromkeys(containing[:CONTAINS_MAX]))
    hits = process.extract(
        key,
        list(shortlist),
        scorer=fuzz.WRatio,
        processor=None,
        limit=MAX_CANDIDATES,
        score_cutoff=FUZZY_CUTOFF,
    )
    out: list[Candidate] = []
    for name_key, score, _ in hits:
        out += index.candidates(index.by_name.get(name_key), "fuzzy", round(float(score), 1))
    return out


def _closest(key: str, names: Sequence[str]) -> list[int]:
    """Positions of the ``PREFILTER`` names closest to ``key`` as whole strings (QRatio ≥ 50),
    best first, earlier names first among equals (``process.extract``'s order).

    ``cdist`` scores them without holding the GIL, so acks are not kept waiting meanwhile.
    """
    scores = process.cdist(
        [key], names, scorer=fuzz.QRatio, processor=None, score_cutoff=50, dtype=np.float64
    )[0]
    kept = np.flatnonzero(scores >= 50)
    positions: list[int] = kept[np.argsort(-scores[kept], kind="stable")][:PREFILTER].tolist()
    return positions


def _decide_fuzzy(query: str, found: list[Candidate]) -> LookupResult:
    if not found:
        return LookupResult(query, "not_found")
    best = found[0]
    runner_up = found[1].score if len(found) > 1 else 0.0
    if best.score >= FUZZY_SURE and best.score - runner_up >= FUZZY_MARGIN:
        return LookupResult(query, "found", match=best, candidates=(best,))
    return LookupResult(query, "ambiguous", candidates=tuple(found[:MAX_CANDIDATES]))


def match_in_index(index: _Index, query: str) -> LookupResult:
    """The matching rules, on an already built index (no database)."""
    text = " ".join(query.split())
    key = normalize_company_name(text)
    domain = normalize_domain(text) if "." in text or "@" in text else None
    if domain is not None:
        positions = index.by_domain.get(domain)
        if positions:
            return _from_positions(index, text, positions, "domain")
    if not key:
        return LookupResult(text, "not_found")
    positions = index.by_name.get(key)
    if positions:
        return _from_positions(index, text, positions, "name")
    if domain is None:
        return _decide_fuzzy(text, _fuzzy(index, key))
    # An unknown domain: offer accounts on a sibling domain and names like its stem, but never
    # pick one silently (acme.io may well be another company than acme.com).
    stem = domain_stem(domain)
    found = index.candidates(index.by_stem.get(stem), "domain_stem", 100.0)
    fuzzy = sorted(_fuzzy(index, normalize_company_name(stem)) + _fuzzy(index, key), key=lambda c: -c.score)
    seen = {c.account.id for c in found}
    for candidate in fuzzy:
        if candidate.account.id not in seen:
            seen.add(candidate.account.id)
            found.append(candidate)
    if not found:
        return LookupResult(text, "not_found")
    return LookupResult(text, "ambiguous", candidates=tuple(found[:MAX_CANDIDATES]))


def _trusted(result: LookupResult) -> bool:
    """An exact single hit: safe to answer from a slightly older index."""
    return result.status == "found" and result.match is not None and result.match.method in {"domain", "name"}


class AccountLookup:
    """Per-engine cache of workspace indexes (thread-safe: Bolt runs listeners in a pool)."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_workspaces: int = MAX_CACHED_WORKSPACES,
        trust_seconds: float = TRUST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = read_only(engine)  # lookups only read: no SQLite write lock taken
        self._max = max_workspaces
        self._trust = trust_seconds
        self._clock = clock
        self._indexes: OrderedDict[int, _Index] = OrderedDict()
        self._lock = threading.Lock()
        self._build_locks: dict[int, threading.Lock] = {}

    def _state(self, workspace_id: int) -> tuple[int, datetime | None]:
        with self._engine.connect() as conn:  # a bare connection: no ORM needed, on every lookup
            return account_table_state(conn, workspace_id=workspace_id)

    def _load(self, workspace_id: int, key: tuple[int, datetime | None], previous: _Index | None) -> _Index:
        with self._engine.connect() as conn:
            rows = list_account_refs(conn, workspace_id=workspace_id)
        return _Index.build(key, rows, previous)

    def _cached(self, workspace_id: int) -> _Index | None:
        with self._lock:
            cached = self._indexes.get(workspace_id)
            if cached is not None:
                self._indexes.move_to_end(workspace_id)
            return cached

    def index(self, workspace_id: int) -> _Index:
        """The workspace's index, confirmed current now (rebuilt if the account table changed)."""
        key = self._state(workspace_id)
        with self._lock:
            build_lock = self._build_locks.setdefault(workspace_id, threading.Lock())
        with build_lock:  # one build per workspace at a time; the others wait and reuse it
            cached = self._cached(workspace_id)
            if cached is None or cached.key != key:
                cached = self._load(workspace_id, key, cached)
            cached.checked_at = self._clock()
            with self._lock:
                self._indexes[workspace_id] = cached
                self._indexes.move_to_end(workspace_id)
                while len(self._indexes) > self._max:
                    evicted, _ = self._indexes.popitem(last=False)
                    self._build_locks.pop(evicted, None)
            return cached

    def find(self, workspace_id: int, query: str, *, fresh: bool = False) -> LookupResult:
        """Match ``query``; ``fresh`` confirms the index is current even for an exact hit."""
        text = " ".join(query.split())
        cached = None if fresh else self._cached(workspace_id)
        if cached is not None and self._clock() - cached.checked_at <= self._trust and text:
            result = match_in_index(cached, text)
            if _trusted(result):
                return replace(result, searched=len(cached.ids))
        index = self.index(workspace_id)
        if not text:
            return LookupResult(text, "not_found", searched=len(index.ids))
        return replace(match_in_index(index, text), searched=len(index.ids))


_LOOKUPS: WeakKeyDictionary[Engine, AccountLookup] = WeakKeyDictionary()
_LOOKUPS_LOCK = threading.Lock()


def lookup_for(engine: Engine) -> AccountLookup:
    """The shared lookup (and its cache) of this engine; dropped when the engine is."""
    with _LOOKUPS_LOCK:
        found = _LOOKUPS.get(engine)
        if found is None:
            found = _LOOKUPS[engine] = AccountLookup(engine)
        return found


def warm_up(engine: Engine) -> int:
    """Build the indexes of the workspaces with the most recently changed accounts now (a new
    process, before traffic: the first lookup would otherwise pay for the build); how many."""
    lookup = lookup_for(engine)
    with lookup._engine.connect() as conn:
        workspaces = recently_changed_workspaces(conn, limit=MAX_CACHED_WORKSPACES)
    for workspace_id in reversed(workspaces):  # the most recent last: kept longest
        lookup.index(workspace_id)
    return len(workspaces)


def find_accounts(engine: Engine, *, workspace_id: int, query: str, fresh: bool = False) -> LookupResult:
    """Look ``query`` (a company name or domain) up among the workspace's stored accounts."""
    return lookup_for(engine).find(workspace_id, query, fresh=fresh)
