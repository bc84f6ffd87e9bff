"""ICP owners end to end: the first installer stays the owner when someone else runs the install
flow again (the escalation found in review), ``/icp owners add|remove|list`` over signed HTTP, and
``ICP_OWNERS`` per workspace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, delete

from bot.store.models import WorkspaceInstaller
from bot.store.repo.audit import list_audit
from bot.store.repo.workspaces import get_workspace
from tests.support.harness import ADMIN_ID, MEMBER_ID, TEAM_ID, RecordedCall, SlackEnv
from tests.support.oauth import INSTALLER, install, installed, skip_without_greenlet

skip_without_greenlet()

REFUSED = "only ICP owners"
OTHER = "U0OTHERMEMBER"


def installs_as(env: SlackEnv, user_id: str) -> None:
    """From now on the stand-in's OAuth exchange says ``user_id`` completed the install."""
    previous = env.stand_in.responders["oauth.v2.access"]

    def grant(call: RecordedCall) -> dict[str, Any]:
        answer: dict[str, Any] = previous(call)
        return {**answer, "authed_user": {"id": user_id}}

    env.stand_in.respond_with("oauth.v2.access", grant)


def audit_actions(env: SlackEnv) -> list[tuple[str, str, str | None]]:
    with Session(env.engine) as session:
        workspace = get_workspace(session=session, slack_team_id=TEAM_ID)
        assert workspace is not None and workspace.id is not None
        rows = list_audit(session=session, workspace_id=workspace.id)
    return [
        (row.action, row.actor, row.target_id) for row in reversed(rows) if row.action.startswith("owner.")
    ]


@pytest.mark.security
def test_a_member_who_reinstalls_the_app_does_not_become_an_owner(oauth_env: SlackEnv) -> None:
    install(oauth_env)  # the real installer (not a Slack admin) installs first
    installs_as(oauth_env, MEMBER_ID)
    install(oauth_env)  # then a plain member completes /slack/install -> /slack/oauth_redirect
    assert installed(oauth_env).user_id == MEMBER_ID  # slack_sdk's newest row names the member...

    refused = oauth_env.driver.slash_reply("import", user_id=MEMBER_ID)
    assert REFUSED in refused.text and f"<@{INSTALLER}>" in refused.text  # ...but they gained nothing
    assert REFUSED in oauth_env.driver.slash_reply("owners add <@U0MEMBER>", user_id=MEMBER_ID).text
    assert REFUSED not in oauth_env.driver.slash_reply("import", user_id=INSTALLER).text
    listing = oauth_env.driver.slash_reply("owners list", user_id=MEMBER_ID).text
    assert f"<@{INSTALLER}> (installed the app)" in listing and MEMBER_ID not in listing
    assert audit_actions(oauth_env) == [("owner.installer", INSTALLER, INSTALLER)]


