"""Erasure in drafts, on the stored JSON itself: whichever answers are erased, no id of theirs is
left anywhere, nothing that rested on them alone survives, and no point changes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.icp.drafting.check import check
from bot.services.icp.drafting.evidence import citations_of
from bot.services.icp.drafting.models import DraftOutcome
from bot.services.icp.drafting.offline import offline_proposal
from bot.services.icp.drafting.persist import draft_payload
from bot.services.icp.drafting.privacy import (
    NARRATIVE_ERASED,
    scrub_draft_json,
    scrub_icp_json,
    scrub_persona_json,
)
from icp_engine.model import ICP
from tests.support.drafting_support import T0, answer, gathered

ANSWERS = [
    answer(1, "Software companies with big support teams are our best customers."),
    answer(2, "Software firms renew every year.", stakeholder="U2"),
    answer(3, "Manual routing costs them overtime.", topic="pains"),
    answer(4, "Routing by hand means overtime.", stakeholder="U2", topic="pains"),
    answer(5, "The VP of Operations decides and the CFO signs.", topic="buying_committee"),
    answer(
        6,
        "The CFO approves the budget; Head of Logistics champions it.",
        stakeholder="U2",
        topic="buying_committee",
    ),
    answer(7, "Fintech churns fast, a bad fit.", stakeholder="U3", role="customer_success", topic="bad_fit"),
]


def outcome() -> DraftOutcome:
    g = gathered(ANSWERS)
    pool = citations_of(g)
    c = check(offline_proposal(g), g, pool)
    return DraftOutcome(
        workspace="T",
        segment="default",
        version_id=1,
        version=1,
        drafted=c.drafted,
        personas=c.personas,
        pains=c.pains,
        goals=c.goals,
        triggers=c.triggers,
        disqualifiers=c.disqualifiers,
        narrative=c.narrative,
        backtest=c.backtest,
        conflicts=c.conflicts,
        citations=pool,
    )


BASE = outcome()


def test_an_icp_stored_in_the_older_flat_form_is_scrubbed_too() -> None:
    legacy = {
        "schema_version": 1,
        "name": "Old",
        "criteria": [
            {
                "attribute": "industry",
                "op": "eq",
                "values": ["software"],
                "points": 20,
                "evidence": ["ans:1", "stat:x"],
            }
        ],
        "missing": "neutral",
    }
    scrubbed = scrub_icp_json(legacy, {"ans:1"})
    assert scrubbed["criteria"][0]["evidence"] == ["stat:x"] and scrubbed["criteria"][0]["points"] == 20
    assert ICP.from_dict(scrubbed).criteria[0].evidence == ["stat:x"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from([a.id for a in ANSWERS]), min_size=1))
def test_no_erased_id_is_left_and_no_point_changes(gone: set[str]) -> None:
    draft = scrub_draft_json(draft_payload(BASE, T0), gone)
    icp = scrub_icp_json(BASE.icp.to_dict(), gone)
    personas = [scrub_persona_json(p.to_store(), gone) for p in BASE.personas]
    text = json.dumps([draft, icp, personas])
    for erased in gone:
        assert f'"{erased}"' not in text
    assert draft["narrative"] == NARRATIVE_ERASED and icp["description"] == NARRATIVE_ERASED
    scrubbed = ICP.from_dict(icp)  # still a valid ICP, with the same characteristics and points
    assert [(ch.name, [(b.describe(), b.points) for b in ch.bins]) for ch in scrubbed.characteristics] == [
        (ch.name, [(b.describe(), b.points) for b in ch.bins]) for ch in BASE.icp.characteristics
    ]
    assert not {i for c in scrubbed.criteria for i in c.evidence} & gone
    for name in ("pains", "goals", "triggers", "disqualifiers", "conflicts"):
        kept = [t["text"] if "text" in t else t["statement"] for t in draft[name]]
        before = [
            t
            for t in draft_payload(BASE, T0)[name]
            if not set(t["evidence"]) & gone or any(i.startswith("ans:") for i in set(t["evidence"]) - gone)
        ]
        assert kept == [t["text"] if "text" in t else t["statement"] for t in before]
