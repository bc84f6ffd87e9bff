"""The review kit message, the /icp remind status line, the tier chart and the App Home line."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.services.home import HomeData, ReminderSummary
from bot.services.reviews.chart import render_tier_chart
from bot.services.reviews.checkins import CheckinRound
from bot.services.reviews.kit import ChurnedAccount, Drift, Miss, ReviewKit, TierFigures
from bot.slack.views.home import home_view
from bot.slack.views.review_kit import (
    MARK_REVIEWED,
    SNOOZE_REVIEW,
    START_REVIEW,
    reminder_status_text,
    review_kit_message,
)
from tests.support.blockkit_checks import all_text, check_blocks

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SINCE = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
THEN = (
    TierFigures("A", "Best match", 12, 8),
    TierFigures("B", "Good fit", 0, 0),
    TierFigures("C", "Not a fit", 4, 16),
)
NOW_TIERS = (
    TierFigures("A", "Best match", 2, 1),
    TierFigures("B", "Good fit", 0, 0),
    TierFigures("C", "Not a fit", 1, 2),
)


def kit(**overrides: object) -> ReviewKit:
    values: dict[str, object] = {
        "team_id": "T1",
        "segment": "default",
        "now": NOW,
        "since": SINCE,
        "icp_version": 3,
        "icp_name": "Software <b>& co",
        "tiers_now": NOW_TIERS,
        "tiers_then": THEN,
        "misses": (Miss("D4", "A4", "Retail <@here>", 5000.0, 0.0),),
        "misses_total": 1,
        "churned": (ChurnedAccount("A6", "Company A6", "A", date(2026, 10, 15)),),
        "churned_total": 1,
        "new_interviews": 2,
        "new_deals": 6,
        "drift": Drift(0.8, 6 / 9, 0.4, 0.5, 40, 6),
    }
    values.update(overrides)
    return ReviewKit(**values)  # type: ignore[arg-type]


def test_the_kit_shows_every_figure_and_three_buttons() -> None:
    message = review_kit_message(kit(), reminder_id=7, next_run_at=NOW + timedelta(days=91))
    blocks = check_blocks(message.blocks)
    text = all_text(blocks)
    assert "ICP v3" in text and "6 closed deal(s), 3 won and 3 lost" in text
    assert "*A* Best match: 2 won, 1 lost, win rate 67% (at approval 60% of 20)" in text
    assert "*C* Not a fit: 1 won, 2 lost, win rate 33% (at approval 20% of 20)" in text
    assert "*Wins outside the ICP* (1)" in text and "Retail &lt;@here&gt;" in text  # escaped
    assert "*ICP accounts that churned* (1)" in text and "Company A6 (tier A) on 2026-10-15" in text
    assert "*New interviews*: 2" in text
    assert "AUC 0.80 at approval (40 deals) → 0.67 on new deals (6)" in text and "less well" in text
    assert "Software &lt;b&gt;&amp; co" in text
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (START_REVIEW, "7"),
        (SNOOZE_REVIEW, "7"),
        (MARK_REVIEWED, "7"),
    ]


def test_many_misses_are_cut_with_a_count() -> None:
    misses = tuple(Miss(f"D{i}", f"A{i}", f"Co {i}", None, 1.0) for i in range(10))
    text = all_text(
        check_blocks(review_kit_message(kit(misses=misses, misses_total=250), reminder_id=1).blocks)
    )
    assert "*Wins outside the ICP* (250)" in text and "…and 240 more" in text


def test_without_an_icp_the_kit_still_reads_well() -> None:
    empty = kit(
        icp_version=None,
        icp_name=None,
        since=None,
        tiers_now=(),
        tiers_then=(),
        misses=(),
        misses_total=0,
        churned=(),
        churned_total=0,
        drift=None,
        new_deals=0,
        new_interviews=0,
    )
    text = all_text(check_blocks(review_kit_message(empty, reminder_id=1).blocks))
    assert "no approved ICP yet" in text and "from all the data so far" in text
    assert "Wins outside" not in text


@settings(max_examples=60, deadline=None)
@given(
    tiers=st.lists(
        st.tuples(st.text(min_size=1, max_size=40), st.integers(0, 10**6), st.integers(0, 10**6)), max_size=8
    ),
    names=st.lists(st.text(max_size=3000), max_size=12),
    total=st.integers(0, 10**6),
)
def test_any_figures_give_valid_block_kit(
    tiers: list[tuple[str, int, int]], names: list[str], total: int
) -> None:
    now = tuple(TierFigures(t, t, w, lost) for t, w, lost in tiers)
    misses = tuple(Miss(str(i), str(i), n, None, 0.0) for i, n in enumerate(names))
    message = review_kit_message(
        kit(tiers_now=now, misses=misses, misses_total=max(total, len(misses))), reminder_id=1
    )
    check_blocks(message.blocks)
    assert message.text


def test_status_text_names_the_target() -> None:
    channel = reminder_status_text(
        cadence="quarterly",
        channel_id="C1",
        next_run_at=NOW,
        timezone="Europe/Berlin",
        enabled=True,
        last_reviewed_at=None,
    )
    assert "quarterly, to <#C1> (Europe/Berlin)" in channel and "No review marked done yet" in channel
    dm = reminder_status_text(
        cadence="weekly",
        channel_id="U1",
        next_run_at=NOW,
        timezone="UTC",
        enabled=True,
        last_reviewed_at=SINCE,
    )
    assert "to <@U1>" in dm and "Last review" in dm
    off = reminder_status_text(
        cadence="weekly",
        channel_id="U1",
        next_run_at=NOW,
        timezone="UTC",
        enabled=False,
        last_reviewed_at=None,
    )
    assert "off" in off


def test_the_chart_is_a_png_with_both_panels() -> None:
    png = render_tier_chart(THEN, NOW_TIERS)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (800, 360)
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 10  # bars, not a blank canvas


def test_home_shows_a_dm_reminder_as_a_person() -> None:
    data = HomeData(now=NOW, next_reminder=ReminderSummary(NOW + timedelta(days=3), "quarterly", "U0OWNER"))
    text = str(home_view(data, is_owner=True).to_dict())
    assert "to <@U0OWNER>" in text and "<#U0OWNER>" not in text


def test_the_kit_counts_this_rounds_check_ins_and_never_shows_answers() -> None:
    before = all_text(check_blocks(review_kit_message(kit(), reminder_id=7).blocks))
    assert "*Check-ins*: none sent yet; Start a review asks each interviewed stakeholder" in before
    answered = all_text(
        check_blocks(
            review_kit_message(kit(checkins=CheckinRound(asked=3, answered=2)), reminder_id=7).blocks
        )
    )
    assert "*Check-ins*: 2 of 3 answered" in answered
