"""Who reads a chat answer decides how interviewees are cited.

A careful RevOps lead expects: in a DM, an ICP owner sees verbatim quotes with names (owners run
the research); anyone else, and everyone in a channel (guests and Slack Connect included), gets
the answer with role citations ("a sales stakeholder") and no verbatim quotes. A person who
chose `/icp privacy names on` may be named; their words are still paraphrased. Drafts (ICP
versions not approved yet) are evidence for owners only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.services.chat.evidence import Evidence, Figure
from bot.services.redaction import Words

WITHHELD = "quote not shown here: ICP owners can read it in a DM with me"
QUOTE_WITHHELD = "[quote withheld]"


@dataclass(frozen=True)
class Audience:
    """``private``: a DM with the bot; ``owner``: the asker is an ICP owner."""

    private: bool
    owner: bool

    @property
    def sees_quotes(self) -> bool:
        return self.private and self.owner


FULL = Audience(private=True, owner=True)  # the CLI and other owner-only callers


def role_citation(role: str) -> str:
    return f"a {role} stakeholder" if role else "a stakeholder"


def _cite(ev: Evidence, named: frozenset[str]) -> Evidence:
    if ev.kind != "answer":
        return ev
    who = (
        f"<@{ev.person}>"
        if ev.person and ev.person in named and ev.person.isalnum()
        else role_citation(ev.role)
    )
    source = ev.source.split(" on ", 1)
    topic = f" on {source[1]}" if len(source) == 2 else ""
    return replace(ev, source=f"interview answer by {who}{topic}", text=WITHHELD)


@dataclass(frozen=True)
class Shown:
    """The parts of a chat reply that cite people: evidence, figures and the model's prose."""

    cited: tuple[Evidence, ...]
    figures: tuple[Figure, ...]
    answer: str | None


def present(shown: Shown, audience: Audience, named: frozenset[str]) -> Shown:
    """The reply's parts as ``audience`` may read them (unchanged for an owner in a DM)."""
    if audience.sees_quotes:
        return shown
    hidden = {e.id for e in shown.cited if e.draft} if not audience.owner else set()
    answers = [e for e in shown.cited if e.kind == "answer"]
    cited = tuple(_cite(e, named) for e in shown.cited if e.id not in hidden)
    figures = tuple(f for f in shown.figures if f.evidence_id not in hidden)
    text = shown.answer
    if text is not None:
        for ev in answers:  # the model may quote or name anyone it was shown
            keep_name = bool(ev.person and ev.person in named)
            words = Words.of(answers=[ev.text.rstrip("…")], slack_user_id=ev.person or "-")
            text = words.text(
                text,
                replacement=QUOTE_WITHHELD,
                name_replacement=f"<@{ev.person}>" if keep_name else role_citation(ev.role),
            )
    return Shown(cited=cited, figures=figures, answer=text)
