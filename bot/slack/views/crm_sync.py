"""The Slack side of the live CRM sync: the connect modal, its answers, sync summaries, App Home.

Pure: data in, Block Kit out. The modal never carries a secret back to Slack (its fields start
empty and ``private_metadata`` holds only the provider); whatever the CRM says about itself (the
portal or org label) and every sync message count as user-provided text and are escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.connectors.records import Provider
from bot.services.crm_sync.connect import ConnectionStatus, ConnectOutcome
from bot.services.crm_sync.credentials import CredentialsError, CrmCredentials
from bot.services.crm_sync.sync import SyncSummary
from bot.services.imports.service import ImportSummary
from bot.slack.views.blocks_text import (
    FALLBACK_TEXT_MAX,
    context,
    escape,
    plural,
    section,
    slack_time,
    truncate,
)
from bot.store.models import SyncStatus

__all__ = [
    "CONNECT_MODAL",
    "CRM_HOME_ACTIONS",
    "CRM_SYNC_ACTION",
    "HUBSPOT_TOKEN_BLOCK",
    "SF_PASSWORD_BLOCK",
    "SF_SECURITY_BLOCK",
    "SF_TOKEN_BLOCK",
    "SF_URL_BLOCK",
    "SF_USERNAME_BLOCK",
    "VALUE_ACTION",
    "CrmMessage",
    "connect_modal",
    "connect_outcome_message",
    "connect_usage",
    "home_crm_blocks",
    "provider_from_metadata",
    "read_credentials",
    "status_message",
    "sync_message",
]

CONNECT_MODAL = "crm_connect_modal"
VALUE_ACTION = "value"  # every input's action id (block ids tell the fields apart)
HUBSPOT_TOKEN_BLOCK = "crm_hubspot_token"
SF_URL_BLOCK = "crm_sf_instance_url"
SF_TOKEN_BLOCK = "crm_sf_token"
SF_USERNAME_BLOCK = "crm_sf_username"
SF_PASSWORD_BLOCK = "crm_sf_password"
SF_SECURITY_BLOCK = "crm_sf_security_token"
CRM_SYNC_ACTION = "icp_home_crm_sync"
# App Home CRM buttons: action id -> (label, the /icp subcommand it runs), as HOME_ACTIONS.
CRM_HOME_ACTIONS: dict[str, tuple[str, str]] = {CRM_SYNC_ACTION: ("Sync now", "sync")}
SECRET_HINT = "Stored encrypted and never shown again, in Slack or anywhere else."
INPUT_MAX = 3000
SKIPPED_SHOWN = 5
MESSAGE_MAX = 1500  # a CRM's message in one section line
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")

_OUTCOME = {
    "synced": "✅ Synced",
    "dry_run": "🔎 Dry run (nothing changed)",
    "failed": "❌ Sync failed",
    "auth_failed": "🔒 The CRM refused the token",
    "busy": "⏳ A sync is already running",
    "not_connected": "🔌 No CRM connected",
}


@dataclass(frozen=True)
class CrmMessage:
    """A message to post: the notification text (plain, escaped) and the blocks."""

    text: str
    blocks: list[Block]

    def block_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


def connect_usage() -> str:
    """What `/icp connect` takes."""
    return (
        "Usage: `/icp connect hubspot` or `/icp connect salesforce` (opens a form for the credentials), "
        "`/icp connect status`, `/icp connect remove`."
    )


# --- the connect modal ----------------------------------------------------------------------------


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text)


def _input(
    block_id: str, label: str, *, placeholder: str, hint: str | None = None, optional: bool = False
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_plain(label),
        optional=optional,
        hint=_plain(hint) if hint else None,
        element=PlainTextInputElement(
            action_id=VALUE_ACTION, placeholder=_plain(placeholder), max_length=INPUT_MAX
        ),
    )


def connect_modal(provider: Provider) -> View:
    """The credentials form; its fields start empty (a stored secret is never sent back to Slack)."""
    if provider is Provider.hubspot:
        blocks: list[Block] = [
            section(
                "Create a HubSpot *private app* (Settings → Integrations → Private apps) with the CRM "
                "companies and deals scopes (read, and write for the ICP score), then paste its access token."
            ),
            _input(
                HUBSPOT_TOKEN_BLOCK,
                "Private app access token",
                placeholder="pat-na1-…",
                hint=f"Slack shows what you type here. {SECRET_HINT}",
            ),
        ]
    else:
        blocks = [
            section(
                "Give your Salesforce instance URL and a connected app's access token, or a username, "
                "password and security token instead of the access token."
            ),
            _input(SF_URL_BLOCK, "Instance URL", placeholder="https://yourcompany.my.salesforce.com"),
            _input(
                SF_TOKEN_BLOCK,
                "Access token",
                placeholder="00D…",
                hint=f"Leave empty to sign in with a username and password. {SECRET_HINT}",
                optional=True,
            ),
            _input(SF_USERNAME_BLOCK, "Username", placeholder="you@yourcompany.com", optional=True),
            _input(
                SF_PASSWORD_BLOCK,
                "Password",
                placeholder="only with a username",
                hint=f"Slack has no hidden input: it shows what you type. {SECRET_HINT}",
                optional=True,
            ),
            _input(
                SF_SECURITY_BLOCK,
                "Security token",
                placeholder="only with a username",
                hint=SECRET_HINT,
                optional=True,
            ),
        ]
    blocks.append(
        context("I check the credentials with one call to the CRM and tell you the outcome in a DM.")
    )
    return View(
        type="modal",
        callback_id=CONNECT_MODAL,
        private_metadata=provider.value,
        title=_plain(f"Connect {provider.label}"),
        submit=_plain("Connect"),
        close=_plain("Cancel"),
        blocks=blocks,
    )


def provider_from_metadata(metadata: str) -> Provider | None:
    """The provider a submitted modal is for; None for anything this app did not put there."""
    try:
        return Provider(metadata.strip())
    except ValueError:
        return None


def _value(values: Mapping[str, Any], block: str) -> str | None:
    found = ((values.get(block) or {}).get(VALUE_ACTION) or {}).get("value")
    text = str(found or "").strip()
    return text or None


def read_credentials(provider: Provider, values: Mapping[str, Any]) -> CrmCredentials | dict[str, str]:
    """The checked credentials from the modal's ``state.values``, or errors by block id."""
    if provider is Provider.hubspot:
        credentials = CrmCredentials(provider, token=_value(values, HUBSPOT_TOKEN_BLOCK))
    else:
        credentials = CrmCredentials(
            provider,
            token=_value(values, SF_TOKEN_BLOCK),
            instance_url=_value(values, SF_URL_BLOCK),
            username=_value(values, SF_USERNAME_BLOCK),
            password=_value(values, SF_PASSWORD_BLOCK),
            security_token=_value(values, SF_SECURITY_BLOCK),
        )
    try:
        return credentials.checked()
    except CredentialsError as exc:
        return {_block_at_fault(credentials): str(exc)}


