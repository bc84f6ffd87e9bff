"""The score card (`/icp score`), its "Why?" expansion and the chooser for ambiguous names.

Pure functions from the engine's ScoreResult to Block Kit. The compact card is read in five
seconds: score, tier and ICP version; one line of why (the strongest plus and minus
characteristics); one line per characteristic where the account is not in the best bin (at most
eight, "industry: professional services 0 · best: fintech +12"); the unknown attributes with the
command that adds them; the tier's play and the persona to contact; and, with several approved
segments, how the company scores against the others. "Why?" swaps it in place for the expanded
card, one line per characteristic with the account's value, the points it earned and the bin that
gave them. An account with too
little known data gets tier "?" ("Not enough data") and the attributes to ask for. Button values carry what the click needs to
redo the work (account id or typed attributes, and the ICP version), never more than Slack's
2,000 characters: a card whose attributes would not fit is sent expanded straight away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeGuard

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.views.blocks_text import (
    BUTTON_VALUE_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    MAX_MESSAGE_BLOCKS,
    context,
    escape,
    line_sections,
    mrkdwn,
    plural,
    section,
    truncate,
)
from bot.store.models import DEFAULT_SEGMENT
from icp_engine.card import Gap, attributes_to_ask, gaps
from icp_engine.card import why as strongest
from icp_engine.model import NO_TIER
from icp_engine.scoring import CharacteristicLine, ScoreResult
from icp_engine.wording import SCORE_RULE, UNKNOWN_RULE, signed_points

if TYPE_CHECKING:
    from bot.services.scoring.account_lookup import LookupResult
    from bot.services.scoring.service import ScoreOutcome

WHY_BUTTON = "icp_score_why"
CHOOSE_ACCOUNT = "icp_score_choose"
MAX_CHOICES = 10
LISTING_MAX = 1200  # characters of characteristics per list on the compact card
MAX_GAP_LINES = 8  # characteristics below their best bin shown on the compact card
MAX_OTHER_SEGMENTS = 5

NO_ICP_TEXT = (
    "There is no ICP for this workspace yet, so there is nothing to score against. "
    "Interview your team with `/icp interview @someone`, load CRM data with `/icp import`, "
    "then draft one with `/icp draft`."
)
INLINE_HINT = "`/icp score industry=software employees=500 country=US`"


@dataclass(frozen=True)
class CardSubject:
    """What the card is about: a title and short details (domain, CRM id, typed attributes)."""

    title: str
    details: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # sentences about the input, e.g. how typed values were read


@dataclass(frozen=True)
class Contact:
    """The persona to contact: name, title and buying role, and the message hook to open with."""

    name: str
    role: str | None = None
    buying_role: str | None = None
    hook: str | None = None


@dataclass(frozen=True)
class OtherSegment:
    segment: str
    result: ScoreResult


@dataclass(frozen=True)
class CardGuide:
    """What turns a score into a next step (the compact card shows it; None leaves it out)."""

    gaps: tuple[Gap, ...] = ()
    play: str | None = None
    contact: Contact | None = None
    add_command: str | None = None  # "/icp score acme.com" — the unknown attributes are appended
    add_attributes: tuple[str, ...] = ()  # the attributes the command would add, typed names
    segment: str | None = None  # the segment scored, when the workspace has several
    others: tuple[OtherSegment, ...] = ()
    segment_command: str | None = None  # "/icp score acme.com" — "segment=…" is appended


@dataclass(frozen=True)
class WhyRequest:
    """What a "Why?" click needs: the account, or the typed attributes, and the ICP version."""

    icp_version_id: int | None
    account_id: int | None = None
    pairs: dict[str, str] = field(default_factory=dict)
    shared_by: str | None = None  # who posted the card in the channel, kept when it expands


@dataclass(frozen=True)
class Choice:
    account_id: int
    name: str
    domain: str | None = None
    crm_id: str | None = None


# --- button values -------------------------------------------------------------------------------


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def encode_why(request: WhyRequest) -> str | None:
    """The Why? button value, or None when it would be longer than Slack allows."""
    data: dict[str, Any] = {"v": request.icp_version_id}
    if request.shared_by:
        data["u"] = request.shared_by
    if request.account_id is not None:
        data["a"] = request.account_id
        if request.pairs:  # typed values that fill in the account's unknown ones
            data["p"] = request.pairs
    else:
        data["p"] = request.pairs
    value = _dump(data)
    return value if len(value) <= BUTTON_VALUE_MAX else None


def decode_why(value: str) -> WhyRequest:
    """Read a Why? value back; ValueError for anything this module did not write."""
    data = _load_object(value)
    version, account, pairs, user = data.get("v"), data.get("a"), data.get("p"), data.get("u")
    if version is not None and not _is_id(version):
        raise ValueError("bad ICP version id")
    if user is not None and not _is_user_id(user):
        raise ValueError("bad user id")
    if account is not None:
        if not _is_id(account):
            raise ValueError("bad account id")
        if pairs is not None and not _is_pairs(pairs):
            raise ValueError("bad attributes")
        return WhyRequest(icp_version_id=version, account_id=account, pairs=pairs or {}, shared_by=user)
    if not _is_pairs(pairs) or not pairs:
        raise ValueError("no account and no attributes")
    return WhyRequest(icp_version_id=version, pairs=pairs, shared_by=user)


def _is_pairs(value: object) -> TypeGuard[dict[str, str]]:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def encode_choice(
    account_id: int, *, share: bool, pairs: Mapping[str, str] | None = None, segment: str | None = None
) -> str:
    """The chooser button's value; typed values and a segment come along when they fit."""
    data: dict[str, Any] = {"a": account_id, "s": 1 if share else 0}
    if pairs:
        data["p"] = dict(pairs)
    if segment:
        data["g"] = segment
    value = _dump(data)
    return value if len(value) <= BUTTON_VALUE_MAX else _dump({"a": account_id, "s": 1 if share else 0})


