"""The App Home tab: the ICP, personas, interview progress, data freshness, the CRM connection
and the review cycle.

Pure: HomeData in, a ``View`` out. ICP owners see the version being worked on (the draft when
there is one) and buttons for the main actions; everyone else sees the approved ICP only, read
only, with who to ask. The ICP is the one page (``icp_page``), in the same structure as `/icp
show` and the export, whenever its document was loaded. Long ICPs are packed into sections and
cut with a note, so the view always stays within Slack's 100 blocks and 3,000 characters per
section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.services.home import HomeData, IcpSummary, ImportSummary, PersonaSummary
from bot.services.icp.export.outline import page
from bot.slack.views.blocks_text import (
    MAX_VIEW_BLOCKS,
    context,
    escape,
    line_sections,
    plural,
    section,
    slack_time,
    truncate,
)
from bot.slack.views.crm_sync import home_crm_blocks
from bot.slack.views.icp_page import page_blocks
from bot.store.models import InterviewState
from icp_engine.model import FALLBACK_TIER, ICP, NO_TIER, Characteristic, format_value
from icp_engine.wording import SCORE_RULE, UNKNOWN_RULE, bins_text, no_tier_rule, target_text

HOME_CALLBACK = "icp_home"
STALE_AFTER_DAYS = 90
BINS_SHOWN = 12  # per characteristic line; the rest are counted ("…and 30 more")

# Owner buttons: action id -> (label, the /icp subcommand it runs).
HOME_ACTIONS: dict[str, tuple[str, str]] = {
    "icp_home_draft": ("Draft ICP", "draft"),
    "icp_home_review": ("Start review", "review"),
    "icp_home_import": ("Import data", "import"),
    "icp_home_status": ("Interview status", "status"),
    "icp_home_remind": ("Reminders", "remind"),
    "icp_home_export": ("Export", "export"),
}
_STATE_ORDER = (
    InterviewState.completed,
    InterviewState.in_progress,
    InterviewState.paused,
    InterviewState.pending,
    InterviewState.abandoned,
)


# --- dates -------------------------------------------------------------------------------------


def ago(moment: datetime, now: datetime) -> str:
    """'today', 'yesterday', '3 days ago', 'in 5 days', '2 months ago'."""
    days = (now.date() - moment.date()).days
    future = days < 0
    days = abs(days)
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow" if future else "yesterday"
    if days < 60:
        span = f"{days} days"
    elif days < 730:
        span = f"{days // 30} months"
    else:
        span = f"{days // 365} years"
    return f"in {span}" if future else f"{span} ago"


def when(moment: datetime, now: datetime) -> str:
    """A date Slack shows in the reader's time zone, and how long ago (or until) it is."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}}|{moment:%Y-%m-%d}> ({ago(moment, now)})"


# --- the ICP -----------------------------------------------------------------------------------


def _status_label(summary: IcpSummary) -> str:
    return summary.status.value.replace("_", " ")


def _icp_title(summary: IcpSummary, now: datetime) -> str:
    name = summary.icp.name if summary.icp is not None else summary.name
    text = f"*{escape(name)}* · v{summary.version} · {_status_label(summary)}"
    if summary.approved_at is not None:
        by = f" by <@{summary.approver}>" if summary.approver and summary.approver.isalnum() else ""
        text += f" {when(summary.approved_at, now)}{by}"
    else:
        text += f" · updated {when(summary.updated_at, now)}"
    return text


def _tiers_text(icp: ICP) -> str:
    parts = [f"{escape(n)} ≥ {format_value(t)} ({escape(icp.tier_label(n))})" for n, t in icp.ordered_tiers()]
    parts.append(f"{FALLBACK_TIER} below ({escape(icp.tier_label(FALLBACK_TIER))})")
    parts.append(f"{NO_TIER} when {no_tier_rule(icp)} ({escape(icp.tier_label(NO_TIER))})")
    rules = f"Points predict the {target_text(icp)}. {UNKNOWN_RULE} {SCORE_RULE}"
    return "*Tiers:* " + " · ".join(parts) + f"\n_{rules}_"