@pytest.mark.security
def test_a_member_cannot_add_themselves_or_remove_an_owner(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    for text in (
        f"owners add <@{MEMBER_ID}|sam>",
        f"owners remove <@{INSTALLER}>",
        f"owners add {MEMBER_ID}",
    ):
        reply = oauth_env.driver.slash_reply(text, user_id=MEMBER_ID)
        assert REFUSED in reply.text, text
    assert REFUSED in oauth_env.driver.slash_reply("import", user_id=MEMBER_ID).text
    assert audit_actions(oauth_env) == [("owner.installer", INSTALLER, INSTALLER)]


def test_owners_add_list_and_remove(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    driver = oauth_env.driver
    assert REFUSED in driver.slash_reply("import", user_id=MEMBER_ID).text

    added = driver.slash_reply(f"owners add <@{MEMBER_ID}|sam>", user_id=INSTALLER)  # escaped mention
    assert added.text == f"<@{MEMBER_ID}> is now an ICP owner."
    assert REFUSED not in driver.slash_reply("import", user_id=MEMBER_ID).text
    again = driver.slash_reply(f"owners add {MEMBER_ID}", user_id=INSTALLER)  # raw id
    assert again.text == f"<@{MEMBER_ID}> already is an ICP owner."
    by_added = driver.slash_reply(f"owners add <@{OTHER}>", user_id=MEMBER_ID)  # an added owner may add
    assert "is now an ICP owner" in by_added.text

    listing = driver.slash_reply("owners", user_id=OTHER).text  # anyone may list
    assert f"<@{INSTALLER}> (installed the app)" in listing
    assert f"<@{MEMBER_ID}> (added by an owner)" in listing and f"<@{OTHER}> (added by an owner)" in listing

    removed = driver.slash_reply(f"owners remove <@{MEMBER_ID}>", user_id=INSTALLER)
    assert "no longer an ICP owner" in removed.text
    assert REFUSED in driver.slash_reply("import", user_id=MEMBER_ID).text
    nothing = driver.slash_reply(f"owners remove <@{ADMIN_ID}>", user_id=INSTALLER)
    assert "nothing changed" in nothing.text  # admins are owners through Slack, not this list
    assert REFUSED not in driver.slash_reply("import", user_id=ADMIN_ID).text

    # The installer can be removed while another owner is named; the last one cannot.
    assert "no longer" in driver.slash_reply(f"owners remove <@{INSTALLER}>", user_id=OTHER).text
    assert REFUSED in driver.slash_reply("import", user_id=INSTALLER).text
    last = driver.slash_reply(f"owners remove <@{OTHER}>", user_id=ADMIN_ID)
    assert "last ICP owner" in last.text
    assert REFUSED not in driver.slash_reply("import", user_id=OTHER).text

    assert audit_actions(oauth_env) == [
        ("owner.installer", INSTALLER, INSTALLER),
        ("owner.add", INSTALLER, MEMBER_ID),
        ("owner.add", MEMBER_ID, OTHER),
        ("owner.remove", INSTALLER, MEMBER_ID),
        ("owner.remove", OTHER, INSTALLER),
    ]


def test_owners_takes_a_typed_name_and_refuses_what_it_cannot_tell(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    oauth_env.stand_in.add_user("U0PATLEE", name="pat", real_name="Pat Lee")
    typed = oauth_env.driver.slash_reply("owners add @pat", user_id=INSTALLER)  # plain @name
    assert typed.text == "<@U0PATLEE> is now an ICP owner."
    nobody = oauth_env.driver.slash_reply("owners add @nobody-here", user_id=INSTALLER)
    assert "couldn't find anyone called `@nobody-here`" in nobody.text
    reply = oauth_env.driver.slash_reply("owners add <!channel>", user_id=INSTALLER)
    assert "I can't tell who `&lt;!channel&gt;` is" in reply.text
    assert "Usage" in oauth_env.driver.slash_reply("owners promote x", user_id=INSTALLER).text
    assert "owners [list | add @person | remove @person]" in oauth_env.driver.slash_reply("help owners").text


def test_icp_owners_per_workspace(make_slack_env: Callable[..., SlackEnv]) -> None:
    env = make_slack_env(icp_owners=f"T0ELSEWHERE:{MEMBER_ID};{TEAM_ID}:{OTHER}")
    assert REFUSED not in env.driver.slash_reply("import", user_id=OTHER).text
    assert REFUSED in env.driver.slash_reply("import", user_id=MEMBER_ID).text  # owner of another team
    assert REFUSED in env.driver.slash_reply("import", user_id=ADMIN_ID).text  # configured list wins here
    assert f"(set by ICP_OWNERS): <@{OTHER}>." in env.driver.slash_reply("owners list").text
    fixed = env.driver.slash_reply(f"owners add <@{MEMBER_ID}>", user_id=OTHER)
    assert "set by the ICP_OWNERS setting" in fixed.text


def test_a_workspace_not_named_in_icp_owners_keeps_the_defaults(
    make_slack_env: Callable[..., SlackEnv],
) -> None:
    env = make_slack_env(icp_owners=f"T0ELSEWHERE:{OTHER}")
    assert REFUSED not in env.driver.slash_reply("import", user_id=ADMIN_ID).text
    assert REFUSED in env.driver.slash_reply("import", user_id=OTHER).text
    added = env.driver.slash_reply(f"owners add <@{MEMBER_ID}>", user_id=ADMIN_ID)
    assert "is now an ICP owner" in added.text
    assert REFUSED not in env.driver.slash_reply("import", user_id=MEMBER_ID).text


@pytest.mark.security
def test_an_install_from_before_the_upgrade_keeps_its_first_installer(oauth_env: SlackEnv) -> None:
    install(oauth_env)
    with Session(oauth_env.engine) as session:  # as if installed by a version that kept no record
        session.execute(delete(WorkspaceInstaller))
        session.commit()
    installs_as(oauth_env, MEMBER_ID)
    install(oauth_env)  # the first install this version sees is the member's
    assert REFUSED in oauth_env.driver.slash_reply("import", user_id=MEMBER_ID).text
    assert REFUSED not in oauth_env.driver.slash_reply("import", user_id=INSTALLER).text
    listing = oauth_env.driver.slash_reply("owners list", user_id=MEMBER_ID).text
    assert f"<@{INSTALLER}> (installed the app)" in listing
