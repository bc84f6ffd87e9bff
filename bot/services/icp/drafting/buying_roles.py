"""Personas per buying role, extracted from what each stakeholder said (the offline drafter's).

Every answer is cut into clauses ("The VP of Sales decides, the CFO signs, and IT security can
block us if SSO is missing" → three clauses). A clause that names a job title and says what that
person does in the purchase gives the title a buying role (signs → economic buyer, decides →
decision maker, owns the rollout → champion, uses it → user, can block → blocker) and becomes
one of the persona's quotes. Every other clause goes to at most one persona, the one it is about
(it names the title, or the persona's own words such as "reps" or "SSO"), in the field its
question's topic says (pains → challenges, triggers → triggers, channels → channels…). A clause
that is about nobody stays in the draft's shared lists only. So no sentence is in two personas,
and every statement is cited by the answer it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.services.icp.drafting.evidence import shorten
from bot.services.icp.drafting.gather import AnswerEvidence
from bot.services.icp.drafting.models import BUYING_ROLES, DraftedPersona, Trait

MAX_PERSONAS = 5
BUYERS_TOPIC = "buying_committee"
PER_FIELD = 3
CLAUSE_CHARS = 200

_C_LEVEL = ("ceo", "cfo", "cto", "coo", "cio", "cmo", "cro", "ciso")
_AREAS = (
    "revenue operations",
    "customer success",
    "supply chain",
    "operations",
    "finance",
    "sales",
    "marketing",
    "engineering",
    "it",
    "logistics",
    "procurement",
    "revops",
    "sales ops",
    "security",
    "data",
    "product",
    "growth",
    "compliance",
    "legal",
    "dispatch",
    "people",
    "hr",
)
_AREA = "|".join(re.escape(a) for a in _AREAS)
_TITLE = re.compile(
    rf"\b(?:(?P<c>{'|'.join(_C_LEVEL)})"
    rf"|(?P<rank>vp|vice president|head|director|manager|lead)\s+(?:of\s+)?(?P<area>{_AREA})"
    rf"|(?P<area2>{_AREA})\s+(?P<rank2>manager|lead|director|admin|administrator|team|security)s?"
    r"|(?P<users>(?:sales\s+)?reps|account executives|end users))\b",
    re.IGNORECASE,
)
_CASING = {"it": "IT", "hr": "HR", "revops": "RevOps", "sales ops": "Sales Ops"}

#: The cues that say which role a clause gives the title it names, strongest first.
_ROLE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("blocker", re.compile(r"\b(?:block|blocks|blocked|veto|vetoes|stop|stops|kill|kills)\b", re.I)),
    (
        "economic_buyer",
        re.compile(r"\b(?:signs?|signed|budget|pays?|pay for|approves? (?:the )?spend)\b", re.I),
    ),
    ("decision_maker", re.compile(r"\b(?:decides?|decision|final say|chooses?)\b", re.I)),
    (
        "champion",
        re.compile(
            r"\b(?:owns?|champions?|drives?|leads? the rollout|sponsors?|pushes|rolls? (?:it )?out)\b", re.I
        ),
    ),
    ("user", re.compile(r"\b(?:uses?|using|day to day|every day|daily|works? in)\b", re.I)),
)
_DEPARTMENTS = (
    ("finance", ("cfo", "finance", "financial", "procurement")),
    ("operations", ("coo", "operations", "ops", "logistics", "dispatch")),
    ("engineering / IT", ("cto", "cio", "ciso", "engineering", "it", "security", "technology", "data")),
    ("marketing", ("cmo", "marketing", "growth", "demand")),
    ("sales", ("cro", "sales", "revenue", "revops")),
    ("executive", ("ceo", "founder")),
)
_ROLE_ORDER = tuple(BUYING_ROLES)
#: The role a title has when the answers name it without saying what it does in the purchase.
_DEFAULT_ROLE = {"admin": "champion", "administrator": "champion", "security": "blocker", "users": "user"}

#: Which persona field a clause fills, by its question's topic.
TOPIC_FIELDS = {
    "pains": "challenges",
    "messaging": "message_hooks",  # what lands with buyers is a hook, not their pain
    "value": "goals",
    "strategy": "goals",
    "expansion": "goals",
    "best_customers": "goals",
    "triggers": "triggers",
    "objections": "objections",
    "competitors": "objections",
    "sales_process": "objections",
    "channels": "channels",
}
_HOOK = re.compile(r"\b(?:lands?|landed|resonates?|works? well|pitch|message)\b", re.I)
#: Words that make a clause about a C-level persona without naming it.
_C_WORDS = {
    "CFO": ("finance", "financial", "forecast", "forecasts", "board", "budget", "cost", "costs", "spend"),
    "CRO": ("revenue", "pipeline", "quota"),
    "CEO": ("board", "growth", "strategy"),
    "CTO": ("integration", "api", "engineering", "sso", "security"),
    "CIO": ("integration", "it", "sso", "security"),
    "CISO": ("security", "sso", "compliance"),
    "CMO": ("marketing", "campaign", "campaigns", "brand"),
    "COO": ("operations", "process", "processes"),
}
_AREA_WORDS = {
    "security": ("security", "sso", "compliance", "soc", "gdpr"),
    "it": ("it", "sso", "security", "integration"),
    "revops": ("revops", "rollout", "admin", "salesforce"),
    "sales": ("sales",),
    "finance": ("finance", "financial", "budget", "forecast", "forecasts"),
}
_SENTENCES = re.compile(r"(?<=[.!?;])\s+")
_CLAUSES = re.compile(
    r",\s*(?:and|or|but)\s+|,\s+(?=(?:the|a|an|our|their|if|when|while|it)\b)"
    r"|\s+and\s+(?=(?:the|a|an|our|their)\s)",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"\b(?:if|unless|without|until)\s+(?P<what>.{6,})$", re.IGNORECASE)
_LEAD = re.compile(r"^(?:and|or|but|if|when|while|so)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """A part of one answer that says one thing."""

    text: str
    answer: AnswerEvidence


@dataclass
class _Draft:
    title: str
    role: str
    mentions: int = 0
    quotes: list[Clause] = field(default_factory=list)
    named_in: list[Clause] = field(default_factory=list)
    fields: dict[str, list[Clause]] = field(default_factory=dict)
    words: tuple[str, ...] = ()


_PAIRS = {"'": "'", '"': '"', "“": "”", "‘": "’"}


def _unquoted(text: str) -> str:
    """Without the quotes around the whole clause; a quote that opens a phrase inside it stays
    ("'Forecasts you can trust' lands well" keeps both of its quotes)."""
    while len(text) >= 2 and _PAIRS.get(text[0]) == text[-1] and text[1:-1].count(text[-1]) == 0:
        text = text[1:-1].strip()
    return text


def clauses(answer: AnswerEvidence) -> list[Clause]:
    """The answer cut into clauses, each in the answer's own words."""
    out = []
    for sentence in _SENTENCES.split(answer.text.strip()):
        for part in _CLAUSES.split(sentence):
            text = _LEAD.sub("", _unquoted(part.strip().strip(".;!?,").strip()))
            if len(text.split()) >= 2:
                out.append(Clause(text[0].upper() + text[1:], answer))
    return out