def characteristic_line(ch: Characteristic) -> str:
    """ "• *industry*: fintech +12 · software +11 · retail −8" (long bin lists counted, not cut)."""
    return f"• *{escape(ch.name)}*: {escape(bins_text(ch, max_bins=BINS_SHOWN))}"


def _icp_blocks(summary: IcpSummary, now: datetime, budget: int) -> list[Block]:
    blocks: list[Block] = [section(_icp_title(summary, now))]
    icp = summary.icp
    if icp is None:
        blocks.append(section(f"⚠️ This version cannot be read: {escape(summary.problem or 'invalid')}"))
        return blocks
    if icp.description:
        blocks.append(section(escape(icp.description)))
    blocks.append(section(_tiers_text(icp)))
    criteria = [characteristic_line(ch) for ch in icp.characteristics]
    disqualifiers = [f"• {escape(d.reason)} ({escape(d.condition.describe())})" for d in icp.disqualifiers]
    room = max(2, budget - len(blocks))
    crit_room = max(1, room - (2 if disqualifiers else 0) - 1)
    if criteria:
        heading = f"*Characteristics ({len(criteria)}), points by value*"
        body, left = line_sections(heading, criteria, max_blocks=crit_room)
        blocks += body
        if left:
            blocks.append(context(f"…and {plural(left, 'more characteristic')} not shown here."))
    else:
        blocks.append(section("*Characteristics:* none yet."))
    if disqualifiers:
        body, left = line_sections(f"*Disqualifiers ({len(disqualifiers)})*", disqualifiers, max_blocks=1)
        blocks += body
        if left:
            blocks.append(context(f"…and {plural(left, 'more disqualifier')} not shown here."))
    return blocks


def _personas_blocks(personas: Sequence[PersonaSummary], budget: int) -> list[Block]:
    if not personas:
        return [section("No personas yet: drafting the ICP proposes them.")]
    lines = []
    for p in personas:
        details = ", ".join(escape(d) for d in (p.role, p.seniority, p.buying_role) if d)
        line = f"• *{escape(p.name)}*" + (f" — {details}" if details else "")
        lines.append(line + (f"\n   _Goal:_ {escape(truncate(p.goal, 200))}" if p.goal else ""))
    body, left = line_sections("", lines, max_blocks=max(1, budget - 1))
    if left:
        body.append(context(f"…and {plural(left, 'more persona')} not shown here."))
    return body


# --- the rest ------------------------------------------------------------------------------------


def _interviews_text(data: HomeData) -> str:
    total = sum(data.interviews.values())
    if total == 0:
        return "No interviews yet. Owners start them with `/icp interview @someone`; anyone can `/icp interview me`."
    parts = [
        f"{data.interviews.get(state, 0):,} {state.value.replace('_', ' ')}"
        for state in _STATE_ORDER
        if data.interviews.get(state, 0)
    ]
    return (
        " · ".join(parts) + f" (of {plural(total, 'interview')}, {plural(data.stakeholders, 'stakeholder')})"
    )


def _import_line(run: ImportSummary, now: datetime) -> str:
    text = f"• {run.kind.value}: `{escape(truncate(run.filename, 200))}` {run.status} {when(run.at, now)}"
    if run.status == "succeeded":
        text += f" — {run.rows_added:,} added, {run.rows_updated:,} updated"
        if run.rows_rejected:
            text += f", {run.rows_rejected:,} rejected"
    if run.status == "succeeded" and (now - run.at).days > STALE_AFTER_DAYS:
        text += f" ⚠️ older than {STALE_AFTER_DAYS} days"
    return text


def _data_text(data: HomeData) -> str:
    counts = data.crm_counts
    head = (
        f"{plural(counts.get('accounts', 0), 'account')} · {plural(counts.get('deals', 0), 'deal')} · "
        f"{plural(counts.get('health', 0), 'health record')}"
    )
    if not data.imports:
        return head + "\nNothing imported yet: `/icp import` explains how to load a CRM export."
    return head + "\n*Last imports*\n" + "\n".join(_import_line(run, data.now) for run in data.imports)


