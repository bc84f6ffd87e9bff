"""Pure parts of the Slack platform layer: request shapes, slash parsing, help and ICP card blocks."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.slack.listeners.commands.icp.args import positive_int, user_id_of
from bot.slack.listeners.commands.icp.dispatch import load_all, parse, unknown_reply
from bot.slack.listeners.commands.icp.registry import REGISTRY
from bot.slack.payload import may_hold_lone_surrogates, shape_problem, without_lone_surrogates
from bot.slack.views.blocks_text import escape
from bot.slack.views.help import help_blocks
from bot.slack.views.icp_card import MAX_BLOCKS, VersionFacts, icp_blocks
from icp_engine.model import ICP
from tests.support.strategies import round_trip_icps


def assert_blocks_ok(blocks: list[Block], limit: int = 50) -> None:
    assert 0 < len(blocks) <= limit
    for block in blocks:
        raw = block.to_dict()
        parsed = Block.parse(raw)
        assert parsed is not None and type(parsed) is not Block
        parsed.validate_json()
        assert parsed.to_dict() == raw


# ------------------------------------------------------------------ request shapes

SLASH_BODY = {
    "token": "t",
    "team_id": "T1",
    "user_id": "U1",
    "command": "/icp",
    "text": "show",
    "trigger_id": "1.2",
}
BLOCK_ACTIONS = {
    "type": "block_actions",
    "team": {"id": "T1", "domain": "x"},
    "user": {"id": "U1"},
    "enterprise": None,
    "actions": [
        {
            "action_id": "a",
            "block_id": "b",
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "Sales"}, "value": "sales"},
        }
    ],
    "message": {
        "ts": "1.2",
        "text": "hi",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    },
    "container": {"type": "message", "message_ts": "1.2"},
    "channel": {"id": "C1"},
    "trigger_id": "1.2",
}
VIEW_SUBMISSION = {
    "type": "view_submission",
    "team": {"id": "T1"},
    "user": {"id": "U1"},
    "view": {
        "id": "V1",
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": "ICP"},
        "state": {"values": {"b": {"a": {"type": "plain_text_input", "value": "v"}}}},
    },
}
EVENT = {
    "type": "event_callback",
    "team_id": "T1",
    "event_id": "Ev1",
    "event": {
        "type": "message",
        "channel_type": "im",
        "user": "U1",
        "text": "hi",
        "ts": "1.2",
        "channel": "D1",
    },
    "authorizations": [{"team_id": "T1", "user_id": "UB", "is_bot": True, "enterprise_id": None}],
}
USER_CHANGE = {"type": "event_callback", "event": {"type": "user_change", "user": {"id": "U1"}}}


def test_real_slack_shapes_pass() -> None:
    for body in (
        SLASH_BODY,
        BLOCK_ACTIONS,
        VIEW_SUBMISSION,
        EVENT,
        USER_CHANGE,
        {"type": "url_verification", "challenge": "c"},
    ):
        assert shape_problem(body) is None, body


def test_broken_shapes_are_named() -> None:
    assert shape_problem([1]) == "body is list, not an object"
    assert shape_problem({"type": "block_actions", "view": None}) == "body.view is null"
    assert shape_problem({"actions": ["a"]}) == "body.actions is not a list of objects"
    assert shape_problem({"event": {"message": 3}}) == "body.event.message is int, not an object"
    assert shape_problem({"team_id": 5}) == "body.team_id is int, not text"
    assert shape_problem({"type": "block_actions", "actions": []}) == "body.actions is empty"
    assert shape_problem({"type": "interactive_message", "callback_id": "c"}) == "body.actions is empty"
    assert shape_problem({"type": "block_actions", "actions": [{}]}) == "body.actions[0] has no action_id"


SURROGATE_TEXT = st.text(alphabet=st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=8)


@settings(max_examples=200)
@given(
    st.recursive(
        SURROGATE_TEXT,
        lambda s: st.lists(s, max_size=3) | st.dictionaries(SURROGATE_TEXT, s, max_size=3),
        max_leaves=8,
    )
)
def test_lone_surrogates_become_replacement_characters(value: Any) -> None:
    raw = json.dumps(value).encode()  # ASCII, surrogates escaped as Slack's JSON may carry them
    cleaned = without_lone_surrogates(json.loads(raw))
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # encodable now
    if not may_hold_lone_surrogates(raw):
        assert cleaned == value
    assert without_lone_surrogates({"t": "a\ud800b\U0001f600"}) == {"t": "a\ufffdb\U0001f600"}


@settings(max_examples=300)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda s: st.lists(s) | st.dictionaries(st.text(max_size=5), s),
        max_leaves=20,
    )
)
def test_shape_check_never_raises(value: Any) -> None:
    result = shape_problem(json.loads(json.dumps(value)))
    assert result is None or isinstance(result, str)


# ------------------------------------------------------------------ slash parsing


def test_parse_splits_the_subcommand_and_keeps_the_rest() -> None:
    req = parse(
        {"team_id": "T1", "user_id": "U1", "channel_id": "C1", "text": '  Score "Acme Corp" --share '}
    )
    assert (req.name, req.args, req.raw) == ("score", ["Acme Corp", "--share"], '"Acme Corp" --share')
    assert parse({"text": ""}).name == "help"
    assert parse({}).name == "help"
    assert parse({"text": 'forget "unbalanced'}).args == ['"unbalanced']


def test_unknown_reply_suggests_and_escapes() -> None:
    load_all()
    assert "Did you mean `/icp show`" in unknown_reply("shw")
    reply = unknown_reply("<!channel>" + "x" * 100)
    assert "<!channel>" not in reply and "&lt;!channel&gt;" in reply and len(reply) < 200


def test_user_mentions() -> None:
    assert user_id_of("<@U012ABC>") == "U012ABC"
    assert user_id_of("<@W012ABC|ana>") == "W012ABC"
    assert user_id_of("U012ABCDE") == "U012ABCDE"
    assert user_id_of("@ana") is None
    assert user_id_of("<@u012abc>") is None
    assert positive_int("v3") == 3 and positive_int("0") is None and positive_int("x") is None


# ------------------------------------------------------------------ views


def test_help_blocks_cover_the_registry() -> None:
    specs = sorted({s.name: s for s in load_all().values()}.values(), key=lambda s: s.name)
    blocks = help_blocks(specs)
    assert_blocks_ok(blocks)
    text = json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)
    for spec in specs:
        assert f"/icp {escape(spec.usage)}" in text  # `<name>` escaped, or Slack reads it as a link
    assert set(REGISTRY) >= {"help", "show", "personas", "forget"}


FACTS = VersionFacts(version=3, status="in_review", segment="default", approver=None, approved_version=2)


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(round_trip_icps())
def test_icp_card_is_valid_block_kit(icp: ICP) -> None:
    blocks = icp_blocks(icp, FACTS)
    assert_blocks_ok(blocks, MAX_BLOCKS)
    text = json.dumps([b.to_dict() for b in blocks])
    assert "v3" in text and "approved v2" in text


def test_a_huge_icp_is_cut_with_a_note_not_rejected() -> None:
    criteria = [
        {
            "attribute": f"field_{i}",
            "op": "in",
            "values": [f"value {j} " * 5 for j in range(20)],
            "points": i % 30,
        }
        for i in range(400)
    ]
    icp = ICP.from_dict(
        {
            "name": "Big",
            "description": "Mid-market <b>&</b> <!channel>",
            "criteria": criteria,
            "disqualifiers": [
                {"attribute": "country", "op": "eq", "values": ["XX"], "reason": "sanctions " * 100}
            ]
            * 100,
        }
    )
    blocks = icp_blocks(icp, FACTS)
    assert_blocks_ok(blocks, MAX_BLOCKS)
    text = json.dumps([b.to_dict() for b in blocks])
    assert "did not fit" in text
    assert "<!channel>" not in text and "&lt;b&gt;&amp;&lt;/b&gt; &lt;!channel&gt;" in text