def _title(match: re.Match[str]) -> tuple[str, str]:
    """(title, the rank word that gives a default role: "admin", "security", "users", …)."""
    if match.group("c"):
        return match.group("c").upper(), ""
    if match.group("users"):
        words = match.group("users").casefold()
        return (
            "Account Executives" if "executive" in words else "Sales Reps" if "rep" in words else "End Users"
        ), "users"
    rank = (match.group("rank") or match.group("rank2")).casefold()
    area = " ".join((match.group("area") or match.group("area2")).split()).casefold()
    area_text = _CASING.get(area, area.title())
    if match.group("rank"):
        rank_text = {"vp": "VP", "vice president": "VP"}.get(rank, rank.capitalize())
        return f"{rank_text} of {area_text}", ""
    return f"{area_text} {rank.capitalize()}", rank


def _role_of(text: str) -> str | None:
    for role, cue in _ROLE_CUES:
        if cue.search(text):
            return role
    return None


def _words_of(title: str) -> tuple[str, ...]:
    if title in _C_WORDS:
        return (title.casefold(), *_C_WORDS[title])
    words = tuple(w for w in re.findall(r"[a-z]+", title.casefold()) if w not in ("of", "vp", "head"))
    extra = tuple(x for w in words for x in _AREA_WORDS.get(w, ()))
    return tuple(dict.fromkeys((*words, *extra)))


def _named(clause: Clause) -> list[tuple[str, str]]:
    return [_title(m) for m in _TITLE.finditer(clause.text)]


def _cast(all_clauses: Sequence[Clause]) -> dict[str, _Draft]:
    """The titles the answers name, each with its strongest buying role and the clauses saying so."""
    cast: dict[str, _Draft] = {}
    for clause in all_clauses:
        named = _named(clause)
        cue = _role_of(clause.text)
        for title, rank in named:
            role = cue if cue and len(named) == 1 else _DEFAULT_ROLE.get(rank, "influencer")
            if cue and len(named) > 1 and named[0][0] == title:
                role = cue  # "the VP of Sales sponsors it or the CFO…": the cue is about the subject
            draft = cast.setdefault(title, _Draft(title=title, role=role, words=_words_of(title)))
            draft.mentions += 1
            draft.named_in.append(clause)
            if _ROLE_ORDER.index(role) < _ROLE_ORDER.index(draft.role):
                draft.role = role
            if cue and role == cue and (len(named) == 1 or named[0][0] == title):
                draft.quotes.append(clause)
    return cast


def _about(clause: Clause, drafts: Sequence[_Draft]) -> _Draft | None:
    """The persona a clause is about: the first title it names, else the one whose words it uses most."""
    for title, _ in _named(clause):
        for d in drafts:
            if d.title == title:
                return d
    tokens = re.findall(r"[a-z]+", clause.text.casefold())
    scored = [(sum(tokens.count(w) for w in d.words), -i, d) for i, d in enumerate(drafts)]
    best = max(scored, key=lambda s: (s[0], s[1]), default=None)
    return best[2] if best is not None and best[0] > 0 else None


