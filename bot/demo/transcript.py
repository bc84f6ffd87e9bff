"""The demo's transcript: printed with rich as it happens, and kept as Markdown for ``--out``.

Everything user-controlled goes through ``rich.text.Text`` (never markup), so a button label
like ``[Approve]`` or a company name with brackets prints as written.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

BOT = "ICP bot"


class Transcript:
    """One running transcript: ``section`` / ``note`` / ``said`` / ``bot`` / ``engine``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.markdown: list[str] = []

    def section(self, title: str) -> None:
        self.console.print(Rule(Text(title, style="bold")))
        self.markdown.append(f"\n## {title}\n")

    def note(self, text: str) -> None:
        """The narrator: what the demo is doing (not part of the Slack conversation)."""
        self.console.print(Text(text, style="dim italic"))
        self.markdown.append(f"*{text}*\n")

    def said(self, who: str, text: str, *, where: str) -> None:
        """A person's message, command or click, as they typed or clicked it."""
        line = Text()
        line.append(f"@{who}", style="bold cyan")
        line.append(f" in {where}: ", style="dim")
        line.append(text)
        self.console.print(line)
        self.markdown.append(f"**@{who}** in {where}: `{text}`\n")

    def bot(self, text: str, *, where: str, how: str = "") -> None:
        """A message the bot sent (rendered from its Block Kit)."""
        title = f"{BOT} → {where}" + (f" ({how})" if how else "")
        self.console.print(
            Padding(Panel(Text(text), title=title, title_align="left", expand=False), (0, 0, 0, 2))
        )
        quoted = "\n".join(f"> {line}  " if line else ">" for line in text.splitlines())  # hard breaks
        self.markdown.append(f"{BOT} → {where}{f' ({how})' if how else ''}:\n\n{quoted}\n")

    def engine(self, *renderables: Any) -> None:
        """Tables and cards from the engine: to the terminal, and as fixed-width text in Markdown."""
        record = Console(record=True, width=max(self.console.width, 100), file=io.StringIO())
        for item in renderables:
            self.console.print(item, highlight=False)
            record.print(item, highlight=False)
        self.markdown.append("```text\n" + record.export_text().rstrip() + "\n```\n")

    def text(self) -> str:
        return "# icp demo transcript\n" + "\n".join(self.markdown) + "\n"
