"""`icp forget USER` and `icp reindex`: the privacy and repair commands of the knowledge store.

Plain functions, so ``bot/cli/main.py`` registers them as top-level commands
(``app.command("forget")(forget)``); ``knowledge_app`` holds the same two for tests and for
``python -m bot.cli.knowledge``. Locations come from ``Settings`` (``DATABASE_URL``, ``DATA_DIR``,
``CHROMA_PATH``/``CHROMA_HOST``). Errors are one line on stderr and exit code 1.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.errors import fail, user_errors
from bot.cli.options import WorkspaceOpt
from bot.cli.progress import counted, wanted
from bot.cli.state import cli_settings
from bot.settings import Settings
from bot.store.db import Engine, connect

if TYPE_CHECKING:  # chromadb is imported only by the commands that need it (fast `icp --help`)
    from bot.knowledge.store import KnowledgeStore

CLI_ACTOR = "cli"


def _open_stores(settings: Settings) -> tuple[Engine, KnowledgeStore]:
    from bot.knowledge.store import knowledge_store_from

    return connect(settings.resolved_database_url), knowledge_store_from(settings)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def forget(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="Slack user id of the person to forget, e.g. U012AB3CD.")],
    workspace: WorkspaceOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything a person said (answers, follow-up questions, summaries, review check-ins) from SQL and vectors."""
    with user_errors():
        settings = cli_settings(ctx)
        team = workspace or settings.default_workspace
        if not user.strip():
            fail("USER must be a Slack user id, e.g. U012AB3CD")
        if not yes:
            _confirm(user, team)
        from bot.services.privacy.forget import forget_person

        engine, knowledge = _open_stores(settings)
        try:
            result = forget_person(
                engine=engine, knowledge=knowledge, workspace=team, slack_user_id=user, actor=CLI_ACTOR
            )
        finally:
            engine.dispose()
    checkins = f", {_plural(result.checkins, 'review check-in')}" if result.checkins else ""
    typer.echo(
        f"Forgot {user} in workspace {team}: erased {_plural(result.answers, 'answer')}, "
        f"{_plural(result.questions, 'question')}{checkins} and the summaries of "
        f"{_plural(result.interviews, 'interview')} from the database and "
        f"{_plural(result.vectors, 'vector')} from the knowledge store; recorded in the audit log."
    )


def _confirm(user: str, team: str) -> None:
    """Ask on a terminal; without one there is nobody to ask, so refuse (``--yes`` is explicit)."""
    if not sys.stdin.isatty():
        fail(
            f"refusing to forget {user} without confirmation: stdin is not a terminal; pass --yes to confirm"
        )
    question = (
        f"Erase everything {user} said in workspace {team} from the database and the knowledge store? "
        "This cannot be undone."
    )
    if not typer.confirm(question, default=False):
        fail(f"cancelled: nothing about {user} was erased")


_LABELS = {
    "answer": ("answer", "answers"),
    "statistic": ("statistic", "statistics"),
    "icp": ("ICP version", "ICP versions"),
    "persona": ("persona", "personas"),
}


def reindex(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    """Rebuild the knowledge store from the database (all workspaces unless --workspace is given)."""
    with user_errors():
        settings = cli_settings(ctx)
        from bot.services.knowledge.sync import reindex as rebuild

        engine, knowledge = _open_stores(settings)
        try:
            with counted("Embedding chunks", show=wanted()) as on_progress:
                counts = rebuild(
                    engine=engine, knowledge=knowledge, workspace=workspace, on_progress=on_progress
                )
        finally:
            engine.dispose()
    scope = f"workspace {workspace}" if workspace else _plural(counts["workspaces"], "workspace")
    kinds = ", ".join(_plural(counts.get(kind, 0), *label) for kind, label in _LABELS.items())
    typer.echo(f"Reindexed {scope}: {kinds} ({_plural(counts['chunks'], 'vector')}).")
    if counts.get("orphan_workspaces"):
        typer.echo(
            f"Emptied the vectors of {_plural(counts['orphan_workspaces'], 'workspace')} "
            "that the database does not know."
        )


knowledge_app = typer.Typer(
    name="icp",
    help="Knowledge store maintenance: forget a person, rebuild the vectors from the database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
knowledge_app.command("forget")(forget)
knowledge_app.command("reindex")(reindex)


if __name__ == "__main__":  # pragma: no cover - `python -m bot.cli.knowledge` (a test runs it on a terminal)
    knowledge_app()