def _block_at_fault(credentials: CrmCredentials) -> str:
    """Which field the error belongs next to (the URL when it fails even with a token)."""
    if credentials.provider is Provider.hubspot:
        return HUBSPOT_TOKEN_BLOCK
    try:
        replace(credentials, token="present").checked()
    except CredentialsError:
        return SF_URL_BLOCK
    if credentials.username and not credentials.password:
        return SF_PASSWORD_BLOCK
    if credentials.username and not credentials.security_token:
        return SF_SECURITY_BLOCK
    return SF_TOKEN_BLOCK


def connect_outcome_message(outcome: ConnectOutcome) -> CrmMessage:
    """What the person who submitted the modal reads (the outcome's message never holds the token)."""
    mark = "✅" if outcome.ok else "⚠️"
    text = f"{mark} {escape(outcome.message)}"
    blocks: list[Block] = [section(truncate(text, MESSAGE_MAX))]
    if outcome.ok:
        blocks.append(context("Owners can run `/icp sync` now; the App Home shows how the syncs go."))
    else:
        blocks.append(context(f"Try again with `/icp connect {outcome.provider.value}`."))
    return CrmMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=blocks)


# --- sync summaries -------------------------------------------------------------------------------


def _counts(noun: str, result: ImportSummary | None, read: int) -> str:
    if result is None:
        return f"• *{noun}*: {read:,} changed in the CRM" if read else f"• *{noun}*: no changes"
    return (
        f"• *{noun}*: {result.added:,} added, {result.updated:,} updated, {result.unchanged:,} unchanged, "
        f"{result.rejected:,} skipped"
    )


def _skipped(summary: SyncSummary) -> list[str]:
    skipped = summary.skipped
    lines = [f"• {escape(truncate(str(record), 300))}" for record in skipped[:SKIPPED_SHOWN]]
    if len(skipped) > SKIPPED_SHOWN:
        lines.append(f"…and {plural(len(skipped) - SKIPPED_SHOWN, 'more')}")
    return lines