def choice_extras(value: str) -> tuple[dict[str, str], str | None]:
    """The typed values and the segment a chooser button carries; ValueError if malformed."""
    data = _load_object(value)
    pairs, segment = data.get("p") or {}, data.get("g")
    if not _is_pairs(pairs) or (segment is not None and not isinstance(segment, str)):
        raise ValueError("bad choice extras")
    return dict(pairs), segment


def decode_choice(value: str) -> tuple[int, bool]:
    """(account id, share); ValueError for anything this module did not write."""
    data = _load_object(value)
    account = data.get("a")
    if not _is_id(account):
        raise ValueError("bad account id")
    return account, bool(data.get("s"))


def _load_object(value: str) -> dict[str, Any]:
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        raise ValueError("not a JSON object") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _is_user_id(value: object) -> bool:
    """A Slack user id (safe to put in a <@mention>)."""
    return isinstance(value, str) and 0 < len(value) <= 32 and value.isascii() and value.isalnum()


MAX_ROW_ID = 2**31 - 1  # SQL INTEGER keys: a bigger forged id must not reach the database


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


# --- the card ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    """Who approved the ICP version a score used, and when (the card names them)."""

    approver: str | None
    approved_on: date | None


def _icp_label(
    result: ScoreResult, icp_status: str, approval: Approval | None = None, segment: str | None = None
) -> str:
    """ "Mid-market SaaS v3, approved by <@U1> on 2026-11-30", or "… v4 (draft)"."""
    version = f" v{result.icp_version}" if result.icp_version is not None else ""
    name = f"{escape(result.icp_name)}{version}"
    if segment:
        name += f" (segment {escape(segment)})"
    if icp_status == "approved" and approval is not None and approval.approved_on is not None:
        who = f"<@{approval.approver}>" if _is_user_id(approval.approver) else escape(approval.approver or "")
        return f"{name}, approved by {who or 'an owner'} on {approval.approved_on:%Y-%m-%d}"
    return f"{name} ({escape(icp_status.replace('_', ' '))})"


def _tier_words(result: ScoreResult) -> str:
    """ "Tier A", or "Not enough data" for the tier that says too little is known."""
    return "Not enough data" if result.tier == NO_TIER else f"Tier {result.tier}"


def _header(result: ScoreResult, subject: CardSubject) -> HeaderBlock:
    tail = f": {result.score:g}/100 · {_tier_words(result)}"
    title = truncate(subject.title or "Account", HEADER_TEXT_MAX - len(tail))
    return HeaderBlock(text=PlainTextObject(text=truncate(title + tail, HEADER_TEXT_MAX), emoji=False))


