"""`icp demo`: the whole product on a generated sample company (the work is in bot.demo.command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.errors import user_errors
from bot.cli.output import out


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
    # Imported here: the demo loads the Slack app and Chroma, which `icp --help` must not wait for.
    from bot.demo.command import run_demo

    with user_errors():
        run_demo(out, out_dir=out_dir, seed=seed, n_accounts=accounts_n, slack=not engine_only)
