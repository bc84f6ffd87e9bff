"""A seeded, fictitious B2B SaaS company with planted patterns, so the demo shows real findings.

`generate` writes CRM exports the way HubSpot does (companies, deals, customer health) for a
vendor whose win odds follow a log-odds model: main effects a points table can express, plus two
planted interactions only a pair of attributes can (fintech wins only from 200 employees up;
referrals matter only in North America), so a learner that tests pairs has something to find.
`interactions=False` gives the purely additive variant (same accounts, same draws) as a control.
A value pattern makes the best customers by deal size differ from the most frequent winners:
manufacturing wins less often but buys much bigger deals. At 2,000 accounts each pattern is
strong enough to be found significant. With
`messy=True` some values are written as people and exports really write them ("SaaS",
"Technolgy", "5k", "$2.5M", "USA", "Salesforce; HubSpot", blanks) so the import has work to do.
The same seed gives the same frames and the same CSV bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from icp_engine.safe_csv import write_frame

__all__ = ["SampleCompany", "generate", "write_csv"]

ACCOUNT_COLUMNS = [
    "Record ID",
    "Company name",
    "Company Domain Name",
    "Industry",
    "Number of Employees",
    "Annual Revenue",
    "Country/Region",
    "Technologies",
    "Lead Source",
]
DEAL_COLUMNS = [
    "Record ID",
    "Deal Name",
    "Associated Company",
    "Associated Company ID",
    "Deal Stage",
    "Pipeline",
    "Amount",
    "Create Date",
    "Close Date",
]
HEALTH_COLUMNS = [
    "Record ID",
    "Company name",
    "ARR",
    "Customer Since",
    "Tenure (months)",
    "Churned",
    "NPS",
    "Health Score",
]

# Canonical value, share of accounts, effect on the log-odds of winning.
INDUSTRIES: list[tuple[str, float, float]] = [
    ("software", 0.17, 0.75),
    ("fintech", 0.10, 0.75),  # additive variant only; see FINTECH_* for the interaction
    ("healthcare", 0.11, 0.0),
    ("manufacturing", 0.13, -0.4),  # wins less often, buys bigger deals (VALUE_*)
    ("retail", 0.12, -0.8),
    ("education", 0.09, -0.8),
    ("professional services", 0.11, 0.0),
    ("logistics", 0.09, 0.0),
    ("media", 0.08, 0.0),
]
COUNTRIES: list[tuple[str, float, float]] = [
    ("US", 0.33, 0.5),
    ("CA", 0.10, 0.5),
    ("GB", 0.11, 0.0),
    ("DE", 0.10, 0.0),
    ("FR", 0.07, 0.0),
    ("NL", 0.05, 0.0),
    ("AU", 0.07, 0.0),
    ("IN", 0.07, 0.0),
    ("BR", 0.05, 0.0),
    ("SG", 0.05, 0.0),
]
# Canonical tool, probability an account uses it, effect.
TECH: list[tuple[str, float, float]] = [
    ("salesforce", 0.35, 0.5),
    ("hubspot", 0.30, 0.0),
    ("slack", 0.55, 0.0),
    ("jira", 0.40, 0.0),
    ("zendesk", 0.25, 0.0),
    ("intercom", 0.18, 0.0),
    ("snowflake", 0.15, 0.0),
    ("marketo", 0.12, 0.0),
]
LEAD_SOURCES: list[tuple[str, float, float]] = [
    ("Inbound", 0.35, 0.0),
    ("Outbound", 0.30, 0.0),
    ("Referral", 0.12, 0.8),  # additive variant only; see REFERRAL_* for the interaction
    ("Event", 0.13, 0.0),
    ("Partner", 0.10, 0.0),
]
SMALL_EMPLOYEES, SMALL_EFFECT = 20, -3.5  # fewer than 20 employees: almost never wins
SWEET_SPOT, SWEET_EFFECT = (200, 2000), 0.6  # 200–1,999 employees
# Planted interactions (interactions=True): an effect that depends on a second attribute.
FINTECH_MIN_EMPLOYEES = 200
FINTECH_EFFECTS = (-0.3, 1.3)  # fintech below / from FINTECH_MIN_EMPLOYEES employees
REFERRAL_REGION = ("US", "CA")  # North America
REFERRAL_EFFECTS = (0.0, 1.4)  # referral outside / inside North America
# Value pattern: this industry's deals are VALUE_DEAL_FACTOR times larger (its win effect is above).
VALUE_INDUSTRY, VALUE_DEAL_FACTOR = "manufacturing", 3.0
INTERCEPT = -1.75
OPEN_SHARE = 0.15
START, END = date(2023, 1, 1), date(2024, 12, 31)
EXPORT_DATE = date(2025, 1, 15)

_INDUSTRY_SPELLINGS: dict[str, list[str]] = {
    "software": ["Software", "SaaS", "Computer Software", "software", "Sofware"],
    "fintech": ["FinTech", "Fintech", "Financial Technology", "fintech"],
    "healthcare": ["Healthcare", "Health Care", "Hospital & Health Care", "healthcare"],
    "manufacturing": ["Manufacturing", "manufacturing", "Manufacturng"],
    "retail": ["Retail", "RETAIL", "Retial"],
    "education": ["Education", "Education Management", "Educaton"],
    "professional services": ["Professional Services", "professional services", "Professional services"],
    "logistics": ["Logistics", "Logistics and Supply Chain", "logistics"],
    "media": ["Media", "media", "Media Production"],
}
_INDUSTRY_CLEAN: dict[str, str] = {k: v[0] for k, v in _INDUSTRY_SPELLINGS.items()}
_COUNTRY_SPELLINGS: dict[str, list[str]] = {
    "US": ["United States", "USA", "US", "U.S.", "United States of America"],
    "CA": ["Canada", "CA", "canada"],
    "GB": ["United Kingdom", "UK", "GB"],
    "DE": ["Germany", "DE", "Deutschland"],
    "FR": ["France", "FR"],
    "NL": ["Netherlands", "NL", "The Netherlands"],
    "AU": ["Australia", "AU"],
    "IN": ["India", "IN"],
    "BR": ["Brazil", "BR", "Brasil"],
    "SG": ["Singapore", "SG"],
}
_TECH_NAMES: dict[str, str] = {
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "slack": "Slack",
    "jira": "Jira",
    "zendesk": "Zendesk",
    "intercom": "Intercom",
    "snowflake": "Snowflake",
    "marketo": "Marketo",
}
_TLD: dict[str, str] = {
    "US": "com",
    "CA": "ca",
    "GB": "co.uk",
    "DE": "de",
    "FR": "fr",
    "NL": "nl",
    "AU": "com.au",
    "IN": "in",
    "BR": "com.br",
    "SG": "sg",
}
_SUFFIX: dict[str, list[str]] = {
    "DE": ["GmbH", "AG"],
    "GB": ["Ltd", "plc"],
    "FR": ["SA", "SAS"],
    "NL": ["BV"],
    "AU": ["Pty Ltd"],
}
_NAME_HEADS = [
    "Acme", "Blue", "Bright", "Cedar", "Clear", "Cobalt", "Crest", "Delta", "Ever", "Falcon", "Green",
    "Harbor", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "North", "Nova", "Oak",
    "Orbit", "Pine", "Quantum", "Red", "River", "Silver", "Stone", "Summit", "Terra", "Vertex", "Zephyr",
]  # fmt: skip
_NAME_TAILS = [
    "works", "labs", "logic", "point", "field", "gate", "line", "wave", "path", "bridge", "forge",
    "scale", "stack", "ware", "sight", "mark", "core", "shift", "spring", "leaf",
]  # fmt: skip
_NAME_KINDS = ["", " Systems", " Group", " Solutions", " Partners", " Analytics", " Technologies", " & Co"]
_OPEN_STAGES = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
]


@dataclass
class SampleCompany:
    """The three exports of the fictitious company, and what was planted in them."""

    accounts: pd.DataFrame
    deals: pd.DataFrame
    health: pd.DataFrame
    truth: list[str]


def _pick(rng: np.random.Generator, table: Sequence[tuple[str, float, float]], n: int) -> np.ndarray:
    names = np.array([t[0] for t in table], dtype=object)
    p = np.array([t[1] for t in table], dtype=np.float64)
    return names[rng.choice(len(table), size=n, p=p / p.sum())]


def _effect(values: np.ndarray, table: Sequence[tuple[str, float, float]]) -> np.ndarray:
    lookup = {t[0]: t[2] for t in table}
    return np.array([lookup[v] for v in values], dtype=np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def _names(rng: np.random.Generator, countries: np.ndarray) -> list[str]:
    """Unique, plausible company names; a clash gets a roman-style numeral, never a random retry."""
    heads = rng.integers(0, len(_NAME_HEADS), len(countries))
    tails = rng.integers(0, len(_NAME_TAILS), len(countries))
    kinds = rng.integers(0, len(_NAME_KINDS), len(countries))
    suffix_pick = rng.integers(0, 2, len(countries))
    seen: dict[str, int] = {}
    out = []
    for h, t, k, s, c in zip(heads, tails, kinds, suffix_pick, countries, strict=True):
        base = f"{_NAME_HEADS[h]}{_NAME_TAILS[t]}{_NAME_KINDS[k]}"
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            base = f"{base} {seen[base]}"
        suffixes = _SUFFIX.get(str(c), ["Inc", "LLC"])
        out.append(f"{base} {suffixes[s % len(suffixes)]}")
    return out


def _domain(name: str, country: str) -> str:
    stem = name.rsplit(" ", 1)[0] if " " in name else name
    slug = "".join(ch for ch in stem.lower() if ch.isalnum())
    return f"{slug}.{_TLD[country]}"


def _num(x: float) -> str:
    return str(round(x))


def _money(x: float) -> str:
    """'$2.5M' / '$750K' as people type revenue."""
    if x >= 1e9:
        return f"${x / 1e9:.3g}B"
    if x >= 1e6:
        return f"${x / 1e6:.3g}M"
    return f"${x / 1e3:.3g}K"


def _employees_text(
    rng: np.random.Generator, employees: np.ndarray, messy: bool
) -> tuple[list[str], np.ndarray]:
    """Employee counts as written; returns the text and the value an importer should read from it."""
    out: list[str] = []
    read = employees.astype(np.float64).copy()
    styles = rng.random(len(employees))
    for i, e in enumerate(employees.tolist()):
        r = styles[i] if messy else 1.0
        if r < 0.08:
            out.append(f"{e:,}")
        elif r < 0.14 and e >= 1000:
            rounded = round(e, -2)
            out.append(f"{rounded / 1000:g}k")
            read[i] = rounded
        elif r < 0.20 and (e <= 10 or e >= 2000):
            # Bands whose midpoint stays on the same side of every planted boundary.
            if e <= 10:
                out.append("1-10")
                read[i] = 5.5
            elif e < 5000:
                out.append("2,000-5,000")
                read[i] = 3500
            elif e < 10000:
                out.append("5,001-10,000")
                read[i] = 7500.5
            else:
                out.append("10,000+")
                read[i] = 10000
        else:
            out.append(str(e))
    return out, read


def _revenue_text(rng: np.random.Generator, revenue: np.ndarray, messy: bool) -> list[str]:
    out = []
    styles = rng.random(len(revenue))
    for r, x in zip(styles.tolist(), revenue.tolist(), strict=True):
        if not messy or r >= 0.45:
            out.append(_num(x))
        elif r < 0.25:
            out.append(_money(x))
        elif r < 0.35:
            out.append(f"${x:,.0f}")
        elif x >= 1e7 and r < 0.40:
            out.append("10M+")
        else:
            out.append(f"{x:,.0f}")
    return out


def _spell(
    rng: np.random.Generator, values: np.ndarray, spellings: dict[str, list[str]], messy: bool
) -> list[str]:
    """Canonical values as a person would type them: usually the first spelling, sometimes another."""
    r = rng.random(len(values))
    alt = rng.integers(0, 1000, len(values))
    out = []
    for v, ri, ai in zip(values.tolist(), r.tolist(), alt.tolist(), strict=True):
        options = spellings[v]
        if messy and ri < 0.35 and len(options) > 1:
            out.append(options[1 + ai % (len(options) - 1)])
        else:
            out.append(options[0])
    return out


def _stack_text(rng: np.random.Generator, stacks: list[tuple[str, ...]], messy: bool) -> list[str]:
    seps = rng.random(len(stacks))
    out = []
    for s, r in zip(stacks, seps.tolist(), strict=True):
        names = [_TECH_NAMES[t] for t in s]
        if messy and r < 0.15:
            out.append(", ".join(n.lower() for n in names))
        elif messy and r < 0.25:
            out.append(";".join(names))
        else:
            out.append("; ".join(names))
    return out


def _blank(rng: np.random.Generator, values: list[str], share: float, messy: bool) -> list[str | None]:
    """About `share` of the values left empty, as real exports have them."""
    if not messy:
        return list(values)
    gone = rng.random(len(values)) < share
    return [None if g else v for v, g in zip(values, gone.tolist(), strict=True)]


def _iso(d: date) -> str:
    return d.isoformat()


def _fit_count(
    industry: np.ndarray, employees: np.ndarray, country: np.ndarray, salesforce: np.ndarray
) -> np.ndarray:
    """How many of the four ICP traits an account has (0–4); drives value and health of customers."""
    count: np.ndarray = (
        np.isin(industry, ["software", "fintech"]).astype(int)
        + ((employees >= SWEET_SPOT[0]) & (employees < SWEET_SPOT[1])).astype(int)
        + np.isin(country, ["US", "CA"]).astype(int)
        + salesforce.astype(int)
    )
    return count


def _odds(effect: float) -> str:
    return f"×{math.exp(effect):.2g} odds"


def _truth(base_rate: float, n_accounts: int, n_closed: int, interactions: bool) -> list[str]:
    ind = {t[0]: t[2] for t in INDUSTRIES}
    lead = {t[0]: t[2] for t in LEAD_SOURCES}
    if interactions:
        form = (
            "the patterns below add to the log-odds of winning, two of them only in combination with "
            "a second attribute (an interaction a pair of attributes expresses)."
        )
        industry = (
            f"Industry: software wins more ({_odds(ind['software'])}); fintech wins more only from "
            f"{FINTECH_MIN_EMPLOYEES} employees up ({_odds(FINTECH_EFFECTS[1])}; below "
            f"{FINTECH_MIN_EMPLOYEES}: {_odds(FINTECH_EFFECTS[0])}, an interaction of industry and "
            f"size); retail and education win less ({_odds(ind['retail'])})."
        )
        referral = (
            f"Lead Source (custom field): referrals win more only in North America, the US and Canada "
            f"({_odds(REFERRAL_EFFECTS[1])}; elsewhere {_odds(REFERRAL_EFFECTS[0])}: an interaction "
            "of lead source and region)."
        )
    else:
        form = "every pattern below adds to the log-odds of winning, so a points table can express it."
        industry = (
            f"Industry: software and fintech win more ({_odds(ind['software'])}); retail and education "
            f"win less ({_odds(ind['retail'])})."
        )
        referral = f"Lead Source (custom field): referrals win more ({_odds(lead['Referral'])})."
    return [
        f"Base: {n_accounts:,} accounts, {n_closed:,} closed deals, win rate {base_rate:.0%}; {form}",
        industry,
        f"Size: {SWEET_SPOT[0]}–{SWEET_SPOT[1] - 1:,} employees win more ({_odds(SWEET_EFFECT)}); under "
        f"{SMALL_EMPLOYEES} employees almost never win ({_odds(SMALL_EFFECT)}: a disqualifier).",
        f"Country: the US and Canada win more ({_odds(COUNTRIES[0][2])}).",
        f"Tech stack: accounts that use Salesforce win more ({_odds(TECH[0][2])}).",
        referral,
        f"Value: {VALUE_INDUSTRY} wins less often ({_odds(ind[VALUE_INDUSTRY])}) but its deals are "
        f"{VALUE_DEAL_FACTOR:g}× larger, so by won value (win rate × deal size) it is among the best "
        "customers although it is not among the most frequent winners; larger companies also buy "
        "somewhat larger deals.",
        "Best customers: won accounts with more of the ICP traits (software/fintech, 200–1,999 "
        "employees, US/CA, Salesforce) have higher NPS and churn less, and somewhat higher ARR.",
        "Nothing else matters: revenue, the other industries, countries and tools are noise.",
    ]


def generate(
    seed: int = 7, n_accounts: int = 2000, *, messy: bool = True, interactions: bool = True
) -> SampleCompany:
    """The fictitious company's exports; deterministic for a seed (numpy PCG64).

    `interactions=False` replaces the two planted interactions by plain main effects; it draws the
    same random numbers, so only the outcomes (and what follows from them) differ.
    """
    if n_accounts < 1:
        raise ValueError(f"n_accounts must be at least 1, got {n_accounts}")
    rng = np.random.Generator(np.random.PCG64(seed))
    n = n_accounts

    # Accounts and their true attributes.
    industry = _pick(rng, INDUSTRIES, n)
    country = _pick(rng, COUNTRIES, n)
    lead = _pick(rng, LEAD_SOURCES, n)
    employees = np.round(10 ** np.clip(rng.normal(2.3, 0.8, n), 0.3, 4.7)).astype(np.int64)
    revenue = np.round(employees * np.exp(rng.normal(np.log(150_000), 0.5, n)), -3)
    uses = np.column_stack([rng.random(n) < t[1] for t in TECH])
    stacks = [tuple(TECH[j][0] for j in range(len(TECH)) if uses[i, j]) for i in range(n)]
    ids = 10_000_000_000 + np.cumsum(rng.integers(1, 5000, n))
    names = _names(rng, country)

    employees_text, employees_read = _employees_text(rng, employees, messy)
    logit = (
        INTERCEPT
        + _effect(industry, INDUSTRIES)
        + _effect(country, COUNTRIES)
        + _effect(lead, LEAD_SOURCES)
        + uses @ np.array([t[2] for t in TECH])
        + np.where(employees_read < SMALL_EMPLOYEES, SMALL_EFFECT, 0.0)
        + np.where((employees_read >= SWEET_SPOT[0]) & (employees_read < SWEET_SPOT[1]), SWEET_EFFECT, 0.0)
    )
    if interactions:
        logit += _interaction_effects(industry, employees_read, lead, country)
    salesforce = uses[:, 0]
    fit = _fit_count(industry, employees_read, country, salesforce)

    industry_spelled = _spell(rng, industry, _INDUSTRY_SPELLINGS, messy)
    country_spelled = _spell(rng, country, _COUNTRY_SPELLINGS, messy)
    revenue_text = _revenue_text(rng, revenue, messy)
    stack_text = _stack_text(rng, stacks, messy)
    lead_text = [
        s.lower() if messy and r < 0.05 else s for s, r in zip(lead, rng.random(n).tolist(), strict=True)
    ]
    accounts = pd.DataFrame(
        {
            "Record ID": [str(i) for i in ids],
            "Company name": names,
            "Company Domain Name": [_domain(nm, c) for nm, c in zip(names, country, strict=True)],
            "Industry": _blank(rng, industry_spelled, 0.03, messy),
            "Number of Employees": _blank(rng, employees_text, 0.03, messy),
            "Annual Revenue": _blank(rng, revenue_text, 0.03, messy),
            "Country/Region": _blank(rng, country_spelled, 0.03, messy),
            "Technologies": _blank(rng, [s or "" for s in stack_text], 0.03, messy),
            "Lead Source": _blank(rng, lead_text, 0.03, messy),
        },
        columns=ACCOUNT_COLUMNS,
    )
    accounts["Technologies"] = accounts["Technologies"].map(lambda v: v or None)

    # Deals: about three per account over two years, ~15% still open.
    per_account = 1 + rng.poisson(2.0, n)
    owner = np.repeat(np.arange(n), per_account)
    m = len(owner)
    is_open = rng.random(m) < OPEN_SHARE
    won = rng.random(m) < _sigmoid(logit[owner])
    span = (END - START).days
    created = np.where(is_open, span - rng.integers(0, 150, m), rng.integers(0, span - 120, m))
    cycle = 14 + rng.gamma(2.0, 30.0, m).astype(np.int64)
    size_factor = (np.maximum(employees_read[owner], 1) / 200.0) ** 0.25
    size_factor = size_factor * np.where(industry[owner] == VALUE_INDUSTRY, VALUE_DEAL_FACTOR, 1.0)
    quoted = np.round(np.exp(rng.normal(np.log(18_000), 0.5, m)) * size_factor, -2)
    zero_lost = messy & (rng.random(m) < 0.4)
    blank_amount = messy & (rng.random(m) < 0.02)
    open_stage = rng.integers(0, len(_OPEN_STAGES), m)
    deal_ids = 20_000_000_000 + np.cumsum(rng.integers(1, 5000, m))
    stage, amount, close = [], [], []
    for j in range(m):
        c = START + timedelta(days=int(created[j]) + int(cycle[j]))
        close.append(_iso(c))
        if is_open[j]:
            stage.append(_OPEN_STAGES[open_stage[j]])
            amount.append(_num(quoted[j]))
        elif won[j]:
            stage.append("closedwon")
            amount.append(_num(quoted[j]))
        else:
            stage.append("closedlost")
            amount.append("0" if zero_lost[j] else _num(quoted[j]))
    deals = pd.DataFrame(
        {
            "Record ID": [str(i) for i in deal_ids],
            "Deal Name": [f"{names[o]} – New business" for o in owner.tolist()],
            "Associated Company": [names[o] for o in owner.tolist()],
            "Associated Company ID": [str(ids[o]) for o in owner.tolist()],
            "Deal Stage": stage,
            "Pipeline": "default",
            "Amount": [None if b else a for a, b in zip(amount, blank_amount.tolist(), strict=True)],
            "Create Date": [_iso(START + timedelta(days=int(d))) for d in created.tolist()],
            "Close Date": close,
        },
        columns=DEAL_COLUMNS,
    )
    deals = deals.sort_values("Close Date", kind="stable").reset_index(drop=True)

    health = _health(rng, ids, names, owner, won & ~is_open, quoted, close, fit, messy)
    closed = ~is_open
    base_rate = float(won[closed].mean()) if closed.any() else 0.0
    truth = _truth(base_rate, n, int(closed.sum()), interactions)
    return SampleCompany(accounts, deals, health, truth)


def _interaction_effects(
    industry: np.ndarray, employees: np.ndarray, lead: np.ndarray, country: np.ndarray
) -> np.ndarray:
    """Swap the additive fintech and referral effects for ones that depend on size and region."""
    fintech = industry == "fintech"
    referral = lead == "Referral"
    ind = {t[0]: t[2] for t in INDUSTRIES}
    src = {t[0]: t[2] for t in LEAD_SOURCES}
    large = employees >= FINTECH_MIN_EMPLOYEES
    north_america = np.isin(country, REFERRAL_REGION)
    out: np.ndarray = np.where(
        fintech, np.where(large, FINTECH_EFFECTS[1], FINTECH_EFFECTS[0]) - ind["fintech"], 0.0
    ) + np.where(
        referral, np.where(north_america, REFERRAL_EFFECTS[1], REFERRAL_EFFECTS[0]) - src["Referral"], 0.0
    )
    return out


def _health(
    rng: np.random.Generator,
    ids: np.ndarray,
    names: list[str],
    owner: np.ndarray,
    won: np.ndarray,
    amount: np.ndarray,
    close: list[str],
    fit: np.ndarray,
    messy: bool,
) -> pd.DataFrame:
    """Customer health for every account with a won deal; ICP-fit customers are worth more."""
    first_win: dict[int, str] = {}
    arr: dict[int, float] = {}
    for j in np.flatnonzero(won).tolist():
        o = int(owner[j])
        first_win[o] = min(first_win.get(o, close[j]), close[j])
        arr[o] = arr.get(o, 0.0) + float(amount[j])
    customers = sorted(first_win)
    k = len(customers)
    f = fit[customers].astype(np.float64)
    churned = rng.random(k) < _sigmoid(-1.0 - 0.45 * f)
    arr_v = np.round(np.array([arr[c] for c in customers]) * np.exp(0.15 * f + rng.normal(0, 0.2, k)), -2)
    nps = np.clip(np.round(rng.normal(5 + 12 * f, 25, k)), -100, 100).astype(int)
    score = np.clip(np.round(50 + 8 * f - 25 * churned + rng.normal(0, 10, k)), 0, 100).astype(int)
    since = [date.fromisoformat(first_win[c]) for c in customers]
    tenure = [max(0, (EXPORT_DATE.year - s.year) * 12 + EXPORT_DATE.month - s.month) for s in since]
    flag_style = rng.random(k)
    churn_text = [
        ("Yes" if c else "No") if messy and r < 0.5 else ("true" if c else "false")
        for c, r in zip(churned.tolist(), flag_style.tolist(), strict=True)
    ]
    nps_text = _blank(rng, [str(v) for v in nps.tolist()], 0.05, messy)
    return pd.DataFrame(
        {
            "Record ID": [str(ids[c]) for c in customers],
            "Company name": [names[c] for c in customers],
            "ARR": [_num(v) for v in arr_v.tolist()],
            "Customer Since": [_iso(s) for s in since],
            "Tenure (months)": [str(t) for t in tenure],
            "Churned": churn_text,
            "NPS": nps_text,
            "Health Score": [str(v) for v in score.tolist()],
        },
        columns=HEALTH_COLUMNS,
    )


def write_csv(company: SampleCompany, folder: Path) -> dict[str, Path]:
    """Write accounts.csv, deals.csv and health.csv (UTF-8, '\\n' line ends): same seed, same bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name, frame in (("accounts", company.accounts), ("deals", company.deals), ("health", company.health)):
        path = folder / f"{name}.csv"
        write_frame(frame, path, index=False, encoding="utf-8", lineterminator="\n")
        out[name] = path
    return out
