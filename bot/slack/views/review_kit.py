"""Block Kit for review reminders: the review kit message and the ``/icp remind`` answers.

Pure functions of the figures (``bot.services.reviews.kit.ReviewKit``) and plain values; the
buttons carry the reminder id as their value and their action ids are the constants below.
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
    SectionBlock,
)

from bot.services.reviews.kit import ChurnedAccount, Drift, Miss, ReviewKit, TierFigures
from bot.services.reviews.proposal import BacktestFigures, Proposal
from bot.slack.views.blocks_text import context, escape, section, truncate
from bot.slack.views.interview import SlackMessage

START_REVIEW = "icp_review_start"
SNOOZE_REVIEW = "icp_review_snooze"
MARK_REVIEWED = "icp_review_done"
REVIEW_ACTIONS = (START_REVIEW, SNOOZE_REVIEW, MARK_REVIEWED)


def date_token(moment: datetime) -> str:
    """A Slack date token: each reader sees it in their own time zone."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _tier_line(now: TierFigures, then: TierFigures | None) -> str:
    was = f" (at approval {percent(then.win_rate)} of {then.n})" if then is not None else ""
    return f"• *{escape(now.tier)}* {escape(now.label)}: {now.won} won, {now.lost} lost, win rate {percent(now.win_rate)}{was}"


def tier_lines(now: Sequence[TierFigures], then: Sequence[TierFigures]) -> list[str]:
    by_then = {t.tier: t for t in then}
    return [_tier_line(t, by_then.get(t.tier)) for t in now]


def _miss_line(miss: Miss) -> str:
    amount = f", {miss.amount:,.0f}" if miss.amount is not None else ""
    return f"• {escape(miss.account_name)} (deal {escape(miss.deal_id)}{amount}, score {miss.score:.0f})"


def _churn_line(account: ChurnedAccount) -> str:
    when = f" on {account.churned_on:%Y-%m-%d}" if account.churned_on else ""
    return f"• {escape(account.account_name)} (tier {escape(account.tier)}){when}"


def _listed(title: str, total: int, lines: list[str], note: str = "") -> SectionBlock:
    """A titled list with its total, the lines shown, and how many more there are."""
    if not total:
        return section(f"{title}: none")
    more = f"\n…and {total - len(lines)} more" if total > len(lines) else ""
    heading = f"{title} ({total})" + (f": {note}" if note else "")
    return section(heading + "\n" + "\n".join(lines) + more)


def drift_text(drift: Drift) -> str:
    """AUC and win rate at approval against now, with the change in AUC."""

    def auc(v: float | None) -> str:
        return "–" if v is None else f"{v:.2f}"

    change = drift.auc_change
    verdict = ""
    if change is not None:
        verdict = (
            " (no drift)"
            if abs(change) < 0.05
            else (" ⬇ the ICP separates wins less well" if change < 0 else " ⬆ separates better")
        )
    return (
        f"*Drift*: AUC {auc(drift.auc_then)} at approval ({drift.n_then} deals) → {auc(drift.auc_now)} "
        f"on new deals ({drift.n_now}){verdict}; win rate {percent(drift.win_rate_then)} → {percent(drift.win_rate_now)}"
    )


def checkins_line(asked: int, answered: int) -> str:
    """This review round's check-ins, counts only: the answers are for owners (decision modal)."""
    if not asked:
        return "*Check-ins*: none sent yet; Start a review asks each interviewed stakeholder two questions"
    return f"*Check-ins*: {answered} of {asked} answered"


NO_REMINDER_NOTE = (
    "No review reminder is set: `/icp remind quarterly #channel` sends this kit on a schedule, "
    "with Snooze and Mark reviewed buttons."
)


def _backtest_words(figures: BacktestFigures) -> str:
    top = (
        f", tier {escape(figures.top_tier)} wins {percent(figures.top_tier_win_rate)}"
        if figures.top_tier_win_rate is not None
        else ""
    )
    return f"AUC {figures.auc:.2f}{top}"


def adoption_text(scores: Sequence[tuple[str, int]], tiers: Sequence[TierFigures], since: str) -> str:
    """Scores run and deals worked, per tier."""
    total = sum(n for _, n in scores)
    per_tier = " · ".join(f"{escape(t)} {n}" for t, n in scores)
    text = f"*Adoption* {since}: {total} score card(s) given" + (f" ({per_tier})" if per_tier else "")
    worked = " · ".join(f"{escape(t.tier)} {t.n}" for t in tiers if t.n)
    return text + (f"; closed deals worked per tier: {worked}" if worked else "; no closed deals")


