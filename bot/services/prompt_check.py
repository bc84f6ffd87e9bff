"""Every prompt and question file loaded once at start-up, so a bad file stops `icp serve` at once.

Without this a broken customised file (``PROMPTS_DIR``) or a missing packaged one would surface
only when the first person starts an interview or asks for a draft, as an error in Slack.
"""

from __future__ import annotations

from bot.llm.prompts import PromptError, llm_prompt_names, load_prompt
from bot.services.interviews.questions import QuestionSetError, load_all_question_sets

PromptFileError = (PromptError, QuestionSetError)


def check_prompt_files() -> int:
    """How many files loaded; raises ``PromptError``/``QuestionSetError`` naming the first bad file."""
    question_sets = load_all_question_sets()
    prompts = [load_prompt(name) for name in llm_prompt_names()]
    if not prompts:
        raise PromptError("no LLM prompt files found in the installed prompts package")
    return len(question_sets) + len(prompts)
