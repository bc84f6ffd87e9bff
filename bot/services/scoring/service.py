"""Score a stored account, or attributes typed inline, against the workspace's ICP.

The ICP used is the approved version when there is one, else the latest draft (so a team can try
its draft before approving it); the card always says which version and status it was. Stored
accounts and typed attributes both go through the engine's own normalisation, so "saas", "5k"
and "USA" mean what they mean in an import, and the score is the one `icp score` would print.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from bot.services.icp.export.document import plays_of
from bot.services.icp.export.plays import tier_play
from bot.services.scoring.account_lookup import LookupResult, find_accounts
from bot.store.db import Engine, Session, read_scope
from bot.store.models import DEFAULT_SEGMENT, Account, IcpStatus, IcpVersion
from bot.store.repo.crm import find_account_by_id
from bot.store.repo.errors import NotFoundError
from bot.store.repo.icp import (
    find_scoring_icp,
    get_active_icp,
    get_icp_version,
    get_latest_icp,
    list_icp_versions,
    list_personas,
)
from bot.store.repo.workspaces import get_workspace
from icp_engine.model import ICP, NO_TIER, ICPError, format_value
from icp_engine.normalize import CANONICAL_ATTRIBUTES, DERIVED_ATTRIBUTES, normalize_account
from icp_engine.readers.aliases import ACCOUNT_FIELDS
from icp_engine.scoring import ScoreResult, score

MAX_NOTES = 5
_RESERVED = frozenset({*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES, "name", "domain", "crm_id"})
INLINE_EXAMPLE = "industry=software employees=500 country=US"


class ScoringError(ValueError):
    """Something the person asking can understand and fix; the message is one line."""


class NoIcpError(ScoringError):
    """The workspace has no ICP version to score against yet."""


class AccountGoneError(ScoringError):
    """The account was erased or re-imported away since it was looked up or offered."""


@dataclass(frozen=True)
class IcpInUse:
    """The ICP version a score was computed with."""

    version_id: int
    version: int
    status: IcpStatus
    segment: str
    icp: ICP
    approver: str | None = None
    approved_at: datetime | None = None
    plays: tuple[tuple[str, str], ...] = ()  # per-tier plays the version's draft stored, if any

    @property
    def name(self) -> str:
        return self.icp.name

    def play(self, tier: str) -> str:
        """What sales does with a company of ``tier`` (the ICP document's play for it)."""
        return tier_play(self.icp, tier, self.plays)


@dataclass(frozen=True)
class Subject:
    """What was scored: a stored account, or attributes typed inline (kept as typed)."""

    kind: Literal["account", "inline"]
    title: str
    account_id: int | None = None
    crm_id: str | None = None
    domain: str | None = None
    inline: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # how typed values were read ("Read industry 'saas' as software")


@dataclass(frozen=True)
class PersonaBrief:
    """A persona of the ICP version used, as the card names it."""

    name: str
    role: str | None = None
    buying_role: str | None = None
    hook: str | None = None


@dataclass(frozen=True)
class SegmentScore:
    """The same company scored against another approved segment's ICP."""

    icp: IcpInUse
    result: ScoreResult


@dataclass(frozen=True)
class ScoreOutcome:
    subject: Subject
    icp: IcpInUse
    result: ScoreResult
    others: tuple[SegmentScore, ...] = ()  # the other approved segments, the best fit first
    personas: tuple[PersonaBrief, ...] = ()  # of the ICP version used, in their drafted order


# --- the ICP -----------------------------------------------------------------------------------


_ICP_CACHE_SIZE = 64
_icp_cache: OrderedDict[tuple[int, datetime], ICP] = OrderedDict()
_icp_cache_lock = threading.Lock()


def _parse_icp(row: IcpVersion) -> ICP:
    """Parsed once per version and change: keyed by the version's id and ``updated_at``.

    Approved and superseded versions never change; a draft's every edit moves ``updated_at``
    (bot/store/repo/icp.py), so an edit or an approval (a different row) is used at once, and
    the same ICP object also keeps the engine's compile cache warm between scores.
    """
    assert row.id is not None
    key = (row.id, row.updated_at)
    with _icp_cache_lock:
        hit = _icp_cache.get(key)
        if hit is not None:
            _icp_cache.move_to_end(key)
            return hit
    icp = ICP.from_dict(row.icp_json, source=f"ICP v{row.version}").model_copy(
        update={"version": row.version}
    )
    with _icp_cache_lock:
        _icp_cache[key] = icp
        while len(_icp_cache) > _ICP_CACHE_SIZE:
            _icp_cache.popitem(last=False)
    return icp


def icp_in_use(row: IcpVersion) -> IcpInUse:
    """The engine's ICP for a stored version; a document that no longer validates is a ScoringError."""
    assert row.id is not None
    try:
        icp = _parse_icp(row)
    except ICPError as exc:
        first = str(exc).splitlines()[0]
        raise ScoringError(f"The stored ICP v{row.version} cannot be used for scoring: {first}") from None
    plays = plays_of(row.draft_json or {})
    return IcpInUse(row.id, row.version, row.status, row.segment, icp, row.approver, row.approved_at, plays)


def active_icp(*, session: Session, workspace_id: int) -> IcpInUse | None:
    """The approved version if any, else the newest version (usually the draft being worked on)."""
    row = get_active_icp(session=session, workspace_id=workspace_id) or get_latest_icp(
        session=session, workspace_id=workspace_id
    )
    return None if row is None else icp_in_use(row)


def _icp_for(session: Session, workspace_id: int, icp_version_id: int | None) -> IcpInUse:
    if icp_version_id is not None:
        try:
            row = get_icp_version(session=session, workspace_id=workspace_id, version_id=icp_version_id)
        except NotFoundError:
            row = None  # erased since the card was made: use what is current now
        if row is not None:
            return icp_in_use(row)
    found = active_icp(session=session, workspace_id=workspace_id)
    if found is None:
        raise NoIcpError("There is no ICP for this workspace yet.")
    return found


def _segment_icps(
    session: Session, workspace_id: int, segment: str | None, scoring: IcpVersion | None = None
) -> list[IcpInUse]:
    """The ICPs to score against: the named segment's, every approved segment's when there are
    several, else the workspace's one ICP (approved, or the newest draft; ``scoring`` when the
    caller has read it already)."""
    if segment is not None:
        key = segment.strip().casefold()
        rows = list_icp_versions(session=session, workspace_id=workspace_id)
        names = sorted({r.segment for r in rows})
        match = next((n for n in names if n.casefold() == key), None)
        if match is None:
            known = ", ".join(names) if names else "none yet"
            raise ScoringError(f"There is no ICP for segment '{segment}'. Segments: {known}.")
        row = get_active_icp(session=session, workspace_id=workspace_id, segment=match) or get_latest_icp(
            session=session, workspace_id=workspace_id, segment=match
        )
        assert row is not None
        return [icp_in_use(row)]
    approved = list_icp_versions(session=session, workspace_id=workspace_id, status=IcpStatus.approved)
    if len(approved) > 1:
        return [icp_in_use(row) for row in sorted(approved, key=lambda r: r.segment)]
    if scoring is not None:
        return [icp_in_use(scoring)]
    found = active_icp(session=session, workspace_id=workspace_id)
    if found is None:
        raise NoIcpError("There is no ICP for this workspace yet.")
    return [found]


def _fit_key(icp: IcpInUse, result: ScoreResult) -> tuple[bool, float, float, bool, str]:
    """Best fit first: a tier over "not enough data", then the higher score, then confidence."""
    return (
        result.tier != NO_TIER,
        result.score,
        result.confidence,
        icp.segment == DEFAULT_SEGMENT,
        icp.segment,
    )


def _personas(session: Session, workspace_id: int, icp: IcpInUse) -> tuple[PersonaBrief, ...]:
    rows = list_personas(session=session, workspace_id=workspace_id, icp_version_id=icp.version_id)
    return tuple(_brief(row.name, row.persona_json or {}) for row in rows)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _brief(name: str, data: Mapping[str, Any]) -> PersonaBrief:
    hooks = data.get("message_hooks") or data.get("hooks") or []
    hook = _text(hooks[0]) if isinstance(hooks, list) and hooks else None
    return PersonaBrief(
        name=name, role=_text(data.get("role")), buying_role=_text(data.get("buying_role")), hook=hook
    )


def _best_outcome(
    session: Session, workspace_id: int, subject: Subject, values: Mapping[str, Any], icps: Sequence[IcpInUse]
) -> ScoreOutcome:
    """Score against every ICP given; the best fit is the card, the others follow it."""
    scored = sorted(((icp, score(values, icp.icp)) for icp in icps), key=lambda p: _fit_key(*p), reverse=True)
    (icp, result), rest = scored[0], scored[1:]
    others = tuple(SegmentScore(i, r) for i, r in rest)
    return ScoreOutcome(subject, icp, result, others, _personas(session, workspace_id, icp))


def _workspace_id(session: Session, team_id: str) -> int:
    workspace = get_workspace(session=session, slack_team_id=team_id)
    if workspace is None or workspace.id is None:
        raise NoIcpError("There is no ICP for this workspace yet.")
    return workspace.id


# --- attributes --------------------------------------------------------------------------------


def _field_key(name: str) -> str:
    return "_".join(name.strip().casefold().replace("-", " ").replace("_", " ").split())


def _custom_value(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if isinstance(value, dict) else value


def raw_account_attributes(account: Account) -> dict[str, Any]:
    """The attributes of a stored account as an import would hand them to the normaliser.

    The typed columns hold the imported, validated canonical values; a custom attribute whose
    name means a canonical one (or the name, domain or id) is left out so it cannot contradict them.
    """
    raw: dict[str, Any] = {
        "industry": account.industry,
        "employees": account.employees,
        "annual_revenue": account.annual_revenue,
        "country": account.country,
        "region": account.region,
        "tech_stack": list(account.tech_stack or []) or None,
    }
    for name, value in (account.custom_attributes or {}).items():
        if _field_key(str(name)) not in _RESERVED:
            raw[str(name)] = _custom_value(value)
    return raw


def account_attributes(account: Account, overrides: Mapping[str, str] | None = None) -> dict[str, object]:
    """Normalised attribute values of a stored account, ready for the engine; ``overrides`` are
    typed values (already under the engine's names) that replace or fill in stored ones."""
    raw = raw_account_attributes(account)
    if overrides:
        raw.update(overrides)
    try:
        values, _ = normalize_account(raw)
    except ValueError as exc:
        raise ScoringError(
            f"Account {account.name!r} (CRM id {account.crm_id}) has a bad value: {exc}"
        ) from None
    return values


def parse_pairs(words: Sequence[str]) -> dict[str, str]:
    """``key=value`` words to a dict; anything else is a ScoringError naming the word."""
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key.strip():
            raise ScoringError(f"`{word}` is not attribute=value (e.g. `{INLINE_EXAMPLE}`).")
        pairs[key.strip()] = value.strip()
    if not pairs:
        raise ScoringError(f"Give attribute=value pairs, e.g. `{INLINE_EXAMPLE}`.")
    return pairs


def _notes(mappings: Sequence[Any]) -> tuple[str, ...]:
    notes: list[str] = []
    for m in mappings:
        if m.method == "unknown":
            notes.append(f"Did not recognise {m.field} '{m.raw}': treated as unknown")
        elif m.method == "kept":
            notes.append(f"Did not recognise {m.field} '{m.raw}': kept as written")
        elif m.method in {"synonym", "fuzzy", "parsed"}:
            notes.append(f"Read {m.field} '{m.raw}' as {format_value(m.value)}")
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"…and {len(notes) - MAX_NOTES} more"]
    return tuple(notes)


# Short names people type inline that no export header uses.
_INLINE_ALIASES = {"tech": "tech_stack", "stack": "tech_stack", "revenue": "annual_revenue"}
# A derived attribute is used through the one it comes from: employees=800 sets employee_band.
_DERIVED_FROM = {
    "employee_band": "employees",
    "revenue_band": "annual_revenue",
    "country_region": "country",
    "region": "country",
}


def _key_table(icp: ICP | None) -> dict[str, str]:
    """Typed key (folded) -> attribute name: export header aliases of the canonical fields, short
    inline names, and (first) the ICP's own attribute names ("lead_source" for "Lead Source")."""
    table: dict[str, str] = {}
    for canonical, aliases in ACCOUNT_FIELDS.items():
        if canonical in CANONICAL_ATTRIBUTES:
            for alias in aliases:
                table[_field_key(alias)] = canonical
    table.update(_INLINE_ALIASES)
    for name in (*CANONICAL_ATTRIBUTES, *DERIVED_ATTRIBUTES, *(sorted(_mentioned(icp)) if icp else [])):
        table[_field_key(name)] = name
    return table


def resolve_keys(pairs: Mapping[str, str], icp: ICP | None = None) -> dict[str, str]:
    """Typed keys under the attribute names the engine and the ICP use (``tech`` -> tech_stack,
    ``lead_source`` -> the ICP's ``Lead Source``); a key nothing knows stays as typed."""
    table = _key_table(icp)
    return {table.get(_field_key(key), key): value for key, value in pairs.items()}


def inline_attributes(
    pairs: Mapping[str, str], icp: ICP | None = None
) -> tuple[dict[str, object], tuple[str, ...]]:
    """Normalised values of typed attributes, and notes on how they were read."""
    try:
        values, mappings = normalize_account(resolve_keys(pairs, icp))
    except ValueError as exc:
        raise ScoringError(f"Cannot read {exc}.") from None
    return values, _notes(mappings)


# --- use cases ---------------------------------------------------------------------------------


def _stored_account(
    session: Session,
    workspace_id: int,
    account_id: int,
    overrides: Mapping[str, str] | None = None,
    icp: ICP | None = None,
) -> tuple[Subject, dict[str, object]]:
    """What the card says about a stored account, and its normalised attributes."""
    account = find_account_by_id(session, workspace_id=workspace_id, account_id=account_id)
    if account is None:
        raise AccountGoneError("That account is no longer in the store; try `/icp score` again.")
    subject = Subject(
        kind="account",
        title=account.name or account.crm_id,
        account_id=account.id,
        crm_id=account.crm_id,
        domain=account.domain,
    )
    if not overrides:
        return subject, account_attributes(account)
    resolved = resolve_keys(overrides, icp)
    _, notes = inline_attributes(overrides, icp)
    subject = replace(subject, inline=dict(overrides), notes=notes)
    return subject, account_attributes(account, resolved)


def score_account(
    engine: Engine,
    *,
    team_id: str,
    account_id: int,
    icp_version_id: int | None = None,
    overrides: Mapping[str, str] | None = None,
    segment: str | None = None,
) -> ScoreOutcome:
    """Score one stored account (by primary key, within the team's workspace); ``overrides`` are
    typed attribute values that fill in or replace the stored ones."""
    with read_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if icp_version_id is not None:
            icps = [_icp_for(session, workspace_id, icp_version_id)]
        else:
            icps = _segment_icps(session, workspace_id, segment)
        subject, values = _stored_account(session, workspace_id, account_id, overrides, icps[0].icp)
        return _best_outcome(session, workspace_id, subject, values, icps)


def score_inline(
    engine: Engine,
    *,
    team_id: str,
    pairs: Mapping[str, str],
    icp_version_id: int | None = None,
    segment: str | None = None,
) -> ScoreOutcome:
    """Score attributes typed inline (``industry=software employees=500``)."""
    with read_scope(engine) as session:
        workspace_id = _workspace_id(session, team_id)
        if icp_version_id is not None:
            icps = [_icp_for(session, workspace_id, icp_version_id)]
        else:
            icps = _segment_icps(session, workspace_id, segment)
        values, notes = inline_attributes(pairs, icps[0].icp)
        unused = [
            a
            for a in unused_attributes(values, icps[0].icp)
            if all(a in unused_attributes(values, i.icp) for i in icps)
        ]
        if unused:  # most often a misspelt attribute name ("industy=software")
            notes = (*notes, f"Not used by this ICP: {', '.join(unused)}")
        subject = Subject(kind="inline", title="Attributes given", inline=dict(pairs), notes=notes)
        return _best_outcome(session, workspace_id, subject, values, icps)


def _mentioned(icp: ICP) -> set[str]:
    return {a for ch in icp.characteristics for a in ch.attributes} | {d.attribute for d in icp.disqualifiers}


def unused_attributes(values: Mapping[str, object], icp: ICP) -> list[str]:
    """Typed attributes that no characteristic or disqualifier of the ICP looks at, directly or
    through an attribute derived from them (derived ones themselves aside)."""
    mentioned = _mentioned(icp)
    used = mentioned | {_DERIVED_FROM[a] for a in mentioned if a in _DERIVED_FROM}
    derived = {"region", *DERIVED_ATTRIBUTES}
    return [name for name in values if name not in used and name not in derived]


def score_query(
    engine: Engine,
    *,
    team_id: str,
    query: str,
    overrides: Mapping[str, str] | None = None,
    segment: str | None = None,
) -> ScoreOutcome | LookupResult:
    """Look a company up by name or domain and score it; a LookupResult when it is not one match.

    The ICP is checked first: without one there is nothing to score, whatever the lookup finds.
    With several approved segments the company is scored against each (``segment`` picks one).
    """
    with read_scope(engine) as session:
        row = find_scoring_icp(session, slack_team_id=team_id)
        if row is None and segment is None:
            raise NoIcpError("There is no ICP for this workspace yet.")
        workspace_id = row.workspace_id if row is not None else _workspace_id(session, team_id)
        icps = _segment_icps(session, workspace_id, segment, row)
    for fresh in (False, True):
        found = find_accounts(engine, workspace_id=workspace_id, query=query, fresh=fresh)
        if found.status != "found" or found.match is None:
            return found
        try:  # the workspace and ICP read above are reused: one query for the account
            with read_scope(engine) as session:
                subject, values = _stored_account(
                    session, workspace_id, found.match.account.id, overrides, icps[0].icp
                )
                return _best_outcome(session, workspace_id, subject, values, icps)
        except AccountGoneError:
            if fresh:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
