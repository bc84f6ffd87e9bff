"""`icp analyze`, `learn`, `score` and `backtest`: the engine on CSV files, no store and no settings.

Human output is rich tables on stdout; `--json` prints one stable JSON document instead. Plain
functions, registered by bot/cli/main.py as top-level commands. The learning and statistics stack
(scipy) is imported by the commands that use it, so `icp score` starts without it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import numpy as np
import pandas as pd
import typer
from rich.progress import Progress

from bot.cli.errors import err, fail, user_errors
from bot.cli.options import AccountsOpt, DealsOpt, HealthOpt, JsonOpt, MapOpt, RevenueUnitOpt
from bot.cli.output import check_output, out, print_json
from bot.cli.progress import announce, steps, wanted
from bot.console import render
from bot.console.files import write_atomically
from icp_engine.batch import score_batch
from icp_engine.crm import CrmData, load_crm, load_flat_table, table_frame
from icp_engine.model import ICP, MAX_CHARACTERISTICS, TARGETS, Target, load_icp, save_icp
from icp_engine.normalize import normalize_account
from icp_engine.readers import parse_map_options, read_account_table
from icp_engine.safe_csv import write_frame
from icp_engine.scoring import score as score_one

if TYPE_CHECKING:
    from icp_engine.backtest import Backtest
    from icp_engine.stats import BestBy
    from icp_engine.stats.leakage import Leak


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
    if not crm.has_closed():
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
    from icp_engine.stats import analyze as run_analyze

    if best_by not in {"ltv", "acv", "nps", "retention", "health"}:
        fail(f"--best-by must be one of ltv, acv, nps, retention, health (got '{best_by}')", 2)
    with user_errors():
        with steps("analyze", show=wanted(as_json)) as on_step:
            announce(on_step, "reading the CSV files")
            crm = _load(accounts, deals, health, maps, revenue_unit)
            metric = cast("BestBy", best_by)  # checked above
            announce(on_step, "analysing")
            result = run_analyze(
                crm.closed, crm.accounts, attributes=crm.attributes, best_by=metric, alpha=alpha
            )
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


def learn(
    accounts: AccountsOpt,
    deals: DealsOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the ICP (.yaml or .json).")],
    health: HealthOpt = None,
    maps: MapOpt = None,
    name: Annotated[str, typer.Option(help="Name of the learned ICP.")] = "Learned ICP",
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="What 'best' means: win (won vs lost deals), value (win × deal amount) or "
            "retention (kept vs churned customers, needs --health).",
        ),
    ] = "win",
    max_characteristics: Annotated[
        int,
        typer.Option(
            "--max-characteristics", help="At most this many characteristics (attributes or pairs)."
        ),
    ] = MAX_CHARACTERISTICS,
    value_weighted: Annotated[
        bool, typer.Option("--value-weighted", help="Same as --target value (kept for older scripts).")
    ] = False,
    attributes: Annotated[
        str | None,
        typer.Option("--attributes", help="Comma-separated account attributes to learn from (default: all)."),
    ] = None,
    revenue_unit: RevenueUnitOpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Learn a scorecard ICP from the data: a few characteristics with centred points."""
    from icp_engine.backtest import characteristic_stats, outcomes
    from icp_engine.learn import learn as run_learn
    from icp_engine.learn import retention_outcomes

    if target not in TARGETS:
        fail(f"--target must be one of {', '.join(TARGETS)} (got '{target}')", 2)
    if max_characteristics < 1:
        fail(f"--max-characteristics must be at least 1 (got {max_characteristics})", 2)
    if output.suffix.lower() not in {".yaml", ".yml", ".json"}:
        fail(f"{output}: the ICP file must end in .yaml, .yml or .json", 2)
    check_output(output, "-o/--output")
    with user_errors():
        with steps("learn", show=wanted(as_json)) as on_step:
            announce(on_step, "reading the CSV files")
            crm = _load(accounts, deals, health, maps, revenue_unit)
            closed = crm.closed  # made once: a copy of every closed deal
            chosen, left_out = _learn_attributes(crm, closed, attributes)
            announce(on_step, "learning")
            result = run_learn(
                closed,
                crm.accounts,
                attributes=chosen,
                name=name,
                target=cast(Target, "value" if value_weighted else target),
                max_characteristics=max_characteristics,
            )
        save_icp(result.icp, output)
        _report_input(crm, quiet=as_json)
        for note in _left_out_notes(left_out):
            err.print(render.labelled("note:", "yellow", note), highlight=False)
        if as_json:
            taught = retention_outcomes(crm.accounts) if result.icp.target == "retention" else closed
            print_json(
                {
                    "icp": result.icp.to_dict(),
                    "significant": result.significant,
                    "target": result.icp.target,
                    "characteristics": characteristic_stats(result.icp, taught, outcomes(taught)),
                    "selection": result.selection,
                    "notes": result.notes,
                }
            )
            return
        out.print(render.icp_table(result.icp))
        for note in result.notes:
            out.print(render.labelled("note:", "yellow", note), highlight=False)
        out.print(render.plain(f"Wrote {output}"), highlight=False, soft_wrap=True)  # a path never wraps


