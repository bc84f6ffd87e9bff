"""`icp`: the command line for the engine (analyse, learn, score, backtest) and the demo.

Human output is rich tables on stdout; `--json` prints one stable JSON document instead. Errors
go to stderr as one clear sentence and exit with code 1; usage errors exit with 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import Progress

from bot.cli import render
from bot.cli.errors import err, fail, user_errors
from bot.cli.output import check_output, print_json, write_atomically
from icp_engine.backtest import backtest as run_backtest
from icp_engine.batch import score_batch
from icp_engine.crm import CrmData, accounts_frame, load_crm, load_flat_table
from icp_engine.learn import learn as run_learn
from icp_engine.model import ICP, load_icp, save_icp
from icp_engine.normalize import normalize_account
from icp_engine.readers import parse_map_options, read_accounts
from icp_engine.scoring import score as score_one
from icp_engine.stats import analyze as run_analyze

app = typer.Typer(
    name="icp",
    help="ICP assistant: analyse CRM exports, learn and backtest an Ideal Customer Profile, score accounts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=False)

MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Column mapping FIELD=COLUMN (e.g. employees=Headcount); prefix with accounts., deals. or "
        "health. to target one file. Repeatable.",
    ),
]
AccountsOpt = Annotated[
    Path, typer.Option("--accounts", help="Accounts CSV (HubSpot, Salesforce or a sheet).")
]
DealsOpt = Annotated[Path, typer.Option("--deals", help="Deals/opportunities CSV.")]
HealthOpt = Annotated[Path | None, typer.Option("--health", help="Customer health CSV (ARR, churn, NPS...).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON object.")]
RevenueUnitOpt = Annotated[
    float,
    typer.Option("--revenue-unit", help="Multiply annual revenue by this (1e6 when it is in millions)."),
]


def split_maps(items: list[str] | None) -> dict[str, dict[str, str]]:
    """`--map employees=Headcount` applies to every file; `--map deals.amount=Value` to one."""
    result: dict[str, dict[str, str]] = {"accounts": {}, "deals": {}, "health": {}}
    for field, column in parse_map_options(items or []).items():
        target, dot, name = field.partition(".")
        if dot and target in result:
            result[target][name] = column
        else:
            for per_file in result.values():
                per_file[field] = column
    return result


def _load(
    accounts: Path, deals: Path, health: Path | None, maps: list[str] | None, revenue_unit: float
) -> CrmData:
    crm = load_crm(accounts, deals, health, overrides=split_maps(maps), revenue_unit=revenue_unit)
    if crm.closed.empty:
        fail(f"{deals}: no closed (won or lost) deal is joined to an account; nothing to analyse")
    return crm


def _report_input(crm: CrmData, *, quiet: bool) -> None:
    if crm.errors:
        err.print(f"[yellow]{len(crm.errors):,} row(s) skipped:[/yellow]", highlight=False)
        for line in render.error_lines(crm.errors, limit=20):
            err.print(render.plain(f"  {line}"), highlight=False)
    if not quiet and crm.findings:
        out.print(render.bullet_list("Data quality", crm.findings[:25]))


# --- analyze ----------------------------------------------------------------------------------


@app.command()
def analyze(
    accounts: AccountsOpt,
    deals: DealsOpt,
    health: HealthOpt = None,
    maps: MapOpt = None,
    best_by: Annotated[
        str,
        typer.Option("--best-by", help="Best-customer cohort metric: ltv, acv, nps, retention or health."),
    ] = "ltv",
    alpha: Annotated[float, typer.Option(help="False discovery rate for significance.")] = 0.05,
    revenue_unit: RevenueUnitOpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Win rate, deal value, retention, NPS and LTV per segment, with intervals and significance."""
    if best_by not in {"ltv", "acv", "nps", "retention", "health"}:
        fail(f"--best-by must be one of ltv, acv, nps, retention, health (got '{best_by}')", 2)
    with user_errors():
        crm = _load(accounts, deals, health, maps, revenue_unit)
        result = run_analyze(
            crm.closed, crm.accounts, attributes=crm.attributes, best_by=best_by, alpha=alpha
        )  # type: ignore[arg-type]
        _report_input(crm, quiet=as_json)
        if as_json:
            print_json(
                {
                    **result.to_dict(),
                    "input": {"errors": [str(e) for e in crm.errors], "findings": crm.findings},
                }
            )
            return
        out.print(render.bullet_list("Findings", result.summary))
        if result.significant:
            out.print(render.analysis_table(result))