def _review_text(data: HomeData) -> str:
    last = f"Last review: {when(data.last_review, data.now)}" if data.last_review else "No review yet"
    reminder = data.next_reminder
    if reminder is None:
        nxt = "no review reminder set (`/icp remind`)"
    else:
        target = reminder.channel_id
        if not target.isalnum():
            channel = ""
        elif target[:1] in ("U", "W"):  # the default reminder DMs an owner
            channel = f" to <@{target}>"
        else:
            channel = f" in <#{target}>"
        nxt = f"next reminder {when(reminder.next_run_at, data.now)}, {reminder.cadence}{channel}"
    return f"{last} · {nxt}"


def _owner_actions() -> ActionsBlock:
    return ActionsBlock(
        block_id="icp_home_actions",
        elements=[
            ButtonElement(text=PlainTextObject(text=label), action_id=action_id, value=sub)
            for action_id, (label, sub) in HOME_ACTIONS.items()
        ],
    )


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text))


def home_view(data: HomeData, *, is_owner: bool, owners_hint: str = "") -> View:
    """The home tab for one person: owners get the working version and buttons; others read."""
    top: list[Block] = [_header("ICP assistant")]
    if is_owner:
        top.append(context("You are an ICP owner: you can draft, approve, import data and set reviews."))
        top.append(_owner_actions())
    else:
        top.append(context(f"Read-only. {owners_hint}".strip()))
    shown = (data.latest or data.approved) if is_owner else data.approved
    # Fixed sections after the ICP: personas header, interviews, data, review and the footer.
    fixed = [
        DividerBlock(),
        _header("Interviews"),
        section(_interviews_text(data)),
        _header("Data loaded"),
        section(_data_text(data)),
        _header("CRM"),
        *home_crm_blocks(data.crm, is_owner=is_owner),
        _header("Review cycle"),
        section(_review_text(data)),
        context(f"Updated {slack_time(data.now)}. Score any company with `/icp score <name or domain>`."),
    ]
    icp_blocks: list[Block] = [DividerBlock()]
    doc = data.documents.get(shown.version_id) if shown is not None else None
    if shown is not None and doc is not None:
        # The one page, in the same structure as `/icp show` and the export.
        if is_owner and data.approved is not None and shown.version_id != data.approved.version_id:
            icp_blocks.append(context(f"Approved version in use for scoring: v{data.approved.version}."))
        icp_blocks.append(section(_icp_title(shown, data.now)))
        budget = MAX_VIEW_BLOCKS - len(top) - len(fixed) - len(icp_blocks)
        one_page = page_blocks(page(doc), max_blocks=budget, title="Current ICP")
        blocks = [*top, DividerBlock(), *one_page[:1], *icp_blocks[1:], *one_page[1:], *fixed]
        return View(type="home", callback_id=HOME_CALLBACK, blocks=blocks[:MAX_VIEW_BLOCKS])
    icp_blocks.append(_header("Current ICP"))
    if shown is None:
        if data.latest is not None and not is_owner:
            text = f"No approved ICP yet: a draft (v{data.latest.version}) is being worked on."
        else:
            text = "No ICP yet. Interview the team, import CRM data, then `/icp draft` one."
        icp_blocks.append(section(text))
    else:
        if is_owner and data.approved is not None and shown.version_id != data.approved.version_id:
            icp_blocks.append(context(f"Approved version in use for scoring: v{data.approved.version}."))
        budget = MAX_VIEW_BLOCKS - len(top) - len(fixed) - len(icp_blocks) - 10
        icp_blocks += _icp_blocks(shown, data.now, budget)
    personas = data.personas.get(shown.version_id, ()) if shown is not None else ()
    persona_blocks: list[Block] = [_header("Personas")]
    budget = MAX_VIEW_BLOCKS - len(top) - len(fixed) - len(icp_blocks) - 1
    persona_blocks += _personas_blocks(personas, budget) if shown is not None else [section("None yet.")]
    blocks = top + icp_blocks + persona_blocks + fixed
    return View(type="home", callback_id=HOME_CALLBACK, blocks=blocks[:MAX_VIEW_BLOCKS])
