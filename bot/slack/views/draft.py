"""A drafted ICP as a Slack message, its review buttons and modals, and the personas listing.

Pure: a :class:`DraftOutcome` and its :class:`ReviewFacts` in, Block Kit out. The message fits
one screen (at most ``SUMMARY_MAX`` characters of text, fallback included): the ICP in one
sentence with its proof, the tiers, the top characteristics by weight, disqualifiers, persona
names, how many conflicts, hypotheses and citations, how it was drafted, and the buttons
(Approve, Request changes, Edit, Full ICP). The Full ICP modal holds the rest: every
characteristic with its points and evidence ids, hypotheses (0 points), personas, pains, goals,
triggers, the backtest, conflicts and the citations behind the ids. Every part has a block budget,
long lists are packed into sections and what does not fit is counted, so a big draft stays within
Slack's limits. Button values carry only the version id; the listeners re-check everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.services.icp.drafting import DraftedPersona, DraftOutcome, Trait
from bot.services.icp.drafting.statement import draft_statement, top_characteristics
from bot.services.icp.review import MAX_POINTS, NOTE_MAX, DraftEdit, ReviewFacts
from bot.slack.views.blocks_text import (
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    context,
    escape,
    line_sections,
    plural,
    section,
    truncate,
)
from bot.slack.views.icp_card import tiers_line
from bot.store.models import IcpStatus
from icp_engine.model import ICP, Characteristic, Criterion
from icp_engine.wording import (
    UNKNOWN_RULE,
    bins_text,
    characteristic_evidence,
    characteristic_rationale,
    signed_points,
    target_text,
)

DRAFT_APPROVE = "icp_draft_approve"
DRAFT_REQUEST_CHANGES = "icp_draft_request_changes"
DRAFT_EDIT = "icp_draft_edit"
DRAFT_FULL = "icp_draft_full"
FULL_ICP_LABEL = "Full ICP"
FULL_CALLBACK = "icp_draft_full_modal"
DRAFT_ACTIONS_BLOCK = "icp_draft_actions"
EDIT_CALLBACK = "icp_draft_edit_modal"
CHANGES_CALLBACK = "icp_draft_changes_modal"
POINTS_ACTION = "points"
REMOVE_BLOCK = "remove"
REMOVE_ACTION = "remove"
NOTE_BLOCK = "note"
NOTE_ACTION = "note"
CHANGES_BLOCK = "changes"
CHANGES_ACTION = "changes"

MAX_EDITABLE = 90  # criteria + hypotheses in the edit modal (4 more blocks, under 100)
MAX_OPTIONS = 100  # a multi-select's options
OPTION_TEXT_MAX = 75
LABEL_MAX = 2000
MODAL_TITLE_MAX = 24
TRAITS_SHOWN = 5
IDS_SHOWN = 4
BINS_SHOWN = 12  # per characteristic line; the rest are counted ("…and 30 more")
QUOTE_MAX = 220
PERSONA_LINE_MAX = 1400
METADATA_MAX = 3000
SUMMARY_MAX = 2800  # text of the draft post and its fallback: one screen, under 3,000 with a DM's note
SUMMARY_HEADER_MAX = 120
TOP_CHARACTERISTICS = 5
TOP_BINS = 3
DISQUALIFIERS_SHOWN = 3
PERSONAS_NAMED = 5

NO_PERSONAS = (
    "No personas yet. They are drafted together with the ICP from interview answers "
    "(`/icp interview`, then `/icp draft`); `/icp show` shows the ICP itself."
)


# -- small pieces ----------------------------------------------------------------------------------


def _points(points: float) -> str:
    return signed_points(points)


def _ids(ids: Sequence[str]) -> str:
    if not ids:
        return ""
    shown = " ".join(f"`{escape(truncate(i, 80))}`" for i in ids[:IDS_SHOWN])
    more = f" +{len(ids) - IDS_SHOWN}" if len(ids) > IDS_SHOWN else ""
    return f" · {shown}{more}"


def _criterion_line(c: Criterion, *, hypothesis: bool = False) -> str:
    line = f"• *{_points(c.points)}*  {escape(c.describe())}"
    if hypothesis:
        line += " _(hypothesis: the data cannot check it)_"
    if c.rationale:
        line += f" — {escape(truncate(c.rationale, 200))}"
    return line + _ids(c.evidence)


def _characteristic_line(ch: Characteristic) -> str:
    """ "• *industry*: fintech +12 · software +11 · retail −8 — why · `ans:1` `stat:x`"."""
    line = f"• *{escape(ch.name)}*: {escape(bins_text(ch, max_bins=BINS_SHOWN))}"
    why = characteristic_rationale(ch)
    if why:
        line += f" — {escape(truncate(why, 200))}"
    return line + _ids(characteristic_evidence(ch))


def _trait_line(t: Trait) -> str:
    return f"• {escape(t.text)}{_ids(t.evidence)}"


def _listed(
    heading: str, lines: Sequence[str], budget: int, what: str, many: str | None = None
) -> list[Block]:
    """``lines`` under ``heading`` in at most ``budget`` blocks (one kept for the "…and N more")."""
    if not lines:
        return []
    blocks, left = line_sections(heading, lines, max_blocks=max(1, budget - 1))
    out: list[Block] = list(blocks)
    if left:
        out.append(context(f"…and {plural(left, what, many)} not shown here."))
    return out


def _words(values: Sequence[Trait], limit: int = 3) -> str:
    return "; ".join(escape(truncate(t.text, 160)) for t in values[:limit])


def persona_line(p: DraftedPersona) -> str:
    """One persona in a few lines: who they are, then their goals, challenges, objections, hooks."""
    head = f"*{escape(p.name)}*"
    who = [escape(", ".join(p.titles[:3]))] if p.titles else []
    if p.role_label and (p.buying_role is None or p.buying_role.text.casefold() != p.role_label):
        who.append(p.role_label)
    for trait in (p.seniority, p.department, p.buying_role, p.budget_authority):
        if trait is not None:
            who.append(escape(truncate(trait.text, 120)))
    lines = [head + (f" — {' · '.join(who)}" if who else "")]
    for label, values in (
        ("Goals", p.goals),
        ("Challenges", p.challenges),
        ("Triggers", p.triggers),
        ("Motivators", p.motivators),
        ("Objections", p.objections),
        ("Tools", p.tools),
        ("Channels", p.channels),
        ("Hooks", p.message_hooks),
        ("In their words", p.quotes),
    ):
        if values:
            lines.append(f"_{label}:_ {_words(values)}")
    if p.evidence:
        lines.append(f"_Evidence:_{_ids(p.evidence).removeprefix(' ·')}")
    return truncate("\n".join(lines), PERSONA_LINE_MAX)


def _backtest_lines(outcome: DraftOutcome) -> list[str]:
    bt = outcome.backtest
    if bt is None:
        return ["No backtest: there are no closed deals joined to accounts yet."]
    lines = [escape(bt.text())]
    for t in bt.tiers:
        lines.append(
            f"• Tier {escape(t.tier)} ({escape(t.label)}): {t.n:,} deals ({t.share:.0%}), "
            f"{t.wins:,} won, win rate {t.win_rate:.0%}"
        )
    return lines


def _citation_lines(outcome: DraftOutcome) -> list[str]:
    return [
        f"`{escape(truncate(key, 80))}` {escape(truncate(c.source, 120))}: “{escape(truncate(c.quote, QUOTE_MAX))}”"
        for key, c in outcome.citations.items()
    ]


def _status_line(outcome: DraftOutcome, facts: ReviewFacts) -> str:
    parts = [
        f"v{outcome.version}",
        f"segment {escape(outcome.segment)}",
        facts.status.value.replace("_", " "),
    ]
    if facts.author.isalnum() and facts.author != "system":
        parts.append(f"drafted by <@{facts.author}>")
    parts.append(
        f"{plural(outcome.answers_used, 'answer')} from {plural(outcome.stakeholders, 'stakeholder')}"
    )
    return " · ".join(parts)


def _review_lines(outcome: DraftOutcome, facts: ReviewFacts) -> list[str]:
    lines = []
    if facts.status == IcpStatus.approved and facts.approver:
        when = f" on {facts.approved_at:%Y-%m-%d}" if facts.approved_at else ""
        lines.append(
            f"✅ *Approved* by <@{escape(facts.approver)}>{when}: this is the active ICP; scoring uses it."
        )
    elif facts.status == IcpStatus.superseded:
        lines.append("This version was superseded by a newer approved one.")
    if facts.successor is not None:
        lines.append(
            f"✏️ Edited into *v{facts.successor}* (posted in the thread); this version stays as it was."
        )
    for request in facts.change_requests[-3:]:
        lines.append(f"✏️ <@{escape(request.who)}> asked for changes: “{escape(truncate(request.note, 400))}”")
    if len(facts.change_requests) > 3:
        lines.append(f"…and {plural(len(facts.change_requests) - 3, 'earlier request')}.")
    return lines


def _actions(outcome: DraftOutcome, review: bool = True) -> ActionsBlock:
    """Approve, Request changes and Edit while the draft is open for review; Full ICP always."""
    value = str(outcome.version_id)
    full = ButtonElement(text=PlainTextObject(text=FULL_ICP_LABEL), action_id=DRAFT_FULL, value=value)
    if not review:
        return ActionsBlock(block_id=DRAFT_ACTIONS_BLOCK, elements=[full])
    return ActionsBlock(
        block_id=DRAFT_ACTIONS_BLOCK,
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Approve"),
                action_id=DRAFT_APPROVE,
                value=value,
                style="primary",
                confirm=ConfirmObject(
                    title="Approve this ICP?",
                    text=f"v{outcome.version} becomes the active ICP: every score uses it from now on.",
                    confirm="Approve",
                    deny="Cancel",
                ),
            ),
            ButtonElement(
                text=PlainTextObject(text="Request changes"), action_id=DRAFT_REQUEST_CHANGES, value=value
            ),
            ButtonElement(text=PlainTextObject(text="Edit"), action_id=DRAFT_EDIT, value=value),
            full,
        ],
    )


# -- the draft message -----------------------------------------------------------------------------


def draft_text(outcome: DraftOutcome, facts: ReviewFacts) -> str:
    """Fallback text for notifications."""
    state = "approved" if facts.status == IcpStatus.approved else facts.status.value.replace("_", " ")
    return truncate(
        f"ICP v{outcome.version} ({state}): {escape(outcome.icp.name)} — {plural(len(outcome.icp.characteristics), 'characteristic')}, "
        f"{plural(len(outcome.personas), 'persona')} ({outcome.label})",
        FALLBACK_TEXT_MAX,
    )


def _top_characteristics(icp: ICP) -> list[str]:
    return [
        f"• *{escape(ch.name)}*: {escape(bins_text(ch, max_bins=TOP_BINS))}"
        for ch in top_characteristics(icp, TOP_CHARACTERISTICS)
    ]


def _persona_name(p: DraftedPersona) -> str:
    role = p.role_label or (p.buying_role.text if p.buying_role is not None else "")
    return f"*{escape(truncate(p.name, 60))}*" + (f" ({escape(truncate(role, 40))})" if role else "")


def _summary_parts(outcome: DraftOutcome) -> list[tuple[str, int]]:
    """The short post's sections in order, each with the share of the text budget it may use."""
    icp = outcome.icp
    chars = _top_characteristics(icp) or ["_No characteristic is backed by the data yet._"]
    heading = f"*Characteristics ({len(icp.characteristics)})*"
    if len(icp.characteristics) > TOP_CHARACTERISTICS:
        heading += f", the top {TOP_CHARACTERISTICS} by weight"
    parts = [
        (escape(draft_statement(icp, outcome.backtest)), 450),
        (tiers_line(icp), 350),
        ("\n".join([heading, *chars]), 700),
    ]
    if icp.disqualifiers:
        lines = [f"• {escape(d.condition.describe())}" for d in icp.disqualifiers[:DISQUALIFIERS_SHOWN]]
        left = len(icp.disqualifiers) - DISQUALIFIERS_SHOWN
        if left > 0:
            lines.append(f"…and {plural(left, 'more')}")
        parts.append(("\n".join([f"*Disqualifiers ({len(icp.disqualifiers)})*", *lines]), 300))
    if outcome.personas:
        names = " · ".join(_persona_name(p) for p in outcome.personas[:PERSONAS_NAMED])
        left = len(outcome.personas) - PERSONAS_NAMED
        parts.append(
            (
                f"*Personas ({len(outcome.personas)})*: {names}"
                + (f" · …and {left} more" if left > 0 else ""),
                300,
            )
        )
    return parts