def _summary(
    result: ScoreResult,
    subject: CardSubject,
    icp_status: str,
    approval: Approval | None,
    segment: str | None = None,
) -> SectionBlock:
    if result.tier == NO_TIER:
        tier = f"*Tier*\n{escape(result.tier_label)}"  # "?" itself tells a reader nothing
    else:
        tier = f"*Tier*\n{escape(result.tier)} — {escape(result.tier_label)}"
    fields = [
        f"*Score*\n{result.score:g}/100 · confidence {result.confidence:.0%}",
        tier,
    ]
    if result.win_probability is not None:
        fields.append(f"*Win probability*\n{result.win_probability:.0%}")
    fields.append(f"*ICP used*\n{_icp_label(result, icp_status, approval, segment)}")
    if subject.details:
        fields.append("*About*\n" + " · ".join(escape(d) for d in subject.details))
    return SectionBlock(fields=[mrkdwn(f, FIELD_TEXT_MAX) for f in fields])


def _ask_for_text(result: ScoreResult) -> str | None:
    """Tier "?": which attributes to find out, the heaviest first."""
    if result.tier != NO_TIER:
        return None
    if not result.ask_for:
        return f"❔ *Not enough data for a tier* (confidence {result.confidence:.0%})."
    asks = _listing([escape(a) for a in result.ask_for], LISTING_MAX, ", ")
    return (
        f"❔ *Not enough data for a tier* (confidence {result.confidence:.0%}). "
        f"Find out: {asks} (the most important first)."
    )


def _disqualified_text(result: ScoreResult) -> str | None:
    if not result.disqualifiers:
        return None
    hits = [
        f"{escape(hit.reason)} ({escape(hit.condition)}: {escape(hit.value)})" for hit in result.disqualifiers
    ]
    return (
        f"⛔ *Disqualified:* {_listing(hits, LISTING_MAX)}\n"
        f"Fit points alone would have given {result.fit_score:g}/100."
    )


def _listing(items: Sequence[str], budget: int, sep: str = "; ") -> str:
    """Items joined with ``sep`` up to about ``budget`` characters, then how many were left out."""
    shown: list[str] = []
    used = 0
    for item in items:
        if shown and used + len(item) > budget:
            break
        shown.append(truncate(item, budget))
        used += len(shown[-1]) + len(sep)
    text = sep.join(shown)
    if len(shown) < len(items):
        text += f"{sep}…and {len(items) - len(shown):,} more"
    return text


def _characteristic_value(line: CharacteristicLine) -> str:
    """ "industry: software (+25)", escaped."""
    return f"{escape(line.name)}: {escape(line.value)} ({signed_points(line.points)})"


def why_line(result: ScoreResult) -> str:
    """ "*Why:* ✓ industry: software (+25) · ✗ employees: 20 (−10)", escaped."""
    found = strongest(result)
    parts = []
    if found.plus is not None:
        parts.append(f"✓ {_characteristic_value(found.plus)}")
    if found.minus is not None:
        parts.append(f"✗ {_characteristic_value(found.minus)}")
    if not parts:
        return "*Why:* nothing known about it raises or lowers the score."
    return "*Why:* " + " · ".join(parts)


def gap_line(gap: Gap) -> str:
    """ "industry: professional services 0 · best: fintech +12", escaped."""
    return (
        f"{escape(gap.name)}: {escape(truncate(gap.value, 200))} {signed_points(gap.points)} · "
        f"best: {escape(truncate(gap.best, 200))} {signed_points(gap.best_points)}"
    )


def gap_lines(all_gaps: Sequence[Gap]) -> list[str]:
    """At most eight lines, the most points lost first, and how many more there are."""
    if not all_gaps:
        return []
    lines = [f"*Below the best ({len(all_gaps)}):*"]
    lines += [gap_line(g) for g in all_gaps[:MAX_GAP_LINES]]
    if len(all_gaps) > MAX_GAP_LINES:
        lines.append(f"…and {len(all_gaps) - MAX_GAP_LINES} more: press Why? for every line")
    return lines


def add_line(result: ScoreResult, guide: CardGuide) -> str | None:
    """The unknown attributes, and the command that scores again with them."""
    names = guide.add_attributes or tuple(result.unknown)
    if not names:
        return None
    listed = _listing([escape(a) for a in names], 600, ", ")
    if not guide.add_command:
        return f"*Unknown:* {listed} — {UNKNOWN_RULE}"
    typed = " ".join(f"{'_'.join(a.split())}=…" for a in names[:6])
    command = truncate(f"{guide.add_command} {typed}", 700).replace("`", "'")
    return f"*Unknown:* {listed} — add them: `{escape(command)}`"


