"""The answers' own words for a model's personas: triggers and quotes, and the buying roles the
model left out.

Why: the model's persona schema asks for goals, challenges and hooks, not for quotes (a model
paraphrases or invents them) nor triggers. The extractive personas of ``buying_roles`` carry both,
each clause attributed to its answer, so a model's persona takes them from the extractive persona
of the same buying role. A role the answers name (the blocker, say) that the model did not write
up joins as its extractive persona, so every role the stakeholders named is there.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.icp.drafting.buying_roles import MAX_PERSONAS, role_personas
from bot.services.icp.drafting.gather import AnswerEvidence
from bot.services.icp.drafting.models import DraftedPersona

FROM_ANSWERS = ("triggers", "quotes")


def with_answer_words(
    personas: Sequence[DraftedPersona], answers: Sequence[AnswerEvidence]
) -> tuple[list[DraftedPersona], list[str]]:
    """The model's personas with their role's triggers and quotes, plus the roles it left out;
    and the names of the personas added (for the draft's notes)."""
    extractive = {p.role: p for p in role_personas(answers) if p.role}
    used: set[str] = set()
    out: list[DraftedPersona] = []
    for persona in personas:
        source = extractive.get(persona.role) if persona.role not in used else None
        if source is None:
            out.append(persona)
            continue
        used.add(persona.role)
        fill = {name: getattr(source, name) for name in FROM_ANSWERS if not getattr(persona, name)}
        out.append(persona.model_copy(update=fill) if fill else persona)
    covered = {p.role for p in out if p.role}
    added = [p for role, p in extractive.items() if role not in covered][: max(0, MAX_PERSONAS - len(out))]
    return out + added, [p.name for p in added]
