"""`icp draft`: draft the ICP and personas of a workspace from its CRM data and interview answers.

Mounted by ``bot/cli/main.py``. Uses the configured LLM (``LLM_PROVIDER``…) when there is one, else the
offline drafter; either way the draft is stored as a new draft version for owners to review.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from bot.cli.approve import Approval, approve_version
from bot.cli.errors import user_errors
from bot.cli.options import JsonOpt, WorkspaceOpt
from bot.cli.output import out, print_json
from bot.cli.progress import steps, wanted
from bot.cli.state import cli_settings
from bot.console import render
from bot.store.db import connect
from bot.store.models import DEFAULT_SEGMENT

if TYPE_CHECKING:
    from bot.services.icp.drafting import DraftOutcome

CLI_ACTOR = "cli"


def draft(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    segment: Annotated[
        str,
        typer.Option(
            "--segment",
            "-s",
            help="Segment to draft for: a name, or attribute=value (e.g. industry=fintech) to draft "
            "from those accounts only. Default: the primary ICP.",
        ),
    ] = DEFAULT_SEGMENT,
    approve: Annotated[
        bool,
        typer.Option("--approve", help="Approve the new draft at once (as `icp approve` would)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Draft the ICP and buyer personas from CRM data and interview answers; store it as a draft."""
    approval: Approval | None = None
    with user_errors():
        settings = cli_settings(ctx)
        team = workspace or settings.default_workspace
        # Imported here: Chroma and the LLM clients are slow to load and `icp --help` needs neither.
        from bot.knowledge.store import knowledge_store_from
        from bot.llm.factory import build_llm
        from bot.services.icp.drafting import draft_icp

        llm = build_llm(settings)
        engine = connect(settings.resolved_database_url)
        try:
            knowledge = knowledge_store_from(settings)
            with steps(f"Drafting the ICP of {team}", show=wanted(as_json)) as on_step:
                outcome = draft_icp(
                    engine=engine,
                    knowledge=knowledge,
                    llm=llm,
                    workspace=team,
                    segment=segment,
                    author=CLI_ACTOR,
                    on_step=on_step,
                )
            if approve:
                approval = approve_version(
                    engine,
                    settings=settings,
                    team=team,
                    number=outcome.version,
                    segment=outcome.segment,
                    knowledge=knowledge,
                )
        finally:
            engine.dispose()
    if as_json:
        if approval is None:
            typer.echo(outcome.model_dump_json(indent=2))
        else:  # the draft's document with what the approval did; the key only exists with --approve
            print_json({**json.loads(outcome.model_dump_json()), "approval": approval.to_dict()})
        return
    out.print(report(outcome))
    if approval is not None:
        typer.echo(approval.text())


def _traits(title: str, items: list[tuple[str, list[str]]]) -> Group | None:
    if not items:
        return None
    return render.bullet_list(title, [f"{text} [{', '.join(ids)}]" for text, ids in items])


def report(o: DraftOutcome) -> Group:
    """The draft for a terminal: ICP, hypotheses, personas, words, backtest, conflicts, notes."""
    parts: list[object] = [
        Text.assemble(
            (f"Draft ICP v{o.version} ", "bold"),
            render.plain(f"(segment {o.segment}, stored as version id {o.version_id}) — {o.label}"),
        ),
        render.icp_table(o.icp),
    ]
    if o.drafted.hypotheses:
        table = Table(title="Hypotheses (0 points until an owner weighs them)", title_justify="left")
        table.add_column("criterion")
        table.add_column("why", overflow="fold")
        for h in o.drafted.hypotheses:
            table.add_row(render.plain(h.describe()), render.plain(h.rationale or ""))
        parts.append(table)
    for p in o.personas:
        fields = [f"titles: {', '.join(p.titles)}"] if p.titles else []
        for name in p.SCALAR_FIELDS:
            trait = getattr(p, name)
            if trait is not None:
                fields.append(f"{name.replace('_', ' ')}: {trait.text}")
        for name in p.LIST_FIELDS:
            texts = [t.text for t in getattr(p, name)]
            if texts:
                fields.append(f"{name.replace('_', ' ')}: {'; '.join(texts)}")
        parts.append(render.bullet_list(f"Persona: {p.name}", fields))
    for title, traits in (
        ("Pains", o.pains),
        ("Goals", o.goals),
        ("Buying triggers", o.triggers),
        ("Disqualifiers (in words)", o.disqualifiers),
    ):
        block = _traits(title, [(t.text, t.evidence) for t in traits])
        if block is not None:
            parts.append(block)
    if o.narrative:
        parts.append(render.plain(o.narrative))
    if o.backtest is not None:
        parts.append(render.plain(o.backtest.text()))
    if o.conflicts:
        parts.append(
            render.bullet_list("Conflicts", [f"{c.statement} [{', '.join(c.evidence)}]" for c in o.conflicts])
        )
    if o.notes:
        parts.append(render.bullet_list("Notes", o.notes))
    parts.append(render.plain(f"{len(o.citations)} citations; `icp draft --json` lists them."))
    return Group(*parts)  # type: ignore[arg-type]
