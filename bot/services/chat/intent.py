"""What a chat question asks for: a company's score (answered by the engine) or the data.

Pure and deterministic, so the routing is testable on its own: a question that names a company's
score, tier or fit goes to the scoring engine and is never handed to a model to estimate. The
rest is a data question, answered from retrieved evidence; this module also reads which
attribute (industries, sizes, countries...) and which team (sales, CS...) the question is about,
so retrieval can ask for the matching statistics and interview answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_QUESTION = 1000  # characters kept from a message; a question is never longer
MAX_COMPANY = 120

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_SPACES = re.compile(r"\s+")
_PAIR = re.compile(r"^[A-Za-z_][\w-]*=\S+$")

# "why is Acme tier B", "how does acme.com score", "what tier is Acme in", "score Acme" ...
_COMPANY = r"(?P<q>[^?!]+?)"
_SCORE_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^(?:please\s+)?score\s+{_COMPANY}\s*[?.!]*$",
        rf"\bwhy\s+(?:is|isn'?t|was|wasn'?t)\s+{_COMPANY}\s+(?:(?:in|a|an)\s+)?(?:tier\s+[a-z]\b|[abc]\s+tier\b|rated\b|scored\b|(?:a\s+)?(?:good|bad|poor|strong|weak)?\s*(?:icp\s+)?fit\b|(?:a\s+)?(?:best|good)\s+match\b|(?:in\s+)?(?:our|the)\s+icp\b)",
        rf"\bhow\s+(?:does|did|do|would|will)\s+{_COMPANY}\s+score\b",
        rf"\bwhat(?:'s|\s+is)?\s+(?:the\s+)?(?:icp\s+)?(?:score|tier|fit(?:\s+score)?)\s+(?:of|for)\s+{_COMPANY}\s*[?.!]*$",
        rf"\bwhat\s+(?:tier|score)\s+(?:is|does|did|has|gets?)\s+{_COMPANY}(?:\s+(?:in|get|have|got))?\s*[?.!]*$",
        rf"\bwhich\s+tier\s+is\s+{_COMPANY}(?:\s+in)?\s*[?.!]*$",
        rf"\bis\s+{_COMPANY}\s+(?:a\s+|an\s+)?(?:good\s+|bad\s+|strong\s+)?(?:icp\s+)?(?:fit|match|tier\s+[a-z])\b",
        rf"^{_COMPANY}'s\s+(?:icp\s+)?(?:score|tier|fit)\b",
    )
)
_NOT_A_COMPANY = frozenset(
    {
        "it",
        "this",
        "that",
        "they",
        "we",
        "our icp",
        "the icp",
        "icp",
        "he",
        "she",
        "this account",
        "my account",
    }
)

# Words in a question -> the engine attributes its statistics are keyed by.
ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "industry": ("industry", "industries", "vertical", "verticals", "sector", "sectors"),
    "employees": (
        "size",
        "sizes",
        "employees",
        "employee",
        "headcount",
        "company size",
        "small",
        "large",
        "big",
        "enterprise",
        "mid-market",
        "smb",
    ),
    "annual_revenue": ("revenue", "revenues", "turnover", "arr band"),
    "country": ("country", "countries", "nation", "nations"),
    "region": ("region", "regions", "geo", "geography", "geographies", "market", "markets"),
    "tech_stack": ("tech", "stack", "stacks", "tool", "tools", "technology", "technologies", "crm"),
}
# The statistic documents' attribute names for each (size and revenue also have derived bands).
STAT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "industry": ("industry",),
    "employees": ("employees", "employee_band"),
    "annual_revenue": ("annual_revenue", "revenue_band"),
    "country": ("country",),
    "region": ("region",),
    "tech_stack": ("tech_stack",),
}
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "customer_success": (
        "cs",
        "customer success",
        "csm",
        "csms",
        "account manager",
        "account managers",
        "support",
    ),
    "sales": (
        "sales",
        "salespeople",
        "sales people",
        "ae",
        "aes",
        "reps",
        "sellers",
        "account executives",
        "sdr",
        "sdrs",
    ),
    "marketing": ("marketing", "marketers", "demand gen", "growth team"),
    "product": ("product", "product team", "pm", "pms", "product managers"),
    "leadership": ("leadership", "leaders", "execs", "executives", "founders", "ceo", "cro", "management"),
}
_ICP_WORDS = (
    "icp",
    "criteria",
    "criterion",
    "points",
    "tier",
    "tiers",
    "disqualifier",
    "disqualifiers",
    "persona",
    "personas",
)


_SMALL_TALK = re.compile(
    r"^(?:hi|hey|hello|yo|thanks|thank you|thx|ty|cheers|ok|okay|cool|great|nice|bye|good (?:morning|afternoon|evening)|help|\?)"
    r"(?:\s+(?:there|you|so much|a lot|again|bot|team))*[\s!.?]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SmallTalk:
    """A greeting or a thank-you: answered with how to ask, not with evidence."""

    text: str
    kind: Literal["small_talk"] = "small_talk"


@dataclass(frozen=True)
class ScoreQuestion:
    """A company's score, tier or fit: ``company`` is looked up, or ``pairs`` scored as typed."""

    text: str
    company: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    kind: Literal["score"] = "score"


@dataclass(frozen=True)
class DataQuestion:
    """Anything else: answered from evidence; ``attributes``/``roles`` narrow the retrieval."""

    text: str
    attributes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    about_icp: bool = False
    kind: Literal["data"] = "data"


Question = ScoreQuestion | DataQuestion | SmallTalk


def clean_question(text: str) -> str:
    """The message without mentions of people or the bot, on one line, within ``MAX_QUESTION``."""
    without = _MENTION.sub(" ", text or "")
    return _SPACES.sub(" ", without).strip()[:MAX_QUESTION]


def _words_in(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in words)


def attributes_of(text: str) -> tuple[str, ...]:
    lowered = text.casefold()
    return tuple(attr for attr, words in ATTRIBUTE_WORDS.items() if _words_in(lowered, words))


def roles_of(text: str) -> tuple[str, ...]:
    lowered = text.casefold()
    return tuple(role for role, words in ROLE_WORDS.items() if _words_in(lowered, words))


def _company(raw: str) -> str | None:
    name = raw.strip().strip("\"'`“”‘’*_ ").strip()
    name = re.sub(r"^(?:the\s+)?(?:company|account|customer|prospect)\s+", "", name, flags=re.IGNORECASE)
    if not name or len(name) > MAX_COMPANY or name.casefold() in _NOT_A_COMPANY:
        return None
    return name


def classify(text: str) -> Question:
    """Route a cleaned question: a score question when it names a company (or typed attributes)."""
    question = clean_question(text)
    if not question or _SMALL_TALK.match(question):
        return SmallTalk(text=question)
    words = question.split()
    if len(words) > 1 and words[0].casefold() == "score" and all(_PAIR.match(w) for w in words[1:]):
        pairs = tuple(tuple(w.split("=", 1)) for w in words[1:])
        return ScoreQuestion(text=question, pairs=pairs)  # type: ignore[arg-type]
    for pattern in _SCORE_PATTERNS:
        match = pattern.search(question)
        if match:
            company = _company(match.group("q"))
            if company is not None:
                return ScoreQuestion(text=question, company=company)
    return data_question(question)


def data_question(text: str) -> DataQuestion:
    """``text`` read as a data question (also for a score question whose company is not an account)."""
    question = clean_question(text)
    return DataQuestion(
        text=question,
        attributes=attributes_of(question),
        roles=roles_of(question),
        about_icp=_words_in(question.casefold(), _ICP_WORDS),
    )
