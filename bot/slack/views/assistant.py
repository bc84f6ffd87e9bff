"""What the assistant thread shows besides answers: the greeting, suggested prompts, its title.

Pure: fixed texts and a title made from the person's question (escaped like every user text).
The prompts are questions the chat already answers (bot/services/chat), so a click is answered
from the evidence or the scoring engine like a typed question.
"""

from __future__ import annotations

from bot.slack.views.blocks_text import escape, truncate

GREETING = (
    "Hi! Ask me about your ICP, personas or data: I answer from the interviews, the CRM data and "
    "the ICP, with sources. A company's score comes from the scoring engine, never from a model."
)
PROMPTS_TITLE = "Try asking"
SUGGESTED_PROMPTS: tuple[dict[str, str], ...] = (
    {"title": "Which industries win most?", "message": "Which industries win most?"},
    {"title": "What do CS people say about churn?", "message": "What do CS people say about churn?"},
    {"title": "What is our ICP?", "message": "What does our approved ICP look like?"},
)
THINKING_STATUS = "is thinking…"
TITLE_MAX = 80


def thread_title(question: str) -> str:
    """The thread's title: the question on one line, escaped and cut to ``TITLE_MAX``."""
    one_line = " ".join(question.split())
    return truncate(escape(one_line), TITLE_MAX) or "Question"
