"""What SQL rows become in the knowledge store: texts that say what the data say, valid metadata."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.store import RESERVED_METADATA, Document
from bot.services.knowledge.documents import (
    NO_PATTERN_ID,
    answer_document,
    icp_document,
    persona_document,
    render_icp,
    statistic_documents_of,
)
from bot.store.models import Answer, GtmRole, IcpStatus, IcpVersion, Persona, Stakeholder
from icp_engine.model import ICP
from icp_engine.stats import analyze
from tests.support.strategies import round_trip_icps

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def assert_valid_metadata(doc: Document) -> None:
    """What Chroma accepts: non-empty text, scalar finite extras, no reserved key."""
    assert doc.text.strip() and doc.source_id.strip()
    for key, value in doc.extra.items():
        assert key not in RESERVED_METADATA
        assert isinstance(value, str | int | float | bool), (key, value)
        assert not isinstance(value, float) or math.isfinite(value), (key, value)


def version(icp_json: dict[str, Any], **fields: Any) -> IcpVersion:
    return IcpVersion(
        id=7,
        workspace_id=1,
        version=3,
        segment="default",
        name="Mid-market",
        icp_json=icp_json,
        author="U1",
        status=IcpStatus.approved,
        approver="U2",
        created_at=T0,
        **fields,
    )


@settings(max_examples=60, deadline=None)
@given(icp=round_trip_icps())
def test_rendered_icp_names_every_criterion_disqualifier_and_tier(icp: ICP) -> None:
    text = render_icp(icp)
    for ch in icp.characteristics:
        assert f"Characteristic {ch.name}: " in text
    for criterion in icp.criteria:
        assert criterion.describe() in text
    for disqualifier in icp.disqualifiers:
        assert f"{disqualifier.condition.describe()} ({disqualifier.reason.strip()})" in text
    for tier in icp.tiers:
        assert f"{tier} ≥ " in text
    doc = icp_document(version(icp.to_dict()))
    assert doc.kind == "icp" and doc.source_id == "7"
    assert doc.text.startswith('ICP "Mid-market" version 3 (segment default, approved).')
    assert doc.text.endswith(text)
    assert_valid_metadata(doc)


def test_rendered_icp_says_points_are_centred_and_signed() -> None:
    icp = ICP(
        name="Mid-market",
        criteria=[
            {"attribute": "industry", "op": "eq", "values": ["software"], "points": 12, "rationale": "wins"},
            {"attribute": "industry", "op": "eq", "values": ["retail"], "points": -8},
            {"attribute": "plan", "op": "eq", "values": ["gold"], "points": 0},
        ],
    )
    text = render_icp(icp)
    assert (
        "Characteristic industry: industry = software (+12 points): wins; industry = retail (−8 points)."
        in text
    )
    assert "Characteristic plan: plan = gold (0 points)." in text
    assert "0 is like the average account" in text and "an unknown one, scores 0" in text
    assert "Tiers: A ≥ 70 Best match, B ≥ 55 Good fit, otherwise C Not a fit; ? Not enough data" in text
    assert "Characteristics: none" in render_icp(ICP(name="Empty"))


def test_an_icp_that_no_longer_validates_is_still_indexed_as_it_is() -> None:
    doc = icp_document(version({"name": "Old", "criteria": "not a list"}, change_note="  legacy  "))
    assert doc.text == (
        'ICP "Mid-market" version 3 (segment default, approved). Definition: '
        '{"criteria": "not a list", "name": "Old"} Change note: legacy'
    )


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=15),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def string_leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in string_leaves(v)]
    return [value.strip()] if isinstance(value, str) and value.strip() else []


@settings(max_examples=80, deadline=None)
@given(persona_json=st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5))
def test_persona_text_holds_every_written_value(persona_json: dict[str, Any]) -> None:
    persona = Persona(
        id=11, workspace_id=1, icp_version_id=7, name="Head of Ops", position=2, persona_json=persona_json
    )
    doc = persona_document(persona, version({"name": "x"}))
    assert doc.kind == "persona" and doc.source_id == "11"
    assert doc.text.startswith('Buyer persona "Head of Ops" of ICP "Mid-market" version 3.')
    for key, value in persona_json.items():
        if key != "name":
            for leaf in string_leaves(value):
                assert " ".join(leaf.split()) in " ".join(doc.text.split())
    assert dict(doc.extra) == {"icp_version_id": 7, "version": 3, "segment": "default", "position": 2}
    assert_valid_metadata(doc)


def test_answer_document_carries_the_person_and_role() -> None:
    person = Stakeholder(id=4, workspace_id=1, slack_user_id="U42", gtm_role=GtmRole.customer_success)
    answer = Answer(
        id=9,
        workspace_id=1,
        interview_id=3,
        stakeholder_id=4,
        slack_event_id="E1",
        text="They renew.",
        answered_at=T0,
    )
    doc = answer_document(answer=answer, stakeholder=person, question_key="why_renew")
    assert doc == Document(
        kind="answer",
        source_id="9",
        text="They renew.",
        stakeholder="U42",
        role="customer_success",
        created_at=T0,
        extra={"interview_id": 3, "question_key": "why_renew"},
    )
    blank = answer.model_copy(update={"text": " \n "})
    assert answer_document(answer=blank, stakeholder=person) is None


@st.composite
def deal_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Closed deals of a few accounts; each value of `plan` has its own win probability."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_accounts = draw(st.integers(20, 150))
    plans = np.array(["gold", "silver", "bronze"], dtype=object)[rng.integers(0, 3, n_accounts)]
    regions = np.array(["EMEA", "APAC"], dtype=object)[rng.integers(0, 2, n_accounts)]
    win = {p: draw(st.sampled_from([0.05, 0.3, 0.3, 0.8])) for p in ("gold", "silver", "bronze")}
    owner = rng.integers(0, n_accounts, draw(st.integers(30, 500)))
    won = rng.random(len(owner)) < np.array([win[p] for p in plans[owner]])
    return pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in owner],
            "won": won,
            "amount": rng.integers(1, 50, len(owner)) * 1000.0,
            "plan": plans[owner],
            "region": regions[owner],
        }
    )


@settings(max_examples=40, deadline=None)
@given(deals=deal_frames())
def test_one_document_per_significant_segment_or_one_saying_there_is_none(deals: pd.DataFrame) -> None:
    analysis = analyze(deals, attributes=["plan", "region"])
    docs = statistic_documents_of(analysis)
    significant = [s for s in analysis.segments if s.significant]
    assert len({d.source_id for d in docs}) == len(docs)
    for doc in docs:
        assert doc.kind == "statistic"
        assert_valid_metadata(doc)
    if not significant:
        assert [d.source_id for d in docs] == [NO_PATTERN_ID]
        assert docs[0].text.startswith("No significant pattern in the CRM data")
        assert f"{analysis.overall.deals:,} closed deals" in docs[0].text
        return
    assert [d.source_id for d in docs] == [s.segment.key for s in significant]
    for doc, s in zip(docs, significant, strict=True):
        assert doc.text.startswith(f"Accounts with {s.segment.label} win ")
        assert f"of {s.deals:,} closed deals ({s.accounts:,} accounts; 95% CI " in doc.text
        assert (doc.extra["n"], doc.extra["wins"], doc.extra["win_rate"]) == (
            s.deals,
            s.wins,
            round(s.win_rate, 4),
        )
        assert doc.extra["q"] == s.q_value < analysis.alpha
