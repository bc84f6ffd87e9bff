"""No view lets user text mention people, ping a channel or fake a link (fallback text included).

Every public function of every module in ``bot.slack.views`` is either a builder exercised here
with hostile text in each user-provided field, or listed in NOT_BUILDERS with the reason; a view
added later without a case fails ``test_every_public_view_function_is_covered``."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.slack.views as views_pkg
from bot.connectors.records import Provider
from bot.services.chat.answer import ChatReply
from bot.services.chat.evidence import Evidence, Figure
from bot.services.crm_sync.connect import ConnectionStatus, ConnectOutcome
from bot.services.crm_sync.sync import SkippedRecord, SyncSummary
from bot.services.crm_sync.write_back import WriteBackSummary
from bot.services.home import HomeData, IcpSummary, PersonaSummary
from bot.services.home import ImportSummary as HomeImport
from bot.services.icp.export.document import ExportDocument, backtest_doc, persona_doc
from bot.services.icp.export.outline import page
from bot.services.icp.review import ReviewFacts
from bot.services.icp.versions import ChangeLogEntry, VersionSummary
from bot.services.imports.service import ImportSummary
from bot.services.reviews.checkins import CheckinAnswer
from bot.services.reviews.decisions import Decision
from bot.services.reviews.kit import ChurnedAccount, Drift, Miss, ReviewKit, TierFigures
from bot.services.reviews.proposal import BacktestFigures, Proposal
from bot.services.scoring.account_lookup import AccountRef, Candidate, LookupResult
from bot.services.scoring.service import IcpInUse, PersonaBrief, ScoreOutcome, SegmentScore, Subject
from bot.slack.views import (
    assistant,
    chat,
    crm_sync,
    draft,
    help,
    home,
    icp_card,
    icp_diff,
    icp_history,
    icp_page,
    icp_show,
    import_summary,
    interview,
    review_decision,
    review_kit,
    score_card,
)
from bot.slack.views.blocks_text import escape
from bot.store.models import IcpStatus, ImportKind, InterviewState, SyncStatus
from icp_engine.card import Gap
from icp_engine.diff import diff_icps as diff
from icp_engine.model import ICP
from icp_engine.readers import RowError
from icp_engine.scoring import score
from tests.unit.test_draft_views import outcome as draft_outcome

pytestmark = pytest.mark.security

#: What an attacker types: each must never reach Slack unescaped.
ATTACKS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0EVIL>",
    "<@U0EVIL>",
    "<@U0EVIL|boss>",
    "<#C0EVIL>",
    "<https://evil.example|click>",
    "<mailto:x@evil.example|mail>",
)
#: Raw fragments that would only appear if an attack got through unescaped.
FORBIDDEN = (
    "<!channel",
    "<!here",
    "<!everyone",
    "<!subteam",
    "<@U0EVIL",
    "<#C0EVIL",
    "<https://evil",
    "<mailto:",
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

hostile = st.builds(
    lambda a, attack, b: f"{a}{attack}{b}",
    st.text(max_size=12),
    st.sampled_from(ATTACKS),
    st.text(max_size=12),
)


def _icp(t: str) -> ICP:
    return ICP.model_validate(
        {
            "name": f"ICP {t}",
            "description": t,
            "criteria": [
                {"attribute": "industry", "op": "in", "values": [t, "software"], "points": 40},
                {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 30},
            ],
            "disqualifiers": [{"attribute": "country", "op": "eq", "values": [t], "reason": t}],
            "tiers": {"A": 60, "B": 30},
            "tier_labels": {"A": t},
        }
    )


def _scorecard(t: str) -> ICP:
    """Characteristics named by the attacker, with hostile bin values, labels and evidence ids."""
    return ICP.model_validate(
        {
            "name": t,
            "characteristics": [
                {
                    "attribute": t,
                    "bins": [
                        {"op": "eq", "values": [t], "points": 12, "evidence": [t]},
                        {"op": "in", "values": [t, "x"], "points": -8, "label": t},
                    ],
                },
                {
                    "attributes": ["plan", f"{t} 2"],
                    "bins": [
                        {
                            "all_of": [
                                {"attribute": "plan", "op": "eq", "values": [t]},
                                {"attribute": f"{t} 2", "op": "eq", "values": [t]},
                            ],
                            "points": 3,
                            "rationale": t,
                        }
                    ],
                },
            ],
            "tier_labels": {"?": t},
        }
    )


def _outcome(t: str) -> ScoreOutcome:
    icp = _icp(t)
    return ScoreOutcome(
        subject=Subject(kind="account", title=t, account_id=1, crm_id=t, domain=t, notes=(t,)),
        icp=IcpInUse(version_id=1, version=1, status=IcpStatus.approved, segment=t, icp=icp),
        result=score({"industry": t, "employees": 500, "country": "DE"}, icp),
    )


def _guided(t: str) -> ScoreOutcome:
    """An outcome with another segment, personas and typed values, all hostile."""
    base = _outcome(t)
    other = SegmentScore(icp=base.icp, result=base.result)
    subject = Subject(kind="account", title=t, account_id=1, crm_id=t, domain=t, inline={t: t}, notes=(t,))
    personas = (PersonaBrief(name=t, role=t, buying_role="economic buyer", hook=t),)
    return ScoreOutcome(subject, base.icp, base.result, (other,) * 7, personas)


def _lookup(t: str) -> LookupResult:
    ref = AccountRef(id=1, crm_id=t, name=t, domain=t)
    return LookupResult(
        query=t, status="ambiguous", candidates=(Candidate(ref, "fuzzy", 0.9),) * 2, searched=10
    )


def _evidence(t: str) -> Evidence:
    # the source line is the service's own mrkdwn (it mentions the person on purpose)
    return Evidence(id=f"ans:{t}", kind="answer", text=t, source="interview answer by <@U0DANA> (sales)")


def _chat(mode: str) -> Callable[[str], object]:
    def build(t: str) -> object:
        return chat.chat_message(
            ChatReply(
                question=t,
                mode=mode,  # type: ignore[arg-type]
                answer=t,
                cited=(_evidence(t),),
                figures=(Figure(text=t, evidence_id=f"stat:{t}"),),
                score=_outcome(t),
                lookup=_lookup(t),
                note=t,
            )
        )

    return build


def _facts(t: str) -> icp_card.VersionFacts:
    return icp_card.VersionFacts(
        version=2,
        status="draft",
        segment=t,
        updated_at=NOW,
        author=t,
        change_note=t,
        changes=t,
        backtest=t,
        history=(icp_history.log_line(_entry(t)),),
    )


def _document(t: str) -> ExportDocument:
    """The one-page ICP with hostile text in every field people or the LLM fill in."""
    return ExportDocument(
        workspace="T1",
        icp=_icp(t),
        version=2,
        segment=t,
        status="approved",
        author=t,
        created_at=NOW,
        approver="U0BOSS",
        approved_at=NOW,
        change_note=t,
        personas=(persona_doc(t, {"role": t, "goals": [t], "challenges": t}),) * 5,
        evidence=((f"ans:{t}", t),),
        backtest=backtest_doc(
            {"n": 10, "win_rate": 0.3, "top_tier": "A", "tiers": [{"tier": "A", "n": 4, "win_rate": 0.5}]}
        ),
        generated_at=NOW,
        pains=(t, t + "2"),
        triggers=(t,),
        owner=t,
        people=(("U0BOSS", t),),
        plays=(("A", t),),
    )


def _home(t: str) -> HomeData:
    summary = IcpSummary(
        version_id=1,
        version=1,
        status=IcpStatus.approved,
        name=t,
        icp=_icp(t),
        problem=t,
        updated_at=NOW,
        approved_at=NOW,
        approver="U0OWNER",
    )
    return HomeData(
        now=NOW,
        approved=summary,
        latest=summary,
        personas={1: (PersonaSummary(name=t, role=t, seniority=t, buying_role=t, goal=t),)},
        interviews={InterviewState.completed: 1},
        stakeholders=1,
        imports=(HomeImport(ImportKind.accounts, t, "done", NOW, 1, 0, 1, 0),),
    )


def _entry(t: str) -> ChangeLogEntry:
    return ChangeLogEntry(at=NOW, actor=t, action=t, version=1, segment=t, text=t)


def _version(t: str) -> VersionSummary:
    return VersionSummary(
        id=1,
        version=1,
        segment=t,
        status="draft",
        name=t,
        author=t,
        created_at=NOW,
        updated_at=NOW,
        approver=t,
        approved_at=NOW,
        superseded_at=None,
        change_note=t,
        changes=t,
    )


def _import(t: str, status: Literal["imported", "failed"]) -> ImportSummary:
    return ImportSummary(
        kind="accounts",
        file=t,
        workspace="T1",
        status=status,
        message=t,
        rows=3,
        rejected=1,
        errors=[RowError(file=t, line=2, column=t, reason=t)],
        findings=[t],
    )


def _kit(t: str) -> ReviewKit:
    return ReviewKit(
        team_id="T1",
        segment=t,
        now=NOW,
        since=NOW - timedelta(days=90),
        icp_version=3,
        icp_name=t,
        icp_problem=t,
        tiers_now=(TierFigures(t, t, 3, 1),),
        tiers_then=(TierFigures(t, t, 1, 1),),
        misses=(Miss(t, t, t, 10.0, 1.0),),
        misses_total=1,
        churned=(ChurnedAccount(t, t, t, date(2026, 10, 1)),),
        churned_total=1,
        drift=Drift(0.8, 0.6, 0.4, 0.5, 40, 6),
    )


class _Help:
    def __init__(self, t: str) -> None:
        self.name, self.summary, self.usage, self.examples, self.owner_only = "x", t, t, (t,), False


def _crm_status(t: str) -> ConnectionStatus:
    """A connection whose CRM-given label and last sync message are hostile."""
    return ConnectionStatus(
        provider=Provider.salesforce,
        label=t,
        connected_by="U0OWNER",
        connected_at=NOW,
        last_sync_at=NOW,
        last_sync_status=SyncStatus.failed,
        last_sync_message=t,
        next_sync_at=NOW,
        token_refused=True,
        runs=2,
    )


def _sync_summary(t: str) -> SyncSummary:
    return SyncSummary(
        workspace=t,
        provider="hubspot",
        status="synced",
        message=t,
        accounts=_import(t, "imported"),
        deals=_import(t, "imported"),
        write_back=WriteBackSummary(status="written", icp_version=2, written=1, refused=[(t, t)], message=t),
        skipped=[SkippedRecord(f"HubSpot company {t}", t, t)],
        notes=[t],
    )


TARGET = import_summary.ImportTarget("F0ABC", "accounts", False, "1.2")
ROW = interview.StatusRow

CASES: dict[str, Callable[[str], object]] = {
    "crm_sync.connect_outcome_message[ok]": lambda t: crm_sync.connect_outcome_message(
        ConnectOutcome(True, t, Provider.hubspot, t)
    ),
    "crm_sync.connect_outcome_message[refused]": lambda t: crm_sync.connect_outcome_message(
        ConnectOutcome(False, t, Provider.salesforce)
    ),
    "crm_sync.sync_message": lambda t: crm_sync.sync_message(_sync_summary(t)),
    "crm_sync.status_message": lambda t: crm_sync.status_message(_crm_status(t)),
    "crm_sync.home_crm_blocks": lambda t: crm_sync.home_crm_blocks(_crm_status(t), is_owner=True),
    "assistant.thread_title": lambda t: assistant.thread_title(f"Which {t} deals win?"),
    "chat.chat_message[llm]": _chat("llm"),
    "chat.chat_message[offline]": _chat("offline"),
    "chat.chat_message[score]": _chat("score"),
    "chat.chat_message[choose]": _chat("choose"),
    "chat.chat_message[empty]": _chat("empty"),
    "draft.persona_line": lambda t: draft.persona_line(draft_outcome(1, t).personas[0]),
    "draft.draft_text": lambda t: draft.draft_text(_draft(t), ReviewFacts(status=IcpStatus.draft, author=t)),
    "draft.draft_blocks": lambda t: draft.draft_blocks(
        _draft(t), ReviewFacts(status=IcpStatus.draft, author=t)
    ),
    "draft.full_icp_blocks": lambda t: draft.full_icp_blocks(
        _draft(t), ReviewFacts(status=IcpStatus.draft, author=t)
    ),
    "draft.full_icp_modal": lambda t: draft.full_icp_modal(
        _draft(t), ReviewFacts(status=IcpStatus.draft, author=t)
    ),
    "draft.edit_modal": lambda t: draft.edit_modal(_draft(t), channel="C1", message_ts="1.2"),
    "draft.changes_modal": lambda t: draft.changes_modal(_draft(t), channel="C1", message_ts="1.2"),
    "draft.personas_blocks": lambda t: draft.personas_blocks(2, "draft", draft_outcome(1, t).personas),
    "draft.personas_text": lambda t: draft.personas_text(2, 1),
    "draft.notify_author_text": lambda t: draft.notify_author_text("U0OWNER", 2, t, t),
    "help.command_line": lambda t: help.command_line(_Help(t)),
    "help.help_blocks": lambda t: help.help_blocks([_Help(t)]),
    "help.help_text": lambda t: help.help_text([_Help(t)]),
    "help.command_help_blocks": lambda t: help.command_help_blocks(_Help(t)),
    "home.home_view": lambda t: home.home_view(_home(t), is_owner=True, owners_hint=t),
    "home.home_view[one page]": lambda t: home.home_view(
        dataclasses.replace(_home(t), documents={1: _document(t)}), is_owner=True, owners_hint=t
    ),
    "icp_page.page_blocks": lambda t: icp_page.page_blocks(page(_document(t)), max_blocks=50),
    "icp_show.show_blocks": lambda t: icp_show.show_blocks(_document(t), _facts(t)),
    "icp_show.version_notes": lambda t: icp_show.version_notes(_facts(t)),
    "home.characteristic_line": lambda t: home.characteristic_line(_scorecard(t).characteristics[0]),
    "icp_card.characteristic_lines": lambda t: icp_card.characteristic_lines(_scorecard(t)),
    "icp_card.rules_line": lambda t: icp_card.rules_line(_icp(t)),
    "icp_card.disqualifier_lines": lambda t: icp_card.disqualifier_lines(_icp(t)),
    "icp_card.tiers_line": lambda t: icp_card.tiers_line(_icp(t)),
    "icp_card.icp_blocks": lambda t: icp_card.icp_blocks(_icp(t), _facts(t)),
    "icp_card.icp_text": lambda t: icp_card.icp_text(_icp(t), _facts(t)),
    "icp_diff.diff_lines": lambda t: icp_diff.diff_lines(diff(_icp("a"), _icp(t))),
    "icp_diff.diff_blocks": lambda t: icp_diff.diff_blocks(diff(_icp("a"), _icp(t)), before=1, after=2),
    "icp_diff.diff_text": lambda t: icp_diff.diff_text(diff(_icp("a"), _icp(t)), before=1, after=2),
    "icp_history.who": lambda t: icp_history.who(t),
    "icp_history.log_line": lambda t: icp_history.log_line(_entry(t)),
    "icp_history.log_lines": lambda t: icp_history.log_lines([_entry(t)]),
    "icp_history.version_line": lambda t: icp_history.version_line(_version(t)),
    "icp_history.versions_blocks": lambda t: icp_history.versions_blocks([_version(t)], [_entry(t)]),
    "import_summary.importing_note": lambda t: import_summary.importing_note(
        file_name=t, kind="accounts", skip_bad_rows=True
    ),
    "import_summary.not_csv_text": lambda t: import_summary.not_csv_text(file_name=t, filetype=t),
    "import_summary.kind_question": lambda t: import_summary.kind_question(file_name=t, target=TARGET),
    "import_summary.result_message[imported]": lambda t: import_summary.result_message(
        _import(t, "imported"), target=TARGET, statistics=t
    ),
    "import_summary.result_message[failed]": lambda t: import_summary.result_message(
        _import(t, "failed"), target=TARGET
    ),
    "interview.invitation_message": lambda t: interview.invitation_message(
        interview_id=1, inviter_id="U0OWNER", role_title=t, intro=t, total=3
    ),
    "interview.started_invitation_message": lambda t: interview.started_invitation_message(
        role_title=t, total=3
    ),
    "interview.question_message": lambda t: interview.question_message(
        number=1, total=3, text=t, hint=t, note=t
    ),
    "interview.completion_message": lambda t: interview.completion_message(answered=1, total=3),
    "interview.paused_message": lambda t: interview.paused_message(number=1, total=3),
    "interview.help_message": lambda t: interview.help_message(),
    "interview.reminder_message": lambda t: interview.reminder_message(
        interview_id=1, started=True, number=1, total=3
    ),
    "interview.status_message": lambda t: interview.status_message(
        [ROW("U0DANA", t, "in_progress", 1, 3, 2, NOW)]
    ),
    "interview.invite_summary_message": lambda t: interview.invite_summary_message(
        invited=["U0DANA"],
        already=[("U0LEE", t)],
        failed=[("U0SAM", t)],
        role_title=t,
        notes=["Check your DMs with me."],
    ),
    "review_kit.tier_lines": lambda t: review_kit.tier_lines(_kit(t).tiers_now, _kit(t).tiers_then),
    "review_kit.drift_text": lambda t: review_kit.drift_text(Drift(0.8, 0.6, 0.4, 0.5, 40, 6)),
    "review_kit.review_kit_message": lambda t: review_kit.review_kit_message(
        _kit(t), reminder_id=1, next_run_at=NOW
    ),
    "review_kit.reminder_status_text": lambda t: review_kit.reminder_status_text(
        cadence=t, channel_id="C0CHAN", next_run_at=NOW, timezone=t, enabled=True, last_reviewed_at=NOW
    ),
    "score_card.score_card": lambda t: score_card.score_card(
        _outcome(t).result,
        subject=score_card.CardSubject(t, (t,), (t,)),
        icp_status=t,
        expanded=True,
        shared_by="U0OWNER",
    ),
    "score_card.score_card[not enough data]": lambda t: score_card.score_card(
        score({"plan": t}, _scorecard(t)),
        subject=score_card.CardSubject(t, (t,), (t,)),
        icp_status=t,
        expanded=True,
    ),
    "score_card.score_card_text": lambda t: score_card.score_card_text(
        _outcome(t).result, score_card.CardSubject(t, (t,), (t,))
    ),
    "score_card.card_blocks": lambda t: score_card.card_blocks(_outcome(t), expanded=True),
    "score_card.outcome_text": lambda t: score_card.outcome_text(_outcome(t)),
    "score_card.account_chooser": lambda t: score_card.account_chooser(
        t, score_card.choices_of(_lookup(t)), exact=False, share=True
    ),
    "score_card.chooser_text": lambda t: score_card.chooser_text(t),
    "score_card.not_found_text": lambda t: score_card.not_found_text(t, 10),
    "score_card.card_blocks[compact]": lambda t: score_card.card_blocks(_guided(t)),
    "score_card.why_line": lambda t: score_card.why_line(
        score({t: t, "plan": t, f"{t} 2": t}, _scorecard(t))
    ),
    "score_card.gap_line": lambda t: score_card.gap_line(Gap(t, t, 0.0, t, 5.0)),
    "score_card.gap_lines": lambda t: score_card.gap_lines([Gap(t, t, 0.0, t, 5.0)] * 10),
    "score_card.add_line": lambda t: score_card.add_line(
        _outcome(t).result, score_card.CardGuide(add_command=f"/icp score {t}", add_attributes=(t,))
    ),
    "score_card.contact_line": lambda t: score_card.contact_line(score_card.Contact(t, t, t, t)),
    "score_card.others_line": lambda t: score_card.others_line(score_card.card_guide(_guided(t))),
    "score_card.guide_lines": lambda t: score_card.guide_lines(
        _guided(t).result, score_card.card_guide(_guided(t))
    ),
    "review_kit.adoption_text": lambda t: review_kit.adoption_text(
        [(t, 2)],
        [TierFigures(t, t, 1, 1)],
        "since then",  # the caller's own mrkdwn (a date token)
    ),
    "review_kit.proposal_text": lambda t: review_kit.proposal_text(
        Proposal(t, (t, t), 5, BacktestFigures(0.7, t, 0.5, 0.3, 9), BacktestFigures(0.8, t, 0.6, 0.3, 9)), 2
    ),
    "review_decision.checkin_text": lambda t: review_decision.checkin_text("U0BOSS", t),
    "review_decision.closed_text": lambda t: review_decision.closed_text("U0BOSS", Decision.adopt, t, 2, NOW),
    "review_decision.decision_modal": lambda t: review_decision.decision_modal(
        review_decision.DecisionTarget(1, "C1", "1.2"),
        icp_name=t,
        checkins=[CheckinAnswer("U0ANA", t, t, NOW), CheckinAnswer("U0BEN", t, None, None)],
    ),
    "review_decision.checkin_blocks": lambda t: review_decision.checkin_blocks(
        [CheckinAnswer("U0ANA", t, t * 50, NOW)] * 25 + [CheckinAnswer("U0BEN", "", t, NOW)]
    ),
}

#: Public functions that build no Slack text from user data, and why.
NOT_BUILDERS = {
    "crm_sync.connect_usage": "fixed text, no user text",
    "crm_sync.connect_modal": "fixed labels and hints; its inputs start empty (no secret is sent back)",
    "crm_sync.provider_from_metadata": "reads a modal's metadata, builds no Slack text",
    "crm_sync.read_credentials": "reads a modal submission, builds no Slack text",
    "blocks_text.escape": "the escaping helper itself (tested below)",
    "blocks_text.slack_time": "formats a datetime, no user text",
    "score_modal.score_modal": "fixed labels and hints, no user text",
    "score_modal.read_score_ask": "reads a modal submission, builds no Slack text",
    "score_modal.domains_in": "finds domains in a message, builds no Slack text",
    "blocks_text.truncate": "cuts text it is given; callers escape first",
    "blocks_text.mrkdwn": "wraps already escaped text",
    "blocks_text.section": "wraps already escaped text",
    "blocks_text.context": "wraps already escaped text",
    "blocks_text.line_sections": "packs already escaped lines",
    "blocks_text.plural": "numbers and fixed words",
    "draft.read_edit": "reads a modal submission, builds no Slack text",
    "draft.read_changes": "reads a modal submission, builds no Slack text",
    "draft.persona_of": "parses stored persona JSON",
    "draft.block_text_chars": "counts characters of built blocks",
    "home.ago": "formats a time span",
    "home.when": "formats a time",
    "icp_card.cut": "cuts text it is given",
    "icp_page.header": "a plain_text header (shown literally, never parsed)",
    "icp_show.show_title": "the plain_text header's text",
    "icp_card.packed_sections": "packs already escaped lines",
    "review_kit.date_token": "formats a time as Slack's <!date> token",
    "review_kit.percent": "formats a number",
    "score_card.encode_why": "a button value (not shown)",
    "score_card.card_subject": "data for score_card, which escapes it",
    "score_card.choices_of": "data for account_chooser, which escapes it",
    "import_summary.quality_lines": "raw lines; the result message escapes each one",
    "import_summary.note": "wraps mrkdwn its callers built with escape() (like section)",
    "import_summary.problem_message": "wraps mrkdwn its callers built with escape() (like section)",
    "score_card.decode_why": "parses a button value",
    "score_card.encode_choice": "a button value (not shown)",
    "score_card.decode_choice": "parses a button value",
    "score_card.choice_extras": "parses a button value",
    "score_card.card_guide": "data for score_card, whose line builders escape it",
    "score_card.pick_contact": "picks a persona; contact_line escapes it",
    "score_card.score_command_of": "the command's words; add_line and others_line escape them",
    "review_decision.read_decision": "reads a modal submission, builds no Slack text",
    "review_decision.checkin_thanks": "the owner's Slack id (from our store) only, no user text",
    "review_kit.checkins_line": "two counts, no user text",
}


def _draft(t: str) -> Any:
    """The draft test's outcome with hostile text in every quote, persona and the ICP itself."""
    out = draft_outcome(1, t)
    drafted = out.drafted.model_copy(update={"icp": _icp(t)})
    if dataclasses.is_dataclass(out):
        return dataclasses.replace(out, drafted=drafted)
    return out.model_copy(update={"drafted": drafted})


