"""Matching deal and health rows to their accounts, by account id or by normalised company name."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from icp_engine.readers.results import AccountRow, DealRow, HealthRow, JoinResult, ReadResult, RowError
from icp_engine.readers.values import _count, _lines


def _accountless_texts(open_count: int, closed_lines: Sequence[int]) -> list[str]:
    """Open deals without an account are normal (early pipeline); closed ones are listed."""
    findings = []
    if open_count:
        findings.append(f"{_count(open_count, 'open deal', ('has', 'have'))} no account")
    if closed_lines:
        findings.append(
            f"{_count(len(closed_lines), 'closed deal', ('has', 'have'))} no account "
            f"(lines {_lines(closed_lines)})"
        )
    return findings


def _accountless_findings(deals: Sequence[DealRow]) -> list[str]:
    lone = [d for d in deals if not d.account_id and not d.account_name]
    return _accountless_texts(
        sum(d.stage == "open" for d in lone), [d.line for d in lone if d.stage != "open"]
    )


_LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company",
        "sa", "sas", "sarl", "sl", "ag", "bv", "nv", "plc", "pty", "pte", "pvt", "lp", "llp", "srl",
        "spa", "oy", "ab", "kk", "kg", "se", "ug", "and",
    }
)  # fmt: skip
_DROPPED_CHARS = re.compile(r"[.'’`´]")


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose or drop: the common case, kept cheap
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def normalize_company_name(name: str) -> str:
    """Key for matching company names: 'Acme, Inc.' and 'ACME inc' both give 'acme'.

    Casefolds, drops accents, dots and apostrophes, turns other punctuation into spaces, reads '&'
    as 'and', then drops trailing legal suffixes (Inc, LLC, Ltd, GmbH, Corp, Co, SA, ...) and a
    leading 'the' while more than one word is left, so a name is never reduced to nothing.
    """
    text = _fold(name)
    while (again := _fold(text)) != text:
        text = again
    text = _DROPPED_CHARS.sub("", text.replace("&", " and "))
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


class _AccountIndex:
    """Accounts by exact id and by normalised name (the name index is built on first use)."""

    def __init__(self, accounts: Sequence[AccountRow]) -> None:
        self.accounts = accounts
        self.by_id = {a.account_id: a for a in accounts if a.account_id}
        self._by_name: dict[str, list[AccountRow]] | None = None

    @property
    def by_name(self) -> dict[str, list[AccountRow]]:
        if self._by_name is None:
            self._by_name = {}
            for account in self.accounts:
                if account.name:
                    self._by_name.setdefault(normalize_company_name(account.name), []).append(account)
        return self._by_name

    def find(
        self, account_id: str | None, account_name: str | None
    ) -> tuple[AccountRow | None, str | None, str | None, str]:
        """(account, field that failed, reason, how it matched: 'id' or 'name')."""
        if account_id:
            if ";" not in account_id:  # one id: the common case, one lookup
                account = self.by_id.get(account_id.strip())
                if account is not None:
                    return account, None, None, "id"
            else:
                for part in (p.strip() for p in account_id.split(";")):
                    if part in self.by_id:
                        return self.by_id[part], None, None, "id"
            if not account_name:
                reason = (
                    f"unknown account id '{account_id}'"
                    if self.by_id
                    else f"account id '{account_id}' cannot be matched: the accounts file has no account ids"
                )
                return None, "account_id", reason, "id"
        if not account_name:
            return None, None, None, "none"
        by_name = self.by_name
        matches = by_name.get(normalize_company_name(account_name), [])
        if len(matches) == 1:
            return matches[0], None, None, "name"
        if matches:
            lines = ", ".join(str(a.line) for a in matches)
            return (
                None,
                "account_name",
                f"ambiguous account '{account_name}': matches accounts on lines {lines}",
                "name",
            )
        reason = f"unknown account '{account_name}'"
        from rapidfuzz import fuzz, process  # here: files whose deals all match never load it

        # fuzz.ratio scores like difflib's ratio (2 * common characters / total length) with the
        # cutoff difflib.get_close_matches had, in C: about 1 ms per miss at 20,000 accounts, not 50+.
        close = process.extractOne(
            normalize_company_name(account_name), by_name.keys(), scorer=fuzz.ratio, score_cutoff=85
        )
        if close is not None:
            reason += f" (did you mean '{by_name[close[0]][0].name}'?)"
        return None, "account_name", reason, "name"


class _NamesAccount(Protocol):
    """What a row needs to be joined to an account."""

    @property
    def line(self) -> int: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def account_name(self) -> str | None: ...


JoinT = TypeVar("JoinT", bound=_NamesAccount)


class AccountMatcher:
    """Joins rows to accounts one at a time (join_deals and join_health do it for a whole list).

    By account id when both sides have one (a ';'-separated list matches on any id), else by
    normalised company name. ``columns`` (field -> file column) name the column in errors.
    """

    def __init__(self, accounts: Sequence[AccountRow], *, file: str, columns: Mapping[str, str]) -> None:
        self.file, self.columns = file, columns
        self._index = _AccountIndex(accounts)
        self._by_id = self._index.by_id
        self.how: Counter[str] = Counter()

    def match(self, row: _NamesAccount) -> tuple[AccountRow | None, RowError | None]:
        """The row's account (None for none or an unknown one) and the error when it names one wrongly."""
        account_id = row.account_id
        if account_id and ";" not in account_id:  # one id known to the accounts: the common case
            account = self._by_id.get(account_id.strip())
            if account is not None:
                self.how["id"] += 1
                return account, None
        account, failed, reason, method = self._index.find(account_id, row.account_name)
        if reason and failed:
            return account, RowError(self.file, row.line, self.columns.get(failed, failed), reason)
        if account:
            self.how[method] += 1
        return account, None

    def joined_finding(self, noun: str) -> str:
        """'8,800 deals joined to an account (8,000 by account id, 800 by name)'."""
        how = self.how
        return (
            f"{_count(sum(how.values()), noun)} joined to an account "
            f"({how['id']:,} by account id, {how['name']:,} by name)"
        )


