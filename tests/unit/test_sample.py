"""The seeded demo company: deterministic bytes, export-shaped files, and planted patterns that
analyze() finds while a pure-noise column stays quiet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from icp_engine.normalize import normalize_frame
from icp_engine.sample import (
    ACCOUNT_COLUMNS,
    DEAL_COLUMNS,
    HEALTH_COLUMNS,
    SampleCompany,
    generate,
    write_csv,
)
from icp_engine.stats import Analysis, analyze

# The clean generator writes country names; this is all the tests need to read them.
COUNTRY = {
    "United States": ("US", "North America"),
    "Canada": ("CA", "North America"),
    "United Kingdom": ("GB", "EMEA"),
    "Germany": ("DE", "EMEA"),
    "France": ("FR", "EMEA"),
    "Netherlands": ("NL", "EMEA"),
    "Australia": ("AU", "APAC"),
    "India": ("IN", "APAC"),
    "Brazil": ("BR", "Latin America"),
    "Singapore": ("SG", "APAC"),
}
CLOSED = {"closedwon", "closedlost"}


@pytest.fixture(scope="module")
def company() -> SampleCompany:
    return generate(7)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = write_csv(generate(11, 300), tmp_path / "a")
    b = write_csv(generate(11, 300), tmp_path / "b")
    c = write_csv(generate(12, 300), tmp_path / "c")
    assert sorted(a) == ["accounts", "deals", "health"]
    for name in a:
        assert a[name].name == f"{name}.csv"
        assert a[name].read_bytes() == b[name].read_bytes()
        assert a[name].read_bytes() != c[name].read_bytes()
    assert b"\r\n" not in a["deals"].read_bytes()


def test_exports_look_like_hubspot(company: SampleCompany) -> None:
    acc, deals, health = company.accounts, company.deals, company.health
    assert list(acc.columns) == ACCOUNT_COLUMNS
    assert list(deals.columns) == DEAL_COLUMNS
    assert list(health.columns) == HEALTH_COLUMNS
    assert len(acc) == 2000 and acc["Record ID"].is_unique and acc["Company name"].is_unique
    assert set(deals["Associated Company ID"]) <= set(acc["Record ID"])
    assert set(health["Record ID"]) <= set(acc["Record ID"])
    assert 2.7 <= len(deals) / len(acc) <= 3.3
    stages = deals["Deal Stage"]
    assert 0.12 <= (~stages.isin(CLOSED)).mean() <= 0.18
    closed = deals[stages.isin(CLOSED)]
    assert 0.24 <= (closed["Deal Stage"] == "closedwon").mean() <= 0.31
    lost_amounts = closed.loc[closed["Deal Stage"] == "closedlost", "Amount"]
    assert (lost_amounts == "0").mean() > 0.2  # lost deals exported with amount 0, as real exports do
    assert (pd.to_datetime(closed["Close Date"]) >= pd.to_datetime(closed["Create Date"])).all()
    # Customers are the accounts that have won.
    winners = set(closed.loc[closed["Deal Stage"] == "closedwon", "Associated Company ID"])
    assert set(health["Record ID"]) == winners


def test_messy_values_are_written_like_real_exports(company: SampleCompany) -> None:
    acc = company.accounts
    industries = set(acc["Industry"].dropna())
    assert {"SaaS", "FinTech", "Software"} <= industries
    countries = set(acc["Country/Region"].dropna())
    assert {"United States", "USA", "US", "Germany", "DE"} <= countries
    employees = acc["Number of Employees"].dropna()
    assert employees.str.contains(",").any() and employees.str.endswith("k").any()
    assert employees.str.contains("-").any()
    revenue = acc["Annual Revenue"].dropna()
    assert revenue.str.startswith("$").any() and revenue.str.endswith("M").any()
    assert acc["Technologies"].dropna().str.contains("; ").any()
    for column in ("Industry", "Number of Employees", "Country/Region", "Lead Source"):
        assert 0.01 <= acc[column].isna().mean() <= 0.06, column


def test_clean_mode_writes_canonical_values() -> None:
    clean = generate(7, 500, messy=False)
    acc = clean.accounts
    assert acc["Industry"].notna().all() and acc["Country/Region"].notna().all()
    assert set(acc["Country/Region"]) <= set(COUNTRY)
    assert pd.to_numeric(acc["Number of Employees"]).notna().all()
    assert pd.to_numeric(acc["Annual Revenue"]).notna().all()
    assert clean.truth[1:] == generate(7, 500, messy=True).truth[1:]


def test_truth_describes_the_planted_patterns(company: SampleCompany) -> None:
    text = " ".join(company.truth).casefold()
    for word in (
        "software",
        "fintech",
        "retail",
        "education",
        "employees",
        "canada",
        "salesforce",
        "referral",
    ):
        assert word in text


def test_bad_size_is_rejected_and_tiny_companies_work() -> None:
    with pytest.raises(ValueError, match="n_accounts"):
        generate(1, 0)
    for n in (1, 2, 5):
        tiny = generate(3, n)
        assert len(tiny.accounts) == n
        assert set(tiny.deals["Associated Company ID"]) <= set(tiny.accounts["Record ID"])


# --- planted patterns survive analysis -----------------------------------------------------------


def _band(employees: pd.Series) -> pd.Series:
    cut = pd.cut(
        employees, [0, 20, 200, 2000, np.inf], right=False, labels=["1-19", "20-199", "200-1,999", "2,000+"]
    )
    return cut.astype(object).where(cut.notna(), None)


def _with_noise(accounts: pd.DataFrame) -> pd.DataFrame:
    """Pure noise, drawn per account: it must never come out significant."""
    rng = np.random.default_rng(2024)
    out = accounts.copy()
    out["noise"] = rng.choice(["alpha", "beta", "gamma", "delta", "epsilon"], len(out))
    out["noise_score"] = rng.normal(50, 10, len(out))
    return out


def _frames(accounts: pd.DataFrame, company: SampleCompany) -> tuple[pd.DataFrame, pd.DataFrame]:
    h = company.health
    health = pd.DataFrame(
        {
            "account_id": h["Record ID"],
            "arr": pd.to_numeric(h["ARR"]),
            "tenure_months": pd.to_numeric(h["Tenure (months)"]),
            "churned": h["Churned"],
            "nps": pd.to_numeric(h["NPS"]),
            "health_score": pd.to_numeric(h["Health Score"]),
        }
    )
    d = company.deals[company.deals["Deal Stage"].isin(CLOSED)]
    deals = pd.DataFrame(
        {
            "account_id": d["Associated Company ID"],
            "won": d["Deal Stage"].eq("closedwon"),
            "amount": pd.to_numeric(d["Amount"]),
        }
    ).merge(accounts, on="account_id", how="left")
    return deals, accounts.merge(health, on="account_id", how="left")


def _clean_accounts(company: SampleCompany) -> pd.DataFrame:
    a = company.accounts
    employees = pd.to_numeric(a["Number of Employees"])
    return pd.DataFrame(
        {
            "account_id": a["Record ID"],
            "industry": a["Industry"].str.casefold(),
            "employees": employees,
            "employee_band": _band(employees),
            "annual_revenue": pd.to_numeric(a["Annual Revenue"]),
            "country": a["Country/Region"].map(lambda c: COUNTRY[c][0]),
            "region": a["Country/Region"].map(lambda c: COUNTRY[c][1]),
            "tech_stack": a["Technologies"].map(
                lambda s: tuple(t.strip().casefold() for t in s.split(";")) if isinstance(s, str) else None
            ),
            "lead_source": a["Lead Source"],
        }
    )


def _assert_planted_patterns_found(result: Analysis, bands: dict[str, str]) -> None:
    def seg(segment_id: str) -> Any:
        return result.segment(segment_id)

    for winner in ("stat:industry=software", "stat:industry=fintech"):
        assert seg(winner).significant and seg(winner).lift > 1.2, winner
    for loser in ("stat:industry=retail", "stat:industry=education"):
        assert seg(loser).significant and seg(loser).lift < 0.8, loser
    small, sweet = seg(bands["small"]), seg(bands["sweet"])
    assert small.significant and small.win_rate < 0.03  # a disqualifier
    assert sweet.significant and sweet.lift > 1.2
    assert seg("stat:country=US").significant and seg("stat:country=US").lift > 1.1
    assert seg("stat:country=CA").lift > 1.0
    assert seg("stat:region=North America").significant
    assert seg("stat:tech_stack~salesforce").significant and seg("stat:tech_stack~salesforce").lift > 1.1
    referral = next(s for s in result.segments if s.segment.attribute == "lead_source" and s.segment.value and
                    s.segment.value.casefold() == "referral")  # fmt: skip
    assert referral.significant and referral.lift > 1.2
    noise = [s for s in result.segments if s.segment.attribute in ("noise", "noise_score")]
    assert len(noise) >= 8
    assert not any(s.significant for s in noise), [(s.id, s.q_value) for s in noise if s.significant]
    # Customers in the ICP are worth more: higher NPS and LTV, better retention.
    o = result.overall
    assert o.nps is not None and o.ltv is not None and o.retention is not None
    assert seg("stat:industry=software").nps > o.nps
    assert sweet.ltv > o.ltv and sweet.retention > o.retention


def test_analyze_finds_the_planted_patterns_in_clean_data() -> None:
    company = generate(7, messy=False)
    deals, accounts = _frames(_with_noise(_clean_accounts(company)), company)
    result = analyze(deals, accounts)
    assert result.significant
    _assert_planted_patterns_found(
        result, {"small": "stat:employee_band=1-19", "sweet": "stat:employee_band=200-1,999"}
    )
    assert result.cohort is not None and result.cohort.by == "ltv"
    assert any(d.significant for d in result.cohort.diffs)


def test_analyze_finds_the_planted_patterns_in_messy_data_after_normalisation(company: SampleCompany) -> None:
    a = company.accounts
    raw = pd.DataFrame(
        {
            "account_id": a["Record ID"],
            "industry": a["Industry"],
            "employees": a["Number of Employees"],
            "annual_revenue": a["Annual Revenue"],
            "country": a["Country/Region"],
            "tech_stack": a["Technologies"],
            "lead_source": a["Lead Source"],
        }
    )
    normalized, _report = normalize_frame(raw)
    deals, accounts = _frames(_with_noise(normalized), company)
    result = analyze(deals, accounts)
    small = next(s for s in result.segments if s.segment.attribute == "employee_band" and s.win_rate < 0.03)
    sweet = max((s for s in result.segments if s.segment.attribute == "employee_band"), key=lambda s: s.lift)
    _assert_planted_patterns_found(result, {"small": small.id, "sweet": sweet.id})


# --- planted interactions and the value pattern ---------------------------------------------------


def _closed_deals(company: SampleCompany) -> pd.DataFrame:
    acc = company.accounts.set_index("Record ID")
    d = company.deals[company.deals["Deal Stage"].isin(CLOSED)]
    out = d.join(acc, on="Associated Company ID")
    return out.assign(
        won=out["Deal Stage"].eq("closedwon"),
        amount=pd.to_numeric(out["Amount"]),
        employees=pd.to_numeric(out["Number of Employees"]),
        north_america=out["Country/Region"].isin(["United States", "Canada"]),
    )


def test_interactions_are_planted_and_the_additive_variant_has_none() -> None:
    def rates(company: SampleCompany) -> tuple[float, float, float, float]:
        d = _closed_deals(company)
        fintech, referral = d["Industry"].eq("FinTech"), d["Lead Source"].eq("Referral")
        large = d["employees"] >= 200
        return (
            d.loc[fintech & large, "won"].mean(),
            d.loc[fintech & ~large, "won"].mean(),
            d.loc[referral & d["north_america"], "won"].mean(),
            d.loc[referral & ~d["north_america"], "won"].mean(),
        )

    with_pairs, additive = generate(7, messy=False), generate(7, messy=False, interactions=False)
    overall = _closed_deals(with_pairs)["won"].mean()
    fin_large, fin_small, ref_na, ref_other = rates(with_pairs)
    assert fin_large > 2 * overall and fin_small < overall  # fintech wins only from 200 employees up
    assert ref_na > 1.6 * overall and abs(ref_other - overall) < 0.08  # referrals: North America only
    a_large, a_small, _, a_other = rates(additive)
    assert a_large / a_small < fin_large / fin_small and a_other > ref_other
    # Same accounts, same draws: only outcomes differ.
    assert additive.accounts.equals(with_pairs.accounts)
    assert len(additive.deals) == len(with_pairs.deals)


def test_best_customers_by_value_differ_from_the_most_frequent_winners(company: SampleCompany) -> None:
    d = _closed_deals(generate(7, messy=False))
    by_industry = d.assign(value=d["amount"].where(d["won"], 0.0)).groupby("Industry")
    win_rate, value = by_industry["won"].mean(), by_industry["value"].mean()
    assert win_rate["Manufacturing"] < d["won"].mean()  # wins less often than average …
    assert value.idxmax() == "Manufacturing"  # … yet brings the most won value per closed deal
    assert win_rate.idxmax() != value.idxmax()
    text = " ".join(company.truth)
    assert "North America" in text and "interaction" in text and "manufacturing" in text
    additive_text = " ".join(generate(7, 300, interactions=False).truth)
    assert "interaction" not in additive_text and "manufacturing" in additive_text