def public_functions() -> set[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules(views_pkg.__path__):
        module = importlib.import_module(f"bot.slack.views.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__:
                names.add(f"{info.name}.{name}")
    return names


def test_every_public_view_function_is_covered() -> None:
    covered = {key.split("[")[0] for key in CASES} | set(NOT_BUILDERS)
    missing = public_functions() - covered
    assert not missing, f"add a hostile-text case (or a NOT_BUILDERS reason) for: {sorted(missing)}"
    assert not covered - public_functions(), "a case names a function that no longer exists"


def strings_in(node: Any) -> list[str]:
    """Every string of a view that Slack reads as mrkdwn: fallback text, mrkdwn text objects.

    plain_text objects (headers, buttons, modal titles and inputs) are shown literally, never
    parsed for mentions, so they are not checked (escaping them would show ``&lt;`` to people)."""
    if hasattr(node, "to_dict"):
        node = node.to_dict()
    if isinstance(node, interview.SlackMessage | crm_sync.CrmMessage):
        return [node.text, *strings_in(list(node.blocks))]
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            return [str(node.get("text", ""))]
        if node.get("type") == "plain_text":
            return []
        return [s for v in node.values() if not isinstance(v, str) for s in strings_in(v)]
    if isinstance(node, (list, tuple)):
        return [s for v in node for s in strings_in(v)]
    return []


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
def test_hostile_text_never_reaches_slack_unescaped(name: str, text: str) -> None:
    produced = strings_in(CASES[name](text))
    assert produced
    for s in produced:
        for bad in FORBIDDEN:
            assert bad not in s, (name, bad, s[:300])


@given(st.text())
def test_escape_leaves_no_angle_bracket_and_round_trips(text: str) -> None:
    out = escape(text)
    assert "<" not in out and ">" not in out
    assert out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_the_forbidden_fragments_are_really_found_in_unescaped_text() -> None:
    """The check can fail: raw attacks contain a forbidden fragment, escaped ones do not."""
    for attack in ATTACKS:
        assert any(bad in attack for bad in FORBIDDEN), attack
        assert not any(bad in escape(attack) for bad in FORBIDDEN), attack
    assert json.dumps(["<!here>"]).find("<!here") >= 0
