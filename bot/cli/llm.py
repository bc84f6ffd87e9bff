"""``icp llm status``: which language model the settings select, and (``--check``) whether it answers.

Prints the provider, model and URL, never the key (only whether one is set). ``--check`` sends
one tiny prompt through the same client the bot uses, so a wrong URL, key or model shows up here
as the same one-line reason a user would see, with exit code 1.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer

from bot.cli.errors import fail, user_errors
from bot.cli.options import JsonOpt
from bot.cli.state import cli_settings

llm_app = typer.Typer(help="The language model the assistant drafts and chats with.", no_args_is_help=True)


@llm_app.command("status")
def status(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check", help="Also send one tiny prompt and report the answer time.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show the configured provider, model and limits; with --check, whether a call works."""
    # Imported here: the LLM clients (langchain) are slow to load and `icp --help` needs none.
    from langchain_core.messages import HumanMessage

    from bot.llm.client import LlmUnavailable
    from bot.llm.factory import build_llm, resolve_target

    with user_errors():
        settings = cli_settings(ctx)
        target = resolve_target(settings)
        report: dict[str, Any] = {
            "provider": target.provider,
            "model": target.model,
            "base_url": target.base_url,
            "api_key_set": target.has_key,
            "prompt_token_budget": settings.llm_prompt_token_budget,
            "timeout_seconds": settings.llm_timeout_seconds,
            "deadline_seconds": settings.llm_deadline_seconds,
            "max_retries": settings.llm_max_retries,
        }
        failure = None
        if check and target.provider != "offline":
            client = build_llm(settings)
            assert client is not None
            started = time.monotonic()
            try:
                client.text([HumanMessage("Reply with the single word OK.")], max_output_tokens=8)
                report["check"] = {"ok": True, "seconds": round(time.monotonic() - started, 2)}
            except LlmUnavailable as exc:
                failure = exc.reason
                report["check"] = {"ok": False, "reason": exc.reason}
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(f"LLM: {target.describe()}")
        if target.provider != "offline":
            typer.echo(f"API key: {'set' if target.has_key else 'not set'}")
        typer.echo(
            f"limits: {report['prompt_token_budget']} prompt tokens per call, "
            f"{report['timeout_seconds']:g}s per attempt, {report['deadline_seconds']:g}s per call, "
            f"{report['max_retries']} retries"
        )
        if "check" in report and failure is None:
            typer.echo(f"check: answered in {report['check']['seconds']:g}s")
    if failure is not None:
        fail(f"check failed: {failure}")