def contact_line(contact: Contact) -> str:
    about = ", ".join(escape(x) for x in (contact.role, contact.buying_role) if x and x != contact.name)
    text = f"*Contact:* {escape(truncate(contact.name, 150))}"
    if about:
        text += f" ({truncate(about, 300)})"
    if contact.hook:
        text += f" — open with: {escape(truncate(contact.hook, 300))}"
    return text


def others_line(guide: CardGuide) -> str | None:
    if not guide.others:
        return None
    shown = [
        f"{escape(o.segment)} {o.result.score:g}/100 · {escape(_tier_words(o.result))}"
        for o in guide.others[:MAX_OTHER_SEGMENTS]
    ]
    text = f"*Best fit: segment {escape(guide.segment or '')}.* Other segments: " + "; ".join(shown)
    if len(guide.others) > MAX_OTHER_SEGMENTS:
        text += f"; …and {len(guide.others) - MAX_OTHER_SEGMENTS} more"
    if guide.segment_command:
        example = escape(f"{guide.segment_command} segment={guide.others[0].segment}".replace("`", "'"))
        text += f". One segment: `{truncate(example, 500)}`"
    return text


def guide_lines(result: ScoreResult, guide: CardGuide) -> list[str]:
    """The five-second card's body: why, the gaps, what is unknown, the play, who to contact."""
    lines = [why_line(result), *gap_lines(guide.gaps)]
    added = add_line(result, guide)
    if added:
        lines.append(added)
    if guide.play:
        lines.append(f"*Play ({escape(_tier_words(result))}):* {escape(guide.play)}")
    if guide.contact is not None:
        lines.append(contact_line(guide.contact))
    others = others_line(guide)
    if others:
        lines.append(others)
    return lines


def _compact_lines(result: ScoreResult) -> list[str]:
    """Which characteristics raise the score and which lower it, the strongest first."""
    known = [line for line in result.characteristics if line.status != "unknown"]
    raising = sorted((ln for ln in known if ln.points > 0), key=lambda ln: -ln.points)
    lowering = sorted((ln for ln in known if ln.points < 0), key=lambda ln: ln.points)
    average = [ln for ln in known if ln.points == 0]
    out: list[str] = []
    for title, lines in (
        ("Raises the score", raising),
        ("Lowers the score", lowering),
        ("Like the average account", average),
    ):
        if lines:
            items = [_characteristic_value(ln) for ln in lines]
            out.append(f"*{title} ({len(items)}):* " + _listing(items, LISTING_MAX))
    if not result.characteristics:
        out.append("This ICP has no characteristics yet.")
    return out


_MARKS = {"up": "✓", "down": "✗", "even": "○", "unknown": "?"}


def _expanded_line(line: CharacteristicLine) -> str:
    """ "✓ industry: software (+25) — industry in software, fintech  _evidence: ans:41_"."""
    if line.status == "unknown":
        return (
            f"{_MARKS['unknown']} {escape(line.name)}: unknown (0) — scores like an average account; "
            f"worth up to ±{signed_points(line.weight).lstrip('+')}"
        )
    mark = _MARKS["up" if line.points > 0 else "down" if line.points < 0 else "even"]
    why = "; ".join(line.matched) if line.matched else "like the average account"
    text = f"{mark} {_characteristic_value(line)} — {escape(why)}"
    if line.evidence:
        text += f"  _evidence: {escape(', '.join(dict.fromkeys(line.evidence)))}_"
    return text


def _expanded_lines(result: ScoreResult) -> list[str]:
    return [_expanded_line(line) for line in result.characteristics]


def _unknown_text(result: ScoreResult) -> str | None:
    if not result.unknown:
        return None
    return (
        f"*Unknown data:* {_listing([escape(a) for a in result.unknown], LISTING_MAX, ', ')} — {UNKNOWN_RULE}"
    )


def _why_heading(result: ScoreResult) -> str:
    """How the points became the score, in one paragraph."""
    best = signed_points(result.achievable)
    return (
        f"*Why {result.score:g}:* {signed_points(result.earned)} points in total "
        f"(the best possible is {best}). {SCORE_RULE}"
    )