def _learn_attributes(
    crm: CrmData, closed: pd.DataFrame, attributes: str | None
) -> tuple[list[str], list[Leak]]:
    """The attributes `learn` uses: those asked for (refusing the outcome or what is derived from
    it), or all of them without the ones that leak the outcome (left out, with a note).
    ``closed``: ``crm.closed``, made once by the caller (each making copies every closed deal)."""
    from icp_engine.stats.leakage import find_leaks, refuse_leaks

    if attributes is None:
        leaks = find_leaks(closed, crm.attributes, "won")
        dropped = {leak.column for leak in leaks}
        return [a for a in crm.attributes if a not in dropped], leaks
    by_key = {a.casefold().replace(" ", "_"): a for a in crm.attributes}
    chosen: list[str] = []
    for name in (part.strip() for part in attributes.split(",")):
        if not name:
            continue
        found = by_key.get(name.casefold().replace(" ", "_").replace("-", "_"))
        if found is None:
            fail(f"--attributes: no attribute '{name}'; attributes are: {', '.join(crm.attributes)}")
        chosen.append(found)
    if not chosen:
        fail("--attributes: name at least one attribute", 2)
    refuse_leaks(closed, chosen, "won", option="--attributes")
    return chosen, []


def _left_out_notes(leaks: list[Leak]) -> list[str]:
    return [f"left out {leak}: an outcome cannot be a feature" for leak in leaks]


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
                out.print(render.score_card(result, icp))
        return
    if pairs:
        fail("give either attribute=value pairs or --accounts, not both", 2)
    if output is None:
        fail("--out FILE is needed with --accounts", 2)
    check_output(output, "--out")
    with user_errors():
        _score_file(
            load_icp(icp_file),
            accounts=accounts,
            output=output,
            maps=maps,
            revenue_unit=revenue_unit,
            as_json=as_json,
        )


def _read_by(icp: ICP) -> set[str]:
    """Every attribute scoring with this ICP reads (criteria, characteristics, disqualifiers)."""
    read = {a for c in icp.criteria for a in c.attributes}
    read.update(a for ch in icp.characteristics for a in ch.attributes)
    return read | {d.attribute for d in icp.disqualifiers}


def _score_file(
    icp: ICP, *, accounts: Path, output: Path, maps: list[str] | None, revenue_unit: float, as_json: bool
) -> None:
    read = read_account_table(accounts, overrides=split_maps(maps)["accounts"])
    frame, _ = table_frame(read, revenue_unit=revenue_unit, only=_read_by(icp))
    show = sys.stdout.isatty() and not as_json
    result = pd.DataFrame(columns=["account_id", "name", "score", "tier"])
    with Progress(console=out, disable=not show, transient=True) as progress:
        task = progress.add_task("Scoring", total=len(frame))
        if len(frame):  # in one go: each distinct value of a column is evaluated once, not once a chunk
            result = pd.concat([frame[["account_id", "name"]], score_batch(frame, icp).to_frame()], axis=1)
        progress.advance(task, len(frame))
    write_atomically(output, lambda tmp: write_frame(result, tmp, index=False))
    counts = result["tier"].value_counts().to_dict() if len(result) else {}
    tier_counts = {name: int(counts.get(name, 0)) for name in [*icp.tiers, "C"]}
    summary = {
        "icp": icp.name,
        "scored": len(result),
        "rejected": len(read.errors),
        "tiers": tier_counts,
        "output": str(output),
        "errors": [str(e) for e in read.errors],
    }
    if as_json:
        print_json(summary)
        return
    for line in render.error_lines(read.errors, limit=20):
        err.print(render.plain(f"  skipped: {line}"), highlight=False)
    tiers = ", ".join(f"{k}: {v:,}" for k, v in tier_counts.items())
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
    from icp_engine.backtest import backtest as run_backtest
    from icp_engine.learn import learn as run_learn
    from icp_engine.stats.leakage import refuse_leaks, screen_default_features

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
        if feats:  # the user chose these: refuse the outcome, or a column derived from it
            refuse_leaks(frame, table.features, "won", outcome=outcome, option="--features")
        if "account_id" not in frame.columns:
            # A flat table has no account key: each row counts as its own account.
            frame = frame.assign(account_id=[f"row {line}" for line in frame["_line"]])
        if icp_file is not None:
            icp = load_icp(icp_file)
            run = BacktestRun(run_backtest(icp, frame), icp, None, 0, len(frame), table.features)
            _print_backtest(run, as_json=as_json)
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
        chosen: list[str] | None = table.features if feats else None
        left_out: list[Leak] = []
        if not feats:  # the default columns, without any that leak the outcome (with a note)
            usable, left_out = screen_default_features(frame.drop(columns=keep), "won", outcome=outcome)
            chosen = usable if left_out else None
        learned = run_learn(
            train.drop(columns=keep),
            attributes=chosen,
            name=f"Learned from {deals.name}",
        )
        used = [plan.attribute for plan in learned.analysis.attributes]
        run = BacktestRun(
            run_backtest(learned.icp, test),
            learned.icp,
            learned.significant,
            n_train,
            n_test,
            used,
            [*_left_out_notes(left_out), *learned.notes],
        )
        _print_backtest(run, as_json=as_json)


@dataclass(frozen=True)
class BacktestRun:
    """One backtest and how it came about: learned on `n_train` rows, or a given ICP (`n_train` 0)."""

    bt: Backtest
    icp: ICP
    significant: bool | None  # None: a given ICP, not learned here
    n_train: int
    n_test: int
    features: list[str]
    notes: list[str] = dataclass_field(default_factory=list)


def _print_backtest(run: BacktestRun, *, as_json: bool) -> None:
    bt, icp, n_train, n_test, significant = run.bt, run.icp, run.n_train, run.n_test, run.significant
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
                "features": run.features,
                "target": bt.target,
                "metric": bt.metric,
                "metric_value": round(bt.metric_value, 4),
                "characteristic_count": len(icp.characteristics),
                "characteristics": bt.characteristics or [],
                "icp": icp.to_dict(),
            }
        )
        return
    out.print(render.icp_table(icp))
    for note in run.notes:
        out.print(render.labelled("note:", "yellow", note), highlight=False)
    label = f"Held-out test ({n_test:,} rows; learned on {n_train:,})" if n_train else "Backtest"
    out.print(render.backtest_table(bt, title=label))