def sync_message(summary: SyncSummary) -> CrmMessage:
    """One sync's outcome: one line, the counts, up to five skipped records and the notes."""
    provider = Provider(summary.provider).label if summary.provider else "CRM"
    head = _OUTCOME.get(summary.status, summary.status)
    lead = f"*{head}* · {provider}" + (
        f" · {summary.mode}" if summary.status in ("synced", "dry_run") else ""
    )
    blocks: list[Block] = [section(lead)]
    if summary.message and not summary.ok:
        blocks.append(section(truncate(escape(summary.message), MESSAGE_MAX)))
    if summary.ok:
        lines = [
            _counts("Accounts", summary.accounts, summary.accounts_read),
            _counts("Deals", summary.deals, summary.deals_read),
        ]
        if summary.accounts_removed or summary.deals_removed or summary.accounts_merged:
            merged = f" ({summary.accounts_merged:,} merged into others)" if summary.accounts_merged else ""
            lines.append(
                f"• *Removed*: {plural(summary.accounts_removed, 'account')}{merged}, "
                f"{plural(summary.deals_removed, 'deal')}"
            )
        back = summary.write_back
        if back is not None:
            detail = f" ({escape(truncate(back.message, 300))})" if back.message else ""
            lines.append(f"• *Scores written to the CRM*: {back.written:,}{detail}")
        blocks.append(section("\n".join(lines)))
        skipped = _skipped(summary)
        if skipped:
            blocks.append(section("*Skipped records*\n" + "\n".join(skipped)))
    if summary.notes:
        blocks.append(context(*(escape(truncate(note, 500)) for note in summary.notes)))
    if summary.status == "auth_failed" and summary.provider:
        blocks.append(context(f"An ICP owner can connect again with `/icp connect {summary.provider}`."))
    text = f"{head}: {escape(summary.message)}" if summary.message else head
    return CrmMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=blocks)


# --- where the connection stands --------------------------------------------------------------------


def _status_lines(status: ConnectionStatus) -> list[str]:
    lines = [f"*{status.provider.label}* · {escape(truncate(status.label, 200))}"]
    if status.last_sync_at is None:
        lines.append("Last sync: none yet.")
    else:
        how = "succeeded" if status.last_sync_status is SyncStatus.succeeded else "failed"
        lines.append(f"Last sync: {slack_time(status.last_sync_at)}, {how}.")
        if status.last_sync_message:
            lines.append(f"> {escape(truncate(' '.join(status.last_sync_message.split()), MESSAGE_MAX))}")
    if status.token_refused:
        lines.append(
            f"⚠️ {status.provider.label} refused the stored token: scheduled syncs are paused until an owner "
            f"connects again with `/icp connect {status.provider.value}`."
        )
    elif status.next_sync_at is not None:
        lines.append(f"Next sync: {slack_time(status.next_sync_at)}.")
    else:
        lines.append("Scheduled syncs are off; owners sync with `/icp sync`.")
    return lines


def status_message(status: ConnectionStatus | None) -> CrmMessage:
    """`/icp connect status`: the connection, its last sync and the next one."""
    if status is None:
        text = "No CRM is connected. An ICP owner connects one with `/icp connect hubspot` or `/icp connect salesforce`."
        return CrmMessage(text=text, blocks=[section(text)])
    lines = _status_lines(status)
    # A Slack user is mentioned; `icp connect` on the command line records a login name instead.
    by = (
        f"<@{status.connected_by}>"
        if _SLACK_USER.fullmatch(status.connected_by)
        else escape(status.connected_by)
    )
    footer = f"Connected by {by} on {slack_time(status.connected_at)} · {plural(status.runs, 'sync run')}"
    return CrmMessage(
        text=truncate("\n".join(lines), FALLBACK_TEXT_MAX),
        blocks=[section("\n".join(lines)), context(footer)],
    )


def home_crm_blocks(status: ConnectionStatus | None, *, is_owner: bool) -> list[Block]:
    """The App Home's CRM section: the connection and, for owners, a "Sync now" button."""
    if status is None:
        hint = (
            "Run `/icp connect hubspot` or `/icp connect salesforce` to sync your CRM here."
            if is_owner
            else "No CRM connected: an ICP owner can connect one with `/icp connect hubspot|salesforce`."
        )
        return [section(f"No CRM connected. {hint}" if is_owner else hint)]
    blocks: list[Block] = [section("\n".join(_status_lines(status)))]
    if is_owner:
        blocks.append(
            ActionsBlock(
                block_id="icp_home_crm_actions",
                elements=[
                    ButtonElement(text=_plain(label), action_id=action_id, value=sub)
                    for action_id, (label, sub) in CRM_HOME_ACTIONS.items()
                ],
            )
        )
    return blocks