def score_card(
    result: ScoreResult,
    *,
    subject: CardSubject,
    icp_status: str,
    why: WhyRequest | None = None,
    expanded: bool = False,
    shared_by: str | None = None,
    approval: Approval | None = None,
    guide: CardGuide | None = None,
) -> list[Block]:
    """The card: at most 50 blocks, every text within Slack's limits.

    With ``guide`` the compact card is the five-second card (why, gaps, unknowns with the command
    that adds them, play, contact, other segments); without it, the characteristics by sign.

    With ``why`` (and not ``expanded``) it ends in a "Why?" button; when that button's value
    would be too long the card is built expanded instead, so nothing is lost.
    """
    why_value = encode_why(why) if why is not None and not expanded else None
    if why is not None and why_value is None:
        expanded = True
    segment = guide.segment if guide is not None else None
    blocks: list[Block] = [_header(result, subject), _summary(result, subject, icp_status, approval, segment)]
    disqualified = _disqualified_text(result)
    if disqualified:
        blocks.append(section(disqualified))
    ask_for = _ask_for_text(result)
    if ask_for:
        blocks.append(section(ask_for))
    tail: list[Block] = []
    unknown = _unknown_text(result)
    if unknown and (expanded or guide is None):
        tail.append(section(unknown))
    if expanded and result.unchecked_disqualifiers:
        unchecked = _listing([escape(t) for t in result.unchecked_disqualifiers], LISTING_MAX)
        tail.append(section(f"? *Could not check (data unknown):* {unchecked}"))
    notes = [escape(n) for n in subject.notes]
    if shared_by and _is_user_id(shared_by):
        notes.insert(0, f"Shared by <@{shared_by}>")
    if icp_status != "approved":
        notes.append("No approved ICP yet: this score uses the latest draft, which may still change.")
    if notes:
        tail.append(context(*notes))
    if why_value is not None:
        button = ButtonElement(text=PlainTextObject(text="Why?"), action_id=WHY_BUTTON, value=why_value)
        tail.append(ActionsBlock(block_id="icp_score_actions", elements=[button]))
    room = MAX_MESSAGE_BLOCKS - len(blocks) - len(tail) - 1  # one block kept for a "not shown" note
    if expanded:
        body, left_out = line_sections(_why_heading(result), _expanded_lines(result), max_blocks=room)
    elif guide is not None:
        body, left_out = line_sections("", guide_lines(result, guide), max_blocks=room, line_max=LISTING_MAX)
    else:
        body, left_out = line_sections(
            "", _compact_lines(result), max_blocks=room, line_max=LISTING_MAX + 200
        )
    blocks += body
    if left_out:
        blocks.append(
            context(f"…and {plural(left_out, 'more line')} not shown: Slack limits a message's length.")
        )
    return blocks + tail


def score_card_text(result: ScoreResult, subject: CardSubject) -> str:
    """The notification text that goes with the blocks."""
    if result.tier == NO_TIER:
        tier = f"not enough data for a tier (confidence {result.confidence:.0%})"
    else:
        tier = f"tier {escape(result.tier)} ({escape(result.tier_label)})"
    text = f"{escape(subject.title or 'Account')}: {result.score:g}/100, {tier}"
    return truncate(text, FALLBACK_TEXT_MAX)


# --- a scoring outcome as a card -----------------------------------------------------------------


def card_subject(outcome: ScoreOutcome) -> CardSubject:
    """The card's title and details for what was scored (an account, or typed attributes)."""
    subject = outcome.subject
    if subject.kind == "inline":
        details = tuple(f"{k}={v}" for k, v in subject.inline.items())
        return CardSubject(title=subject.title, details=details, notes=subject.notes)
    details = tuple(d for d in (subject.domain, f"CRM id {subject.crm_id}" if subject.crm_id else None) if d)
    details += tuple(f"{k}={v}" for k, v in subject.inline.items())
    return CardSubject(title=subject.title, details=details, notes=subject.notes)


def _quoted(word: str) -> str:
    return f'"{word}"' if any(ch.isspace() for ch in word) else word


def score_command_of(outcome: ScoreOutcome) -> str:
    """The `/icp score …` that scores the same thing again (the card appends to it)."""
    subject = outcome.subject
    words = []
    if subject.kind == "account":
        words.append(_quoted(subject.domain or subject.title or subject.crm_id or ""))
    words += [_quoted(f"{k}={v}") for k, v in subject.inline.items()]
    return " ".join(["/icp score", *words])


def pick_contact(personas: Sequence[Any]) -> Contact | None:
    """The persona to contact: the one who decides (economic buyer) if drafted, else the champion,
    else the first; None without personas."""
    if not personas:
        return None

    def rank(p: Any) -> int:
        role = f"{p.buying_role or ''} {p.role or ''}".casefold()
        if "economic" in role or "decid" in role or "decision" in role:
            return 0
        return 1 if "champion" in role else 2

    best = min(personas, key=rank)
    return Contact(name=best.name, role=best.role, buying_role=best.buying_role, hook=best.hook)


