"""Enterprise Grid: an org-wide install answers every workspace of its org, with the org's token.

The app runs in OAuth mode; the stand-in's oauth.v2.access grants an org-wide install
(``is_enterprise_install``, an enterprise and no team), as Slack does for an org admin. Signed
requests then come from a workspace inside that org, named by team id and enterprise id, and the
Web API calls they cause must carry the org's token. Scheduled work, which knows only the
workspace, finds the same token through the workspaces the org grants (auth.teams.list).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bot.scheduler.clients import client_factory
from bot.slack.installations import bot_for_team, installation_store
from bot.slack.views.score_modal import SCORE_MODAL, SCORE_SHORTCUT
from tests.support.harness import APP_ID, BOT_USER_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv
from tests.support.oauth import INSTALLER, install, run_install, skip_without_greenlet

skip_without_greenlet()

ENTERPRISE = "E0GRID"
ORG_TOKEN = "xoxb-org-wide-token"
OUTSIDER = "T0ELSEWHERE"


def granted(
    *, token: str, team: dict[str, str] | None, org_wide: bool
) -> Callable[[RecordedCall], dict[str, Any]]:
    """The stand-in's oauth.v2.access answer for an install inside the Grid org."""

    def grant(call: RecordedCall) -> dict[str, Any]:
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": INSTALLER},
            "scope": "commands,chat:write,users:read",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER_ID,
            "team": team,
            "enterprise": {"id": ENTERPRISE, "name": "Grid Org"},
            "is_enterprise_install": org_wide,
        }

    return grant


def org_wide(env: SlackEnv, *, teams: tuple[str, ...] = (TEAM_ID,)) -> None:
    """The stand-in grants an org-wide install; auth.teams.list names the org's workspaces."""

    grant = granted(token=ORG_TOKEN, team=None, org_wide=True)

    def org_teams(call: RecordedCall) -> dict[str, Any]:
        if call.headers.get("authorization") != f"Bearer {ORG_TOKEN}":
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "teams": [{"id": t, "name": t} for t in teams], "response_metadata": {}}

    env.stand_in.respond_with("oauth.v2.access", grant)
    env.stand_in.respond_with("auth.teams.list", org_teams)


def grid_event(env: SlackEnv, event: dict[str, Any]) -> None:
    envelope = env.driver.event_envelope(event)
    envelope["enterprise_id"] = ENTERPRISE
    envelope["authorizations"] = [
        {
            "enterprise_id": ENTERPRISE,
            "team_id": None,
            "user_id": BOT_USER_ID,
            "is_bot": True,
            "is_enterprise_install": True,
        }
    ]
    envelope["is_ext_shared_channel"] = False
    assert env.driver.post_json(envelope).status == 200


def test_a_workspace_of_the_org_is_answered_with_the_org_token(oauth_env: SlackEnv) -> None:
    org_wide(oauth_env)
    assert install(oauth_env, enterprise_id=ENTERPRISE) == ORG_TOKEN
    ts = f"{time.time():.6f}"
    grid_event(
        oauth_env,
        {
            "type": "message",
            "channel_type": "im",
            "channel": f"D{MEMBER_ID[1:]}",
            "user": MEMBER_ID,
            "text": "thanks!",
            "ts": ts,
            "event_ts": ts,
            "team": TEAM_ID,
        },
    )
    (reply,) = oauth_env.stand_in.wait_for("chat.postMessage")
    assert reply.headers.get("authorization") == f"Bearer {ORG_TOKEN}"
    assert "Ask me about your ICP" in reply.text


def test_a_shortcut_and_the_org_installer_as_owner_in_a_workspace_of_the_org(oauth_env: SlackEnv) -> None:
    org_wide(oauth_env)
    install(oauth_env, enterprise_id=ENTERPRISE)
    payload = {
        "type": "shortcut",
        "token": "deprecated-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": TEAM_ID, "domain": "e2e", "enterprise_id": ENTERPRISE},
        "user": {"id": MEMBER_ID, "username": "member", "team_id": TEAM_ID},
        "is_enterprise_install": True,
        "enterprise": {"id": ENTERPRISE, "name": "Grid Org"},
        "callback_id": SCORE_SHORTCUT,
        "trigger_id": "1234.5678",
    }
    assert oauth_env.driver.post_form({"payload": json.dumps(payload)}).status == 200
    (opened,) = oauth_env.stand_in.wait_for("views.open")
    assert opened.headers.get("authorization") == f"Bearer {ORG_TOKEN}"
    assert opened.view is not None and opened.view["callback_id"] == SCORE_MODAL
    # The org's installer is an ICP owner in the org's workspaces (not an admin per users.info).
    fields = oauth_env.driver.slash_fields("import", user_id=INSTALLER)
    fields |= {"enterprise_id": ENTERPRISE, "is_enterprise_install": "true"}
    url = oauth_env.stand_in.response_url()
    fields["response_url"] = url
    assert oauth_env.driver.post_form(fields).status == 200
    (reply,) = oauth_env.stand_in.wait_for("response_url", lambda c: url.endswith(c.path))
    assert "only ICP owners" not in reply.text
    assert all(
        c.headers.get("authorization") == f"Bearer {ORG_TOKEN}"
        for c in oauth_env.stand_in.calls_to("users.info")
    )


def test_scheduled_work_finds_the_org_token_for_the_orgs_workspaces_only(oauth_env: SlackEnv) -> None:
    org_wide(oauth_env)
    install(oauth_env, enterprise_id=ENTERPRISE)
    clients = client_factory(oauth_env.settings, oauth_env.engine)
    inside = clients(TEAM_ID)
    assert inside is not None and inside.token == ORG_TOKEN
    assert clients(OUTSIDER) is None
    org_itself = clients(ENTERPRISE)  # the org-wide install's default reminder is kept under it
    assert org_itself is not None and org_itself.token == ORG_TOKEN
    # With the enterprise named (a request), no listing is needed.
    asked = len(oauth_env.stand_in.calls_to("auth.teams.list"))
    found = bot_for_team(oauth_env.settings, oauth_env.engine, team_id=OUTSIDER, enterprise_id=ENTERPRISE)
    assert found is not None and found.bot_token == ORG_TOKEN
    assert len(oauth_env.stand_in.calls_to("auth.teams.list")) == asked


def test_a_workspace_installed_on_its_own_inside_an_org_is_found_without_the_enterprise(
    oauth_env: SlackEnv,
) -> None:
    """A workspace-level install in a Grid workspace: its rows carry the enterprise id, which
    scheduled work does not know; it is found anyway (a plain ``find_bot(None, team)`` is not)."""

    grant = granted(token="xoxb-workspace-in-org", team={"id": TEAM_ID, "name": "E2E"}, org_wide=False)
    oauth_env.stand_in.respond_with("oauth.v2.access", grant)
    run_install(oauth_env)
    store = installation_store(oauth_env.settings, oauth_env.engine)
    assert store is not None
    assert store.find_bot(enterprise_id=None, team_id=TEAM_ID) is None  # what the scheduler used to ask
    client = client_factory(oauth_env.settings, oauth_env.engine)(TEAM_ID)
    assert client is not None and client.token == "xoxb-workspace-in-org"
    assert not oauth_env.stand_in.calls_to("auth.teams.list")
