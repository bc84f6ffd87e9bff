"""Every option and argument that more than one `icp` command takes, defined once.

One style: ``name: Alias = default``, where the alias is ``Annotated[type, typer.Option(...)]``. A
command that takes an option nobody else does declares it inline, in the same style.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core


def _flag_shows_no_type(show_type: Callable[[typer.core.TyperOption, Any], str | None]) -> Any:
    """Typer's rich help prints every option's type, flags included (``--json <bool>``).

    A flag takes no value, so its type column stays empty, as in plain click help; options
    that take a value keep theirs. This covers Typer's own flags too (--help, completion), which
    no declaration here can reach. Applied once, when the first command module is imported.
    """

    def display_type_rich(self: typer.core.TyperOption, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return show_type(self, ctx)

    display_type_rich.__wrapped__ = show_type  # type: ignore[attr-defined]
    return display_type_rich


if not hasattr(typer.core.TyperOption.display_type_rich, "__wrapped__"):
    typer.core.TyperOption.display_type_rich = _flag_shows_no_type(  # type: ignore[method-assign]
        typer.core.TyperOption.display_type_rich
    )

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