def card_guide(outcome: ScoreOutcome) -> CardGuide:
    """The next-step parts of the five-second card, from a scoring outcome."""
    result, command = outcome.result, score_command_of(outcome)
    several = bool(outcome.others) or outcome.icp.segment != DEFAULT_SEGMENT
    return CardGuide(
        gaps=tuple(gaps(result, outcome.icp.icp)),
        play=outcome.icp.play(result.tier),
        contact=pick_contact(outcome.personas),
        add_command=command,
        add_attributes=tuple(attributes_to_ask(result)),
        segment=outcome.icp.segment if several else None,
        others=tuple(OtherSegment(o.icp.segment, o.result) for o in outcome.others),
        segment_command=command,
    )


def card_blocks(
    outcome: ScoreOutcome, *, expanded: bool = False, shared_by: str | None = None
) -> list[Block]:
    """The card for an outcome; unless expanded, with a Why? button that can redo it."""
    subject = outcome.subject
    why = WhyRequest(
        icp_version_id=outcome.icp.version_id,
        account_id=subject.account_id,
        pairs=dict(subject.inline),
        shared_by=shared_by,
    )
    return score_card(
        outcome.result,
        subject=card_subject(outcome),
        icp_status=outcome.icp.status.value,
        why=why,
        expanded=expanded,
        shared_by=shared_by,
        approval=Approval(
            approver=outcome.icp.approver,
            approved_on=outcome.icp.approved_at.date() if outcome.icp.approved_at else None,
        ),
        guide=card_guide(outcome),
    )


def outcome_text(outcome: ScoreOutcome) -> str:
    """The notification text of an outcome's card."""
    return score_card_text(outcome.result, card_subject(outcome))


# --- lookup answers ------------------------------------------------------------------------------


def choices_of(found: LookupResult) -> list[Choice]:
    """The chooser's buttons for the candidates of an ambiguous lookup."""
    return [
        Choice(account_id=c.account.id, name=c.account.name, domain=c.account.domain, crm_id=c.account.crm_id)
        for c in found.candidates
    ]


def account_chooser(
    query: str,
    choices: Sequence[Choice],
    *,
    exact: bool,
    share: bool,
    pairs: Mapping[str, str] | None = None,
    segment: str | None = None,
) -> list[Block]:
    """Ask which account was meant: one section with a button per candidate."""
    q = escape(truncate(" ".join(query.split()), 200))
    if exact:
        intro = f"Several accounts match *{q}*. Which one should I score?"
    else:
        intro = f"No account matches *{q}* exactly. Did you mean one of these?"
    blocks: list[Block] = [section(intro)]
    for i, choice in enumerate(choices[:MAX_CHOICES]):
        details = [d for d in (choice.domain, f"CRM id {choice.crm_id}" if choice.crm_id else None) if d]
        text = f"*{escape(truncate(choice.name or '(no name)', 300))}*"
        if details:
            text += "\n" + escape(truncate(" · ".join(details), 600))
        blocks.append(
            SectionBlock(
                block_id=f"icp_choice_{i}",
                text=MarkdownTextObject(text=text),
                accessory=ButtonElement(
                    text=PlainTextObject(text="Score this one"),
                    action_id=CHOOSE_ACCOUNT,
                    value=encode_choice(choice.account_id, share=share, pairs=pairs, segment=segment),
                ),
            )
        )
    blocks.append(DividerBlock())
    blocks.append(context(f"Not listed? Try the company's domain, or give its attributes: {INLINE_HINT}"))
    return blocks


def chooser_text(query: str) -> str:
    q = escape(truncate(" ".join(query.split()), 200))
    return f"Which account did you mean by “{q}”?"


def not_found_text(query: str, searched: int) -> str:
    q = escape(truncate(" ".join(query.split()), 200))
    if searched == 0:
        return (
            "No accounts are loaded for this workspace yet, so I cannot look companies up. "
            f"Load a CRM export with `/icp import`, or score attributes directly: {INLINE_HINT}"
        )
    return (
        f"I found no account matching “{q}” among {plural(searched, 'account')}. "
        f"Try the company's domain (e.g. acme.com), or score attributes directly: {INLINE_HINT}"
    )
