"""``/icp help``: the subcommands, what each does, and examples: built from the registry.

Pure: takes the registered subcommands (anything shaped like ``CommandHelp``), returns
slack_sdk blocks. One section per command
keeps the message well under Slack's 50-block limit for any realistic number of commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.slack.views.blocks_text import escape

SECTION_MAX = 3000
MAX_COMMAND_SECTIONS = 45  # 50 blocks minus header, intro and footer, with room to spare


class CommandHelp(Protocol):
    """What help shows of a subcommand (the registry's ``Subcommand`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def usage(self) -> str: ...
    @property
    def examples(self) -> tuple[str, ...]: ...
    @property
    def owner_only(self) -> bool: ...


def command_line(spec: CommandHelp) -> str:
    """``/icp usage`` — summary, then the examples, as mrkdwn."""
    owner = " _(ICP owners)_" if spec.owner_only else ""
    lines = [f"*`/icp {escape(spec.usage)}`*{owner}\n{escape(spec.summary)}"]
    if spec.examples:
        lines.append("e.g. " + " · ".join(f"`/icp {escape(example)}`" for example in spec.examples))
    return _fit("\n".join(lines))


def help_blocks(specs: Sequence[CommandHelp]) -> list[Block]:
    """The full help: every subcommand with its examples."""
    blocks: list[Block] = [
        HeaderBlock(text="ICP assistant: /icp commands"),
        SectionBlock(
            text=MarkdownTextObject(
                text="I help build and keep our Ideal Customer Profile. Type `/icp &lt;command&gt;`:"
            )
        ),
    ]
    shown = list(specs)[:MAX_COMMAND_SECTIONS]
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=command_line(spec))) for spec in shown)
    footer = "`/icp help &lt;command&gt;` shows one command. You can also DM me a CSV to import it."
    if len(specs) > len(shown):
        footer = f"{len(specs) - len(shown)} more commands not shown. " + footer
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks


def help_text(specs: Sequence[CommandHelp]) -> str:
    """Plain fallback text (notifications, screen readers)."""
    return "ICP assistant commands: " + ", ".join(f"/icp {spec.name}" for spec in specs)


def command_help_blocks(spec: CommandHelp) -> list[Block]:
    """Help for one subcommand."""
    return [SectionBlock(text=MarkdownTextObject(text=command_line(spec)))]


def _fit(text: str) -> str:
    return text if len(text) <= SECTION_MAX else text[: SECTION_MAX - 1] + "…"
