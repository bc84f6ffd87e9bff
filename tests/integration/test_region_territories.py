"""A CRM's own region column (sales territories) reaches the analysis as the file has it.

Issue 13: territories such as Midwest were replaced by the region derived from the country, or
became unknown without a country, so a territory that wins 45% against 20% elsewhere was never seen.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from icp_engine.crm import load_crm
from icp_engine.stats import analyze

TERRITORIES = ("Midwest", "Pacific", "DACH", "Nordics", "Northeast")
DEALS_PER_TERRITORY = 600


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _crm_files(tmp_path: Path, *, with_country: bool) -> tuple[Path, Path]:
    """One account per deal; Midwest wins 45% of its deals, every other territory 20%."""
    accounts: list[list[object]] = []
    deals: list[list[object]] = []
    for t, territory in enumerate(TERRITORIES):
        wins = round(DEALS_PER_TERRITORY * (0.45 if territory == "Midwest" else 0.20))
        for i in range(DEALS_PER_TERRITORY):
            account_id = f"A{t}-{i}"
            country = (
                ("US" if territory in ("Midwest", "Pacific", "Northeast") else "DE") if with_country else ""
            )
            accounts.append([account_id, f"Company {t}-{i}", territory, country])
            stage = "closedwon" if i < wins else "closedlost"
            deals.append([f"D{t}-{i}", account_id, stage, 1000, f"2024-{1 + i % 12:02d}-15"])
    acc = _write(tmp_path / "accounts.csv", ["account_id", "name", "region", "country"], accounts)
    dls = _write(tmp_path / "deals.csv", ["deal_id", "account_id", "stage", "amount", "close_date"], deals)
    return acc, dls


@pytest.mark.parametrize("with_country", [False, True])
def test_analysis_sees_the_winning_territory(tmp_path: Path, with_country: bool) -> None:
    accounts, deals = _crm_files(tmp_path, with_country=with_country)
    crm = load_crm(accounts, deals)
    assert set(crm.accounts["region"]) == set(TERRITORIES)  # never replaced by the country's region
    if with_country:
        assert set(crm.accounts["country_region"]) == {"North America", "EMEA"}
    result = analyze(crm.closed, crm.accounts, attributes=crm.attributes)
    midwest = result.segment("stat:region=Midwest")
    assert midwest.significant and midwest.win_rate == pytest.approx(0.45, abs=0.01)
    assert midwest.lift > 1
    assert any("Midwest" in line and "kept as written" in line for line in crm.findings)


def test_icp_analyze_reports_the_territory(tmp_path: Path) -> None:
    accounts, deals = _crm_files(tmp_path, with_country=False)
    result = CliRunner().invoke(
        app, ["analyze", "--accounts", str(accounts), "--deals", str(deals), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    significant = {s["id"] for s in data["segments"] if s["significant"]}
    assert "stat:region=Midwest" in significant


def test_without_a_region_column_the_countrys_region_is_analysed_once(tmp_path: Path) -> None:
    accounts, deals = _crm_files(tmp_path, with_country=True)
    (tmp_path / "no_region.csv").write_text(
        "\n".join(
            ",".join(cells[:2] + cells[3:])
            for cells in (line.split(",") for line in accounts.read_text(encoding="utf-8").splitlines())
        ),
        encoding="utf-8",
    )
    crm = load_crm(tmp_path / "no_region.csv", deals)
    assert crm.accounts["region"].equals(crm.accounts["country_region"])  # filled as before
    result = analyze(crm.closed, crm.accounts, attributes=crm.attributes)
    analysed = [plan.attribute for plan in result.attributes]
    assert "region" in analysed and "country_region" not in analysed
