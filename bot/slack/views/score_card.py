"""The score card (`/icp score`), its "Why?" expansion and the chooser for ambiguous names.

Pure functions from the engine's ScoreResult to Block Kit. The compact card shows the score with
its confidence (and the expected win rate when the ICP is calibrated), and which characteristics
raise or lower it; "Why?" swaps it in place for the expanded card, one line per characteristic
with the account's value, the points it earned and the bin that gave them. An account with too
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
        return WhyRequest(icp_version_id=version, account_id=account, shared_by=user)
    if (
        not isinstance(pairs, dict)
        or not pairs
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs.items())
    ):
        raise ValueError("no account and no attributes")
    return WhyRequest(icp_version_id=version, pairs=pairs, shared_by=user)


def encode_choice(account_id: int, *, share: bool) -> str:
    return _dump({"a": account_id, "s": 1 if share else 0})


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


def _icp_label(result: ScoreResult, icp_status: str, approval: Approval | None = None) -> str:
    """ "Mid-market SaaS v3, approved by <@U1> on 2026-11-30", or "… v4 (draft)"."""
    version = f" v{result.icp_version}" if result.icp_version is not None else ""
    name = f"{escape(result.icp_name)}{version}"
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
    result: ScoreResult, subject: CardSubject, icp_status: str, approval: Approval | None
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
    fields.append(f"*ICP used*\n{_icp_label(result, icp_status, approval)}")
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
) -> list[Block]:
    """The card: at most 50 blocks, every text within Slack's limits.

    With ``why`` (and not ``expanded``) it ends in a "Why?" button; when that button's value
    would be too long the card is built expanded instead, so nothing is lost.
    """
    why_value = encode_why(why) if why is not None and not expanded else None
    if why is not None and why_value is None:
        expanded = True
    blocks: list[Block] = [_header(result, subject), _summary(result, subject, icp_status, approval)]
    disqualified = _disqualified_text(result)
    if disqualified:
        blocks.append(section(disqualified))
    ask_for = _ask_for_text(result)
    if ask_for:
        blocks.append(section(ask_for))
    tail: list[Block] = []
    unknown = _unknown_text(result)
    if unknown:
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
    return CardSubject(title=subject.title, details=details)


def card_blocks(
    outcome: ScoreOutcome, *, expanded: bool = False, shared_by: str | None = None
) -> list[Block]:
    """The card for an outcome; unless expanded, with a Why? button that can redo it."""
    subject = outcome.subject
    why = WhyRequest(
        icp_version_id=outcome.icp.version_id,
        account_id=subject.account_id,
        pairs={} if subject.account_id is not None else dict(subject.inline),
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


def account_chooser(query: str, choices: Sequence[Choice], *, exact: bool, share: bool) -> list[Block]:
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
                    value=encode_choice(choice.account_id, share=share),
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