def _counts_line(outcome: DraftOutcome) -> str:
    facts = [
        plural(len(outcome.conflicts), "conflict"),
        plural(len(outcome.drafted.hypotheses), "hypothesis", "hypotheses"),
        plural(len(outcome.citations), "citation"),
    ]
    return f"⚠️ {' · '.join(facts)}. Every characteristic with its evidence, the personas, pains, triggers, conflicts and citations: *{FULL_ICP_LABEL}*."


def block_text_chars(blocks: Sequence[Block | Mapping[str, Any]], text: str = "") -> int:
    """How many characters of text a message shows: every ``text`` of every block (confirm
    dialogs and buttons included) plus the fallback ``text``."""
    total = len(text)

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    total += len(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk([b.to_dict() if isinstance(b, Block) else b for b in blocks])
    return total


def draft_blocks(outcome: DraftOutcome, facts: ReviewFacts) -> list[Block]:
    """The draft message, one screen: with its fallback text, at most ``SUMMARY_MAX`` characters of
    text whatever the size of the draft; the details are behind the Full ICP button."""
    icp = outcome.icp
    title = (
        f"ICP draft v{outcome.version}: {icp.name}" if facts.open else f"ICP v{outcome.version}: {icp.name}"
    )
    made = (
        "🗂️ *Drafted without an LLM*" if outcome.offline else f"🤖 Drafted with {escape(outcome.drafted_with)}"
    )
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(title, SUMMARY_HEADER_MAX), emoji=False)),
        context(truncate(f"{made} · {_status_line(outcome, facts)}", 300)),
    ]
    if outcome.notes:
        head.append(context(truncate(" ".join(f"ℹ️ {escape(n)}" for n in outcome.notes), 300)))
    review = _review_lines(outcome, facts)
    tail: list[Block] = [context(_counts_line(outcome))]
    if review:
        tail.append(section(truncate("\n".join(review), 500)))
    tail.append(_actions(outcome, facts.open))
    fixed = block_text_chars([*head, *tail], draft_text(outcome, facts))
    parts = _summary_parts(outcome)
    room = SUMMARY_MAX - fixed
    wanted = sum(share for _, share in parts)
    body: list[Block] = []
    for text, share in parts:
        limit = max(40, room * share // wanted) if room > 0 else 0
        if limit:
            body.append(section(truncate(text, limit)))
    return [*head, *body, *tail]


def full_icp_blocks(
    outcome: DraftOutcome, facts: ReviewFacts, *, max_blocks: int = MAX_VIEW_BLOCKS
) -> list[Block]:
    """Everything the draft says, within ``max_blocks``: every characteristic with its evidence,
    hypotheses, disqualifiers, personas, pains and triggers, the backtest, conflicts, citations."""
    icp = outcome.icp
    made = (
        "🗂️ *Drafted without an LLM*" if outcome.offline else f"🤖 Drafted with {escape(outcome.drafted_with)}"
    )
    top: list[Block] = [context(f"{made} · {_status_line(outcome, facts)}")]
    if outcome.notes:
        top.append(context(*(f"ℹ️ {escape(truncate(n, 600))}" for n in outcome.notes[:5])))
    top.append(section(escape(draft_statement(icp, outcome.backtest))))
    if outcome.narrative or icp.description:
        top.append(section(escape(outcome.narrative or icp.description or "")))
    top.append(section(tiers_line(icp)))
    top.append(context(f"Points predict the {escape(target_text(icp))}. {UNKNOWN_RULE}"))

    characteristics = [_characteristic_line(ch) for ch in icp.characteristics] or [
        "_No characteristic is backed by the data yet._"
    ]
    hypotheses = [_criterion_line(c, hypothesis=True) for c in outcome.drafted.hypotheses]
    disqualifiers = [
        f"• {escape(d.condition.describe())}: {escape(d.reason)}{_ids(d.evidence)}" for d in icp.disqualifiers
    ]
    themes = [
        f"*{label}*\n" + "\n".join(_trait_line(t) for t in traits[:TRAITS_SHOWN])
        for label, traits in (
            ("Pains", outcome.pains),
            ("Goals", outcome.goals),
            ("Buying triggers", outcome.triggers),
            ("Bad-fit signs", outcome.disqualifiers),
        )
        if traits
    ]
    conflicts = [
        f"• *{escape(c.topic)}* ({'with the data' if c.kind == 'data' else 'between stakeholders'}): "
        f"{escape(c.statement)}{_ids(c.evidence)}"
        for c in outcome.conflicts
    ]
    scale = max(1, max_blocks // MAX_MESSAGE_BLOCKS)
    parts: list[tuple[str, list[str], int, str, str | None]] = [
        (
            f"*Characteristics ({len(icp.characteristics)}), points by value*",
            characteristics,
            5 * scale,
            "more characteristic",
            None,
        ),
        (
            f"*Hypotheses ({len(hypotheses)}): 0 points until an owner gives them weight*",
            hypotheses,
            3 * scale,
            "more hypothesis",
            "more hypotheses",
        ),
        (f"*Disqualifiers ({len(disqualifiers)})*", disqualifiers, 2 * scale, "more disqualifier", None),
        (
            f"*Personas ({len(outcome.personas)})*",
            [persona_line(p) for p in outcome.personas],
            7 * scale,
            "more persona",
            None,
        ),
        ("", themes, 3 * scale, "more list", None),
        ("*Backtest*", _backtest_lines(outcome), 2 * scale, "more tier", None),
        (f"*Conflicts ({len(conflicts)})*", conflicts, 3 * scale, "more conflict", None),
        (
            f"*Citations ({len(outcome.citations)})*",
            _citation_lines(outcome),
            6 * scale,
            "more citation",
            None,
        ),
    ]
    body: list[Block] = []
    room = max_blocks - len(top)
    for heading, lines, budget, what, many in parts:
        body += _listed(heading, lines, min(budget, room - len(body)), what, many)
    return (top + body)[:max_blocks]


def full_icp_modal(outcome: DraftOutcome, facts: ReviewFacts) -> View:
    """The Full ICP button's modal: :func:`full_icp_blocks` within a modal's 100 blocks."""
    return View(
        type="modal",
        callback_id=FULL_CALLBACK,
        title=_title(f"ICP v{outcome.version} in full"),
        close=_title("Close"),
        blocks=full_icp_blocks(outcome, facts, max_blocks=MAX_VIEW_BLOCKS),
    )


# -- modals ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModalTarget:
    """Where a modal came from: the version, and the message to update (private_metadata)."""

    version_id: int
    channel: str = ""
    message_ts: str = ""
    criteria: int = 0
    hypotheses: int = 0

    def encode(self) -> str:
        data = {
            "v": self.version_id,
            "c": self.channel,
            "t": self.message_ts,
            "n": self.criteria,
            "h": self.hypotheses,
        }
        text = json.dumps(data, separators=(",", ":"))
        return text if len(text) <= METADATA_MAX else json.dumps({"v": self.version_id})

    @classmethod
    def decode(cls, text: str) -> ModalTarget:
        """ValueError for anything this module did not write."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            raise ValueError("not a modal target") from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("v"), int)
            or isinstance(data.get("v"), bool)
        ):
            raise ValueError("not a modal target")
        channel, ts = data.get("c") or "", data.get("t") or ""
        n, h = data.get("n") or 0, data.get("h") or 0
        if not all(isinstance(x, str) for x in (channel, ts)) or not all(isinstance(x, int) for x in (n, h)):
            raise ValueError("not a modal target")
        if not 0 < data["v"] <= 2**31 - 1:
            raise ValueError("not a modal target")
        return cls(version_id=data["v"], channel=channel, message_ts=ts, criteria=n, hypotheses=h)


def _title(text: str) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, MODAL_TITLE_MAX))


def _points_input(block_id: str, label: str, points: float, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=truncate(label, LABEL_MAX)),
        element=NumberInputElement(
            action_id=POINTS_ACTION,
            is_decimal_allowed=True,
            initial_value=f"{points:g}",
            min_value=f"{-MAX_POINTS:g}",
            max_value=f"{MAX_POINTS:g}",
        ),
        hint=PlainTextObject(text=hint) if hint else None,
    )


def edit_modal(outcome: DraftOutcome, *, channel: str = "", message_ts: str = "") -> View:
    """Change each bin's points, give hypotheses weight, remove bins; saved as a new version."""
    criteria = outcome.icp.criteria[:MAX_EDITABLE]
    hypotheses = outcome.drafted.hypotheses[: MAX_EDITABLE - len(criteria)]
    target = ModalTarget(outcome.version_id, channel, message_ts, len(criteria), len(hypotheses))
    blocks: list[Block] = [
        section(
            f"Change the points of *v{outcome.version}* (between −{MAX_POINTS:g} and {MAX_POINTS:g}): plus "
            "for values that win more than the average account, minus for those that win less; 0 scores "
            f"like the average. Saving stores a new draft version; v{outcome.version} stays as it was."
        )
    ]
    blocks += [_points_input(f"crit_{i}", c.describe(), c.points) for i, c in enumerate(criteria)]
    blocks += [
        _points_input(
            f"hyp_{j}",
            f"Hypothesis: {h.describe()}",
            h.points,
            "The data cannot check it; points make it a criterion.",
        )
        for j, h in enumerate(hypotheses)
    ]
    if criteria:
        blocks.append(
            InputBlock(
                block_id=REMOVE_BLOCK,
                optional=True,
                label=PlainTextObject(text="Remove bins"),
                element=StaticMultiSelectElement(
                    action_id=REMOVE_ACTION,
                    placeholder=PlainTextObject(text="Bins to drop"),
                    options=[
                        Option(
                            value=f"c{i}", text=PlainTextObject(text=truncate(c.describe(), OPTION_TEXT_MAX))
                        )
                        for i, c in enumerate(criteria[:MAX_OPTIONS])
                    ],
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=NOTE_BLOCK,
            optional=True,
            label=PlainTextObject(text="What changed and why"),
            element=PlainTextInputElement(action_id=NOTE_ACTION, multiline=True, max_length=NOTE_MAX),
        )
    )
    left = len(outcome.icp.criteria) + len(outcome.drafted.hypotheses) - len(criteria) - len(hypotheses)
    if left:
        blocks.append(context(f"{plural(left, 'more bin')} cannot be edited here and stay as they are."))
    return View(
        type="modal",
        callback_id=EDIT_CALLBACK,
        title=_title(f"Edit ICP v{outcome.version}"),
        submit=_title("Save new version"),
        close=_title("Cancel"),
        private_metadata=target.encode(),
        blocks=blocks[:MAX_VIEW_BLOCKS],
    )


def changes_modal(outcome: DraftOutcome, *, channel: str = "", message_ts: str = "") -> View:
    """Ask what should change; the note goes to the draft's author."""
    target = ModalTarget(outcome.version_id, channel, message_ts)
    return View(
        type="modal",
        callback_id=CHANGES_CALLBACK,
        title=_title("Request changes"),
        submit=_title("Send"),
        close=_title("Cancel"),
        private_metadata=target.encode(),
        blocks=[
            section(f"What should change in *{escape(truncate(outcome.icp.name, 200))}* v{outcome.version}?"),
            InputBlock(
                block_id=CHANGES_BLOCK,
                label=PlainTextObject(text="Your note to the author"),
                element=PlainTextInputElement(action_id=CHANGES_ACTION, multiline=True, max_length=NOTE_MAX),
            ),
        ],
    )


def _number(raw: Any) -> float | None:
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None


def read_edit(values: Mapping[str, Any], target: ModalTarget) -> DraftEdit | dict[str, str]:
    """The owner's changes from the modal's ``state.values``, or errors by block id (shown in the modal)."""
    errors: dict[str, str] = {}
    points: dict[int, float] = {}
    weights: dict[int, float] = {}
    for prefix, count, into in (("crit", target.criteria, points), ("hyp", target.hypotheses, weights)):
        for i in range(count):
            block = f"{prefix}_{i}"
            raw = ((values.get(block) or {}).get(POINTS_ACTION) or {}).get("value")
            number = _number(raw)
            if number is None or not -MAX_POINTS <= number <= MAX_POINTS:
                errors[block] = f"Give a number of points between −{MAX_POINTS:g} and {MAX_POINTS:g}."
                continue
            into[i] = number
    selected = ((values.get(REMOVE_BLOCK) or {}).get(REMOVE_ACTION) or {}).get("selected_options") or []
    removed = set()
    for option in selected:
        value = str((option or {}).get("value") or "")
        if value.startswith("c") and value[1:].isdigit() and int(value[1:]) < target.criteria:
            removed.add(int(value[1:]))
    note = str(((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or "")
    if errors:
        return errors
    return DraftEdit(points=points, hypothesis_points=weights, removed=frozenset(removed), note=note)


def read_changes(values: Mapping[str, Any]) -> str:
    return str(((values.get(CHANGES_BLOCK) or {}).get(CHANGES_ACTION) or {}).get("value") or "").strip()


# -- personas ------------------------------------------------------------------------------------------


def persona_of(name: str, data: Mapping[str, Any]) -> DraftedPersona:
    """A stored persona as a draft persona, also when it was written by hand (``role``, ``hooks``,
    a single string where drafting writes a list)."""
    fields: dict[str, Any] = {**data, "name": name}
    if not fields.get("titles") and isinstance(fields.get("role"), str) and fields["role"].strip():
        fields["titles"] = [fields["role"]]
    if not fields.get("message_hooks") and fields.get("hooks"):
        fields["message_hooks"] = fields["hooks"]
    for key in ("titles", *DraftedPersona.LIST_FIELDS):
        value = fields.get(key)
        if isinstance(value, str):
            fields[key] = [value]
        elif value is not None and not isinstance(value, list):
            fields[key] = [str(value)]
    for key in DraftedPersona.SCALAR_FIELDS:
        value = fields.get(key)
        if value is not None and not isinstance(value, str):
            fields[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return DraftedPersona.from_store(fields)


def personas_blocks(version: int, status: str, personas: Sequence[DraftedPersona]) -> list[Block]:
    """`/icp personas`: every persona of one version, packed within the message limits."""
    state = status.replace("_", " ")
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=truncate(f"Personas of ICP v{version} ({state})", HEADER_TEXT_MAX))
        )
    ]
    if status != IcpStatus.approved.value:
        blocks.append(context("Not approved yet: these are the draft's personas."))
    blocks += _listed(
        "", [persona_line(p) for p in personas], MAX_MESSAGE_BLOCKS - len(blocks), "more persona"
    )
    return blocks


def personas_text(version: int, count: int) -> str:
    return f"{plural(count, 'persona')} for ICP v{version}"


def notify_author_text(actor: str, version: int, name: str, note: str) -> str:
    return truncate(
        f"<@{actor}> asked for changes to ICP draft v{version} ({escape(name)}): “{escape(note)}”. "
        "Edit it with the Edit button on the draft message, or run `/icp draft` again.",
        FALLBACK_TEXT_MAX,
    )