def _join(
    accounts: ReadResult[AccountRow] | Sequence[AccountRow],
    rows: ReadResult[JoinT] | Sequence[JoinT],
    file: str,
) -> tuple[list[tuple[JoinT, AccountRow | None]], list[RowError], AccountMatcher]:
    account_rows = accounts.rows if isinstance(accounts, ReadResult) else accounts
    items = rows.rows if isinstance(rows, ReadResult) else rows
    columns = rows.columns if isinstance(rows, ReadResult) else {}
    file = rows.file if isinstance(rows, ReadResult) else file
    matcher = AccountMatcher(account_rows, file=file, columns=columns)
    pairs: list[tuple[JoinT, AccountRow | None]] = []
    errors: list[RowError] = []
    for item in items:
        account, error = matcher.match(item)
        if error is not None:
            errors.append(error)
        pairs.append((item, account))
    return pairs, errors, matcher


def join_deals(
    accounts: ReadResult[AccountRow] | Sequence[AccountRow],
    deals: ReadResult[DealRow] | Sequence[DealRow],
    *,
    file: str = "deals",
) -> JoinResult[DealRow]:
    """Attach each deal to its account: by account id when both sides have one, else by name.

    A deal naming an account that does not exist is a RowError; deals naming no account are
    findings (``file`` names the deals file when plain rows are given instead of a ReadResult).
    """
    pairs, errors, matcher = _join(accounts, deals, file)
    findings = [matcher.joined_finding("deal"), *_accountless_findings([deal for deal, _ in pairs])]
    return JoinResult(pairs, errors, findings)


def join_health(
    accounts: ReadResult[AccountRow] | Sequence[AccountRow],
    health: ReadResult[HealthRow] | Sequence[HealthRow],
    *,
    file: str = "health",
) -> JoinResult[HealthRow]:
    """Attach each health row to its account, like :func:`join_deals`; unknown accounts are errors."""
    pairs, errors, matcher = _join(accounts, health, file)
    findings = [matcher.joined_finding("health row")]
    return JoinResult(pairs, errors, findings)
