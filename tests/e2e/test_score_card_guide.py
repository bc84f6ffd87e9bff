"""The five-second score card over signed HTTP: why, gaps below the best bin, unknowns with the
command that adds them, the tier's play, the persona to contact, and scoring against several
approved segments (the best fit first; ``segment=NAME`` picks one)."""

from __future__ import annotations

from typing import Any

from bot.slack.views.score_card import CHOOSE_ACCOUNT, WHY_BUTTON, decode_why
from bot.store.db import session_scope
from bot.store.models import IcpStatus, IcpVersionCreate, PersonaCreate
from bot.store.repo.icp import create_icp_draft, replace_personas, set_icp_status
from bot.store.repo.workspaces import get_or_create_workspace
from tests.support.harness import ADMIN_ID, SlackEnv, assert_valid_blocks
from tests.support.score_world import seed

EMEA_ICP: dict[str, Any] = {
    "name": "EMEA retail",
    "criteria": [
        {"attribute": "industry", "op": "in", "values": ["retail"], "points": 30},
        {"attribute": "country", "op": "in", "values": ["DE", "FR"], "points": 20},
    ],
}


def add_segment(env: SlackEnv, segment: str, doc: dict[str, Any], personas: list[PersonaCreate]) -> None:
    with session_scope(env.engine) as session:
        wid = get_or_create_workspace(session=session, slack_team_id=env.driver.team_id).id
        assert wid is not None
        row = create_icp_draft(
            session=session,
            workspace_id=wid,
            data=IcpVersionCreate(
                segment=segment,
                name="v1",
                icp_json=doc,
                author=ADMIN_ID,
                draft_json={"plays": {"A": "Field rep visits the <store> & demos"}},
            ),
        )
        assert row.id is not None
        replace_personas(session=session, workspace_id=wid, icp_version_id=row.id, personas=personas)
        set_icp_status(
            session=session, workspace_id=wid, version_id=row.id, status=IcpStatus.approved, actor=ADMIN_ID
        )


def card_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def test_the_card_lists_each_characteristic_below_its_best_bin_and_the_play(slack_env: SlackEnv) -> None:
    seed(slack_env)
    reply = slack_env.driver.slash_reply("score industry=retail employees=100 country=DE")
    assert_valid_blocks(reply.blocks)
    shown = reply.all_text()
    # 0 points -> 50/100, below tier B (55): tier C with its play
    assert "Attributes given: 50/100 · Tier C" in shown
    assert "*Why:* nothing known about it raises or lowers the score." in shown
    lines = card_lines(shown)
    start = lines.index("*Below the best (3):*")
    assert lines[start + 1 : start + 4] == [  # the most points lost first
        "industry: retail 0 · best: software, fintech +25",
        "employees: 100 0 · best: 200–2,000 +20",
        "country: DE 0 · best: US, CA +15",
    ]
    assert "*Play (Tier C):* Marketing nurture only" in shown  # the ICP document's play
    assert "*Contact:* Ops Olivia (VP Operations)" in shown
    assert "Missed" not in shown


def test_unknown_attributes_come_with_the_command_that_adds_them(slack_env: SlackEnv) -> None:
    seed(slack_env)
    reply = slack_env.driver.slash_reply("score industry=software")
    shown = reply.all_text()
    assert (
        "*Unknown:* employees, country — add them: `/icp score industry=software employees=… country=…`"
        in shown
    )
    # The command works after a company too: the typed value fills in (here, replaces) the stored one.
    reply = slack_env.driver.slash_reply("score acme.com employees=5000")
    assert_valid_blocks(reply.blocks)
    shown = reply.all_text()
    assert "acme.com · CRM id A1 · employees=5000" in shown
    assert "employees: 5,000 0 · best: 200–2,000 +20" in shown
    (why,) = [
        e
        for b in reply.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == WHY_BUTTON
    ]
    request = decode_why(why["value"])
    assert request.account_id is not None and request.pairs == {"employees": "5000"}


def test_several_approved_segments_score_each_and_show_the_best_fit_first(slack_env: SlackEnv) -> None:
    seed(slack_env)
    add_segment(
        slack_env,
        "emea",
        EMEA_ICP,
        [
            PersonaCreate(
                name="Store Sam", position=0, persona_json={"role": "Store manager", "buying_role": "user"}
            ),
            PersonaCreate(
                name="Finance Fay",
                position=1,
                persona_json={
                    "role": "CFO",
                    "buying_role": "economic buyer",
                    "message_hooks": ["Cut <costs> & waste"],
                },
            ),
        ],
    )
    typed = "industry=retail employees=500 country=DE"
    best = slack_env.driver.slash_reply(f"score {typed}")
    assert_valid_blocks(best.blocks)
    shown = best.all_text()
    # emea: +30 +20 = +50 -> 85 (A); default: only employees +20 -> 66.7 (B)
    assert "Attributes given: 85/100 · Tier A" in shown
    assert "EMEA retail v1 (segment emea), approved by" in shown
    assert "*Best fit: segment emea.* Other segments: default 66.7/100 · Tier B" in shown
    assert f"`/icp score {typed} segment=default`" in shown
    # The play the segment's draft stored for tier A, escaped.
    assert "*Play (Tier A):* Field rep visits the &lt;store&gt; &amp; demos" in shown
    # The persona who decides is the one to contact; its hook is escaped.
    assert "*Contact:* Finance Fay (CFO, economic buyer) — open with: Cut &lt;costs&gt; &amp; waste" in shown

    picked = slack_env.driver.slash_reply(f"score {typed} segment=default")
    assert_valid_blocks(picked.blocks)
    shown = picked.all_text()
    assert "Attributes given: 66.7/100 · Tier B" in shown
    assert "Mid-market SaaS v1 (segment default), approved by" not in shown  # one segment: no label
    assert "Other segments" not in shown
    assert "*Contact:* Ops Olivia (VP Operations)" in shown

    by_name = slack_env.driver.slash_reply("score acme.com")
    assert "Acme, Inc.: 88.9/100 · Tier A" in by_name.all_text()  # default fits Acme best
    assert "Other segments: emea 50/100 · Tier C" in by_name.all_text()

    unknown = slack_env.driver.slash_reply("score acme.com segment=apac")
    assert "There is no ICP for segment 'apac'. Segments: default, emea." in unknown.all_text()


def test_the_chooser_keeps_typed_values_and_the_segment(slack_env: SlackEnv) -> None:
    seed(slack_env)
    chooser = slack_env.driver.slash_reply("score umbrella group employees=300 segment=default")
    (picked,) = [b["accessory"] for b in chooser.blocks if "umbrella.de" in b.get("text", {}).get("text", "")]
    url = slack_env.stand_in.response_url("pick")
    slack_env.driver.block_actions(CHOOSE_ACCOUNT, value=picked["value"], response_url=url)
    card = slack_env.stand_in.wait_for("response_url", lambda c: c.path.endswith("pick"))[0]
    assert_valid_blocks(card.blocks)
    shown = card.all_text()
    # Umbrella Group (umbrella.de) has 900 employees in the CRM; the typed 300 is used instead.
    assert "umbrella.de · CRM id A3 · employees=300" in shown
    assert "Umbrella Group: 88.9/100 · Tier A" in shown