def _traits(items: Sequence[Clause]) -> list[Trait]:
    return [
        Trait(text=f"“{shorten(c.text, CLAUSE_CHARS)}”", evidence=[c.answer.id]) for c in items[:PER_FIELD]
    ]


def _seniority(title: str) -> str:
    t = title.casefold()
    if title.isupper() and title.casefold() in _C_LEVEL:
        return "C-level"
    if t.startswith("vp"):
        return "VP"
    if t.startswith(("head", "director")):
        return "Director / Head"
    if t.endswith(("reps", "users", "executives")):
        return "Individual contributor"
    return "Manager / Lead"


def _department(title: str) -> str | None:
    words = set(re.findall(r"[a-z]+", title.casefold()))
    for name, keys in _DEPARTMENTS:
        if words & set(keys):
            return name
    return None


def _persona(d: _Draft) -> DraftedPersona:
    quote_ids = list(dict.fromkeys(c.answer.id for c in d.quotes))
    role_ids = quote_ids or list(dict.fromkeys(c.answer.id for items in d.fields.values() for c in items))
    hooks = d.fields.get("message_hooks") or []
    lead = next(
        (
            (opening, items[0])
            for opening, items in (
                ("Open with what hurts", d.fields.get("challenges")),
                ("Open with what they want", d.fields.get("goals")),
                ("Open when", d.fields.get("triggers")),
                ("Start from their words", d.quotes),
            )
            if items
        ),
        None,
    )
    hook_traits = _traits(hooks) or (
        [Trait(text=f"{lead[0]}: “{shorten(lead[1].text, CLAUSE_CHARS)}”", evidence=[lead[1].answer.id])]
        if lead is not None
        else []
    )
    fields = {name: _traits(items) for name, items in d.fields.items() if name != "message_hooks"}
    if d.role == "blocker":  # "…can block us if SSO is missing": what they object to, in their words
        conditions = [
            Trait(text=f"“{shorten(m.group('what'), CLAUSE_CHARS)}”", evidence=[c.answer.id])
            for c in d.quotes
            if (m := _CONDITION.search(c.text))
        ]
        fields["objections"] = [*conditions, *fields.get("objections", [])][:PER_FIELD]
    return DraftedPersona(
        name=d.title,
        titles=[d.title],
        role=d.role,
        seniority=Trait(text=_seniority(d.title), evidence=role_ids[:4]) if role_ids else None,
        department=(
            Trait(text=department, evidence=role_ids[:4])
            if role_ids and (department := _department(d.title))
            else None
        ),
        buying_role=Trait(text=BUYING_ROLES[d.role], evidence=role_ids[:4]) if role_ids else None,
        budget_authority=(
            Trait(text="yes: signs or approves", evidence=quote_ids[:4])
            if d.role == "economic_buyer" and quote_ids
            else None
        ),
        quotes=_traits(d.quotes),
        message_hooks=hook_traits,
        **fields,
    )


def role_personas(answers: Sequence[AnswerEvidence]) -> list[DraftedPersona]:
    """One persona per title the answers give a buying role, each clause in at most one persona."""
    ordered = sorted(answers, key=lambda a: a.answer_id)
    all_clauses = [c for a in ordered for c in clauses(a)]
    cast = _cast(all_clauses)
    ranked = sorted(
        cast.values(), key=lambda d: (d.role == "influencer", _ROLE_ORDER.index(d.role), -d.mentions, d.title)
    )
    # A title named in passing ("their compliance team") is a persona only when it was named as
    # one of the buyers; one whose role the answers say always is.
    chosen = [
        d for d in ranked if d.role != "influencer" or any(c.answer.topic == BUYERS_TOPIC for c in d.named_in)
    ][:MAX_PERSONAS]
    quoted = {id(c) for d in chosen for c in d.quotes}
    for d in chosen:
        if not d.quotes:  # named without a cue ("their reps…"): the first words that name them
            d.quotes = [c for c in d.named_in if id(c) not in quoted][:1]
            quoted.update(id(c) for c in d.quotes)
    for clause in all_clauses:
        if id(clause) in quoted:
            continue
        topic_field = TOPIC_FIELDS.get(clause.answer.topic)
        hook = bool(_HOOK.search(clause.text))
        if topic_field is None and not hook:
            continue
        owner = _about(clause, chosen)
        if owner is not None:
            owner.fields.setdefault("message_hooks" if hook else str(topic_field), []).append(clause)
    return [_persona(d) for d in chosen]


def role_key(text: str) -> str:
    """The :data:`BUYING_ROLES` key a free-text buying role names ("" when it names none), so a
    model's "Economic buyer (signs)" is shown and grouped like the offline drafter's roles."""
    words = " ".join(re.findall(r"[a-z]+", text.casefold()))
    for key, label in BUYING_ROLES.items():
        if label in words or key.replace("_", " ") in words:
            return key
    for key, cue in _ROLE_CUES:
        if cue.search(text):
            return key
    return ""