# --- learn ------------------------------------------------------------------------------------


@app.command()
def learn(
    accounts: AccountsOpt,
    deals: DealsOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the ICP (.yaml or .json).")],
    health: HealthOpt = None,
    maps: MapOpt = None,
    name: Annotated[str, typer.Option(help="Name of the learned ICP.")] = "Learned ICP",
    value_weighted: Annotated[
        bool, typer.Option("--value-weighted", help="Weight won deals by their amount.")
    ] = False,
    revenue_unit: RevenueUnitOpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Learn a data-backed draft ICP (points from the data, only significant patterns)."""
    if output.suffix.lower() not in {".yaml", ".yml", ".json"}:
        fail(f"{output}: the ICP file must end in .yaml, .yml or .json", 2)
    check_output(output, "-o/--output")
    with user_errors():
        crm = _load(accounts, deals, health, maps, revenue_unit)
        result = run_learn(
            crm.closed, crm.accounts, attributes=crm.attributes, name=name, value_weighted=value_weighted
        )
        save_icp(result.icp, output)
        _report_input(crm, quiet=as_json)
        if as_json:
            print_json(
                {"icp": result.icp.to_dict(), "significant": result.significant, "notes": result.notes}
            )
            return
        out.print(render.icp_table(result.icp))
        for note in result.notes:
            out.print(render.labelled("note:", "yellow", note), highlight=False)
        out.print(render.plain(f"Wrote {output}"), highlight=False, soft_wrap=True)  # a path never wraps


# --- score ------------------------------------------------------------------------------------


def _parse_pairs(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(
                f"expected attribute=value, got '{pair}' (e.g. industry=software employees=500 country=US)", 2
            )
        values[key.strip()] = value
    return values


@app.command()
def score(
    pairs: Annotated[list[str] | None, typer.Argument(help="attribute=value pairs for one account.")] = None,
    icp_file: Annotated[Path, typer.Option("--icp", help="The ICP file (.yaml or .json).")] = Path(
        "icp.yaml"
    ),
    accounts: Annotated[
        Path | None, typer.Option("--accounts", help="Score every account in this CSV.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write batch scores to this CSV.")] = None,
    maps: MapOpt = None,
    revenue_unit: RevenueUnitOpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Score one account (key=value ...) or a whole accounts CSV (--accounts ... --out ...)."""
    if accounts is None:
        if not pairs:
            fail("give attribute=value pairs (e.g. industry=software employees=500) or --accounts FILE", 2)
        raw = _parse_pairs(pairs)
        with user_errors():
            icp = load_icp(icp_file)
            values, _ = normalize_account(raw)
            result = score_one(values, icp)
            if as_json:
                sys.stdout.write(result.to_json() + "\n")
            else:
                out.print(render.score_card(result))
        return
    if pairs:
        fail("give either attribute=value pairs or --accounts, not both", 2)
    if output is None:
        fail("--out FILE is needed with --accounts", 2)
    check_output(output, "--out")
    with user_errors():
        _score_file(load_icp(icp_file), accounts, output, maps, revenue_unit, as_json)


def _score_file(
    icp: ICP, accounts: Path, output: Path, maps: list[str] | None, revenue_unit: float, as_json: bool
) -> None:
    read = read_accounts(accounts, overrides=split_maps(maps)["accounts"])
    frame, _ = accounts_frame(read.rows, revenue_unit=revenue_unit)
    chunks: list[pd.DataFrame] = []
    step = 100_000
    show = sys.stdout.isatty() and not as_json
    with Progress(console=out, disable=not show, transient=True) as progress:
        task = progress.add_task("Scoring", total=len(frame))
        for start in range(0, len(frame), step):
            part = frame.iloc[start : start + step]
            scored = score_batch(part, icp).to_frame()
            chunks.append(pd.concat([part[["account_id", "name"]], scored], axis=1))
            progress.advance(task, len(part))
    result = pd.concat(chunks) if chunks else pd.DataFrame(columns=["account_id", "name", "score", "tier"])
    write_atomically(output, lambda tmp: result.to_csv(tmp, index=False))
    counts = result["tier"].value_counts().to_dict() if len(result) else {}
    summary = {
        "icp": icp.name,
        "scored": len(result),
        "rejected": len(read.errors),
        "tiers": {name: int(counts.get(name, 0)) for name in [*icp.tiers, "C"]},
        "output": str(output),
        "errors": [str(e) for e in read.errors],
    }
    if as_json:
        print_json(summary)
        return
    for line in render.error_lines(read.errors, limit=20):
        err.print(render.plain(f"  skipped: {line}"), highlight=False)
    tiers = ", ".join(f"{k}: {v:,}" for k, v in summary["tiers"].items())
    out.print(
        render.plain(f"Scored {len(result):,} accounts with '{icp.name}' ({tiers}); wrote {output}"),
        highlight=False,
        soft_wrap=True,  # a path never wraps
    )


# --- backtest ---------------------------------------------------------------------------------


def _order_key(series: pd.Series) -> pd.Series:
    """Sort by date if the column holds dates, else by number, else by text."""
    text = series.astype("string").str.strip()
    dates = pd.to_datetime(text, errors="coerce", format="mixed")
    if dates.notna().mean() >= 0.95:
        return dates
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().mean() >= 0.95:
        return numbers
    return text


@app.command()
def backtest(
    deals: Annotated[Path, typer.Argument(help="One CSV of deals, each row with its account's attributes.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Column that says whether the deal was won.")],
    won: Annotated[list[str], typer.Option("--won", help="Value(s) of --outcome meaning won. Repeatable.")],
    lost: Annotated[
        list[str] | None,
        typer.Option(
            "--lost", help="Value(s) meaning lost; other rows are left out. Default: all non-won rows."
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option("--features", help="Comma-separated attribute columns (default: all others)."),
    ] = None,
    holdout_by: Annotated[
        str | None,
        typer.Option("--holdout-by", help="Order rows by this column; the last share is held out."),
    ] = None,
    holdout: Annotated[
        float | None, typer.Option("--holdout", help="Share held out for testing, e.g. 0.2.")
    ] = None,
    holdout_seed: Annotated[
        int | None,
        typer.Option("--holdout-seed", help="Random split with this seed instead of --holdout-by."),
    ] = None,
    icp_file: Annotated[
        Path | None, typer.Option("--icp", help="Backtest this ICP on all rows instead.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Learn on the first rows and test on the held-out rest, or backtest a given ICP (--icp)."""
    if (holdout is None) == (icp_file is None):
        fail("give either --holdout SHARE (learn and test) or --icp FILE (test a given ICP)", 2)
    if holdout is not None and not 0 < holdout < 1:
        fail(f"--holdout must be between 0 and 1 (got {holdout})", 2)
    if holdout is not None and (holdout_by is None) == (holdout_seed is None):
        fail("with --holdout, give --holdout-by COLUMN (ordered split) or --holdout-seed N (random split)", 2)
    feats = [f.strip() for f in (features or "").split(",") if f.strip()] or None
    with user_errors():
        keep = [holdout_by] if holdout_by and holdout_by not in (feats or []) else []
        table = load_flat_table(deals, outcome=outcome, won=won, lost=lost or [], features=feats, keep=keep)
        frame = table.frame
        if "account_id" not in frame.columns:
            # A flat table has no account key: each row counts as its own account.
            frame = frame.assign(account_id=[f"row {line}" for line in frame["_line"]])
        if icp_file is not None:
            icp = load_icp(icp_file)
            bt = run_backtest(icp, frame)
            _print_backtest(bt, icp, None, 0, len(frame), table.features, as_json)
            return
        assert holdout is not None
        if holdout_by is not None:
            order = np.argsort(_order_key(frame[holdout_by]).to_numpy(), kind="stable")
        else:
            order = np.random.default_rng(holdout_seed).permutation(len(frame))
        n_test = max(1, round(len(frame) * holdout))
        n_train = len(frame) - n_test
        if n_train < 2:
            fail(f"{deals}: only {len(frame)} closed rows; too few to hold out {holdout:.0%}")
        train = frame.iloc[order[:n_train]].reset_index(drop=True)
        test = frame.iloc[order[n_train:]].reset_index(drop=True)
        # Without --features the engine picks the columns that can describe an account, leaving
        # out ids, dates, names and amounts (a deal id is no customer trait, and learning on it fails).
        learned = run_learn(
            train.drop(columns=keep),
            attributes=table.features if feats else None,
            name=f"Learned from {deals.name}",
        )
        used = [plan.attribute for plan in learned.analysis.attributes]
        bt = run_backtest(learned.icp, test)
        _print_backtest(bt, learned.icp, learned.significant, n_train, n_test, used, as_json, learned.notes)


def _print_backtest(
    bt: Any,
    icp: Any,
    significant: bool | None,
    n_train: int,
    n_test: int,
    features: list[str],
    as_json: bool,
    notes: list[str] | None = None,
) -> None:
    if as_json:
        print_json(
            {
                "auc": round(bt.auc, 4),
                "top_tier_lift": round(bt.top_tier_lift, 4),
                "tiers": [
                    {"tier": t.tier, "n": t.n, "wins": t.wins, "win_rate": round(t.win_rate, 4)}
                    for t in bt.tiers
                ],
                "n_train": n_train,
                "n_test": n_test,
                "win_rate": round(bt.win_rate, 4),
                "criteria_count": len(icp.criteria),
                "disqualifier_count": len(icp.disqualifiers),
                "significant": bool(significant) if significant is not None else bool(icp.criteria),
                "coverage": round(bt.coverage, 4),
                "features": features,
                "icp": icp.to_dict(),
            }
        )
        return
    out.print(render.icp_table(icp))
    for note in notes or []:
        out.print(render.labelled("note:", "yellow", note), highlight=False)
    label = f"Held-out test ({n_test:,} rows; learned on {n_train:,})" if n_train else "Backtest"
    out.print(render.backtest_table(bt, title=label))


# --- demo -------------------------------------------------------------------------------------


@app.command()
def demo(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also write here: the sample CSVs, icp.yaml, transcript.md, the exported ICP "
            "(md + pdf), the review chart, and the demo's SQLite + Chroma data (data/).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample company generator.")] = 7,
    accounts_n: Annotated[int, typer.Option("--accounts", min=1, help="Number of sample accounts.")] = 2000,
    engine_only: Annotated[
        bool, typer.Option("--engine-only", help="Only the engine part (no Slack app; a few seconds).")
    ] = False,
) -> None:
    """Run the whole product on a sample company, offline; print the transcript.

    First the engine: import, analyse, learn, backtest, score. Then the Slack
    bot over HTTP on 127.0.0.1 against a local stand-in for Slack: CSV uploads
    in a DM, three stakeholder interviews, /icp draft (offline unless an LLM
    is configured), Approve, /icp score, /icp remind fired by the scheduler,
    and the ICP exported. Data lives in a temporary folder unless --out.
    """
    from bot.demo.command import run_demo

    with user_errors():
        run_demo(out, out_dir=out_dir, seed=seed, n_accounts=accounts_n, slack=not engine_only)


def _mount_store_commands() -> None:
    """The store commands live in their own modules; mounted here so `icp --help` lists them."""
    from bot.cli.config import config
    from bot.cli.draft import draft
    from bot.cli.imports import db_app, import_app
    from bot.cli.knowledge import forget, reindex
    from bot.cli.llm import llm_app
    from bot.cli.reminders import reminders_app
    from bot.cli.serve import serve
    from bot.cli.versions import diff, export, show, versions

    app.add_typer(import_app, name="import")
    app.add_typer(db_app, name="db")
    app.add_typer(llm_app, name="llm")
    app.add_typer(reminders_app, name="reminders")
    app.command("forget")(forget)
    app.command("reindex")(reindex)
    app.command("draft")(draft)
    app.command("serve")(serve)
    app.command("config")(config)
    app.command("versions")(versions)
    app.command("show")(show)
    app.command("diff")(diff)
    app.command("export")(export)


_mount_store_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()
