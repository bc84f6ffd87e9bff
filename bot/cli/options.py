"""Every option and argument that more than one `icp` command takes, defined once.

One style: ``name: Alias = default``, where the alias is ``Annotated[type, typer.Option(...)]``. A
command that takes an option nobody else does declares it inline, in the same style.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON object.")]
JsonListOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

WorkspaceOpt = Annotated[
    str | None,
    typer.Option("--workspace", "-w", help="Slack team id of the workspace (default: DEFAULT_WORKSPACE)."),
]
SegmentOpt = Annotated[str, typer.Option("--segment", help="The ICP segment (default: the primary one).")]
VersionArg = Annotated[str, typer.Argument(help="A version number, e.g. v3 or 3.", show_default=False)]

# Engine commands (analyze, learn, score): several CSV files, so a mapping may name its file.
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
RevenueUnitOpt = Annotated[
    float,
    typer.Option("--revenue-unit", help="Multiply annual revenue by this (1e6 when it is in millions)."),
]

# Store imports (`icp import accounts|deals|health FILE`): one file each.
CsvFileArg = Annotated[Path, typer.Argument(help="The CSV export.")]
ImportMapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="Column for a field when the name is not recognised: FIELD=COLUMN. Repeatable."
    ),
]
SkipBadRowsOpt = Annotated[
    bool, typer.Option("--skip-bad-rows", help="Import the good rows and list the rejected ones.")
]