def proposal_text(proposal: Proposal, version: int | None) -> str:
    """The re-learned proposal: its points diff against the active version and both backtests."""
    active = f"v{version}" if version is not None else "the active ICP"
    lines = [f"*Re-learned proposal* (on every closed deal) vs {active}: {escape(proposal.summary)}"]
    lines += [f"• {escape(truncate(line, 300))}" for line in proposal.changes]
    if proposal.changes_total > len(proposal.changes):
        lines.append(
            f"…and {proposal.changes_total - len(proposal.changes)} more change(s); adopting it (Mark reviewed) drafts it in full"
        )
    lines.append(
        f"Backtest on the same {proposal.active.n} deals: {active} {_backtest_words(proposal.active)} · "
        f"proposal {_backtest_words(proposal.proposed)} (in-sample: learned on these deals)"
    )
    return truncate("\n".join(lines), 2900)


def review_kit_message(
    kit: ReviewKit, *, reminder_id: int | None, next_run_at: datetime | None = None
) -> SlackMessage:
    """The review reminder: figures since the last review, and the three buttons.

    Without a reminder (``/icp review`` before any is set) there is nothing to snooze or mark, so
    the buttons give way to a note saying how to set one."""
    since = f"since {date_token(kit.since)}" if kit.since else "from all the data so far"
    version = (
        f"ICP v{kit.icp_version} ({escape(kit.icp_name or '')})" if kit.icp_version else "no approved ICP yet"
    )
    blocks: list[Block] = [
        HeaderBlock(text=truncate("Time to review your ICP", 150)),
        section(
            f"Here is how {version} did {since}: {kit.new_deals} closed deal(s), {kit.won_now} won and {kit.lost_now} lost."
        ),
    ]
    if kit.icp_problem:
        blocks.append(context(f"The approved ICP no longer validates: {escape(kit.icp_problem)}"))
    if kit.tiers_now:
        blocks.append(section("*Deals per tier*\n" + "\n".join(tier_lines(kit.tiers_now, kit.tiers_then))))
    if kit.icp_version:
        blocks.append(
            _listed(
                "*Wins outside the ICP*",
                kit.misses_total,
                [_miss_line(m) for m in kit.misses],
                "lowest tier, won anyway",
            )
        )
        blocks.append(
            _listed("*ICP accounts that churned*", kit.churned_total, [_churn_line(c) for c in kit.churned])
        )
    blocks.append(section(f"*New interviews*: {kit.new_interviews} completed {since}"))
    blocks.append(section(checkins_line(kit.checkins.asked, kit.checkins.answered)))
    blocks.append(section(adoption_text(kit.scores_run, kit.tiers_now, since)))
    if kit.drift is not None:
        blocks.append(section(drift_text(kit.drift)))
    if kit.proposal is not None:
        blocks.append(section(proposal_text(kit.proposal, kit.icp_version)))
    blocks.append(DividerBlock())
    if reminder_id is None:
        blocks.append(context(NO_REMINDER_NOTE))
    else:
        value = str(reminder_id)
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Start a review", action_id=START_REVIEW, value=value, style="primary"
                    ),
                    ButtonElement(text="Snooze a week", action_id=SNOOZE_REVIEW, value=value),
                    ButtonElement(text="Mark reviewed", action_id=MARK_REVIEWED, value=value),
                ]
            )
        )
    if next_run_at is not None:
        blocks.append(context(f"Next reminder {date_token(next_run_at)} · `/icp remind status`"))
    text = f"Time to review your ICP: {kit.won_now} won, {kit.lost_now} lost {('since the last review' if kit.since else 'so far')}."
    return SlackMessage(text=text, blocks=blocks)


def reminder_status_text(
    *,
    cadence: str,
    channel_id: str,
    next_run_at: datetime,
    timezone: str,
    enabled: bool,
    last_reviewed_at: datetime | None,
) -> str:
    """What ``/icp remind status`` says about a reminder."""
    where = f"<@{channel_id}>" if channel_id[:1] in ("U", "W") else f"<#{channel_id}>"
    last = (
        f" Last review: {date_token(last_reviewed_at)}."
        if last_reviewed_at
        else " No review marked done yet."
    )
    if not enabled:
        return f"Review reminders are off.{last} Turn them on with `/icp remind quarterly #channel`."
    return f"ICP review reminders: {escape(cadence)}, to {where} ({escape(timezone)}). Next: {date_token(next_run_at)}.{last}"
