"""``/icp interview @a @b [role=sales]`` and ``/icp interview me``: invite people to a DM interview.

Inviting others is for ICP owners (they run the ICP work and decide whom to ask); anyone may
interview themselves. Each invitee gets a DM with a Start button; someone already being
interviewed is not invited twice, and a DM that cannot be sent leaves no open interview behind.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.interviews import conversation as interviews
from bot.services.interviews.questions import load_question_set
from bot.slack.listeners.commands.icp.registry import SlashRequest, subcommand
from bot.slack.mentions import Lookup, PersonError, lookup_for, take_person
from bot.slack.messaging.interviews import as_dicts, open_dm, post_message
from bot.slack.people import owner_rules
from bot.slack.views.blocks_text import escape
from bot.slack.views.interview import invitation_message, invite_summary_message, reminder_message
from bot.store.models import GtmRole, InterviewState

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.context import AppContext
    from bot.slack.listeners.commands.icp.registry import Respond

log = logging.getLogger(__name__)

USAGE = "interview @name [@name …] [role=sales] | interview me [role=product]"
MAX_INVITEES = 25
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
ROLE = re.compile(r"^(?:--)?role[=:](.*)$", re.IGNORECASE)
ROLE_ALIASES: dict[str, GtmRole] = {
    "cs": GtmRole.customer_success,
    "success": GtmRole.customer_success,
    "customersuccess": GtmRole.customer_success,
    "am": GtmRole.customer_success,
    "account_management": GtmRole.customer_success,
    "pm": GtmRole.product,
    "exec": GtmRole.leadership,
    "executive": GtmRole.leadership,
    "founder": GtmRole.leadership,
    "ceo": GtmRole.leadership,
    "sdr": GtmRole.sales,
    "bdr": GtmRole.sales,
    "ae": GtmRole.sales,
    "revops": GtmRole.sales,
}
ROLES_HINT = ", ".join(role.value for role in GtmRole)


class UsageError(ValueError):
    """The command text cannot be understood; the message says what to type instead."""


@dataclass
class InterviewArgs:
    users: list[str] = field(default_factory=list)
    me: bool = False
    role: GtmRole | None = None


def parse_role(value: str) -> GtmRole:
    """``sales``, ``Customer-Success``, ``cs``… → a GTM role; a clear error otherwise."""
    key = re.sub(r"[\s-]+", "_", value.strip().lower())
    try:
        return GtmRole(key)
    except ValueError:
        pass
    alias = ROLE_ALIASES.get(key) or ROLE_ALIASES.get(key.replace("_", ""))
    if alias is None:
        shown = value if len(value) <= 30 else value[:29] + "…"
        raise UsageError(f"I don't know the role `{_plain(shown)}`. Roles: {ROLES_HINT}.")
    return alias


def _plain(text: str) -> str:
    return escape(text).replace("`", "'")


def _not_a_name(word: str) -> bool:
    return bool(ROLE.match(word)) or word.lower() in ("me", "myself")


def parse_interview_args(raw: str, lookup: Lookup | None = None) -> InterviewArgs:
    """Mentions (``<@U123|dana>``), raw ids, plain ``@dana`` / ``@Dana Lee`` (resolved through
    ``lookup``; refused without one), ``me`` and ``role=…`` from the text after ``interview``."""
    args = InterviewArgs()

    def add(user_id: str) -> None:
        if user_id not in args.users:
            args.users.append(user_id)

    for user_id in MENTION.findall(raw):
        add(user_id)
    words = MENTION.sub(" ", raw).split()
    i = 0
    while i < len(words):
        word = words[i]
        match = ROLE.match(word)
        if match:
            if args.role is not None:
                raise UsageError("Give `role=` once; it applies to everyone in the command.")
            if not match.group(1):
                raise UsageError(f"`role=` needs a value. Roles: {ROLES_HINT}.")
            args.role = parse_role(match.group(1))
            i += 1
            continue
        if word.lower() in ("me", "myself"):
            args.me = True
            i += 1
            continue
        try:
            person = take_person(words, i, lookup, stop=_not_a_name)
        except PersonError as exc:
            raise UsageError(str(exc)) from exc
        if person is None:
            raise UsageError(f"I didn't understand `{_plain(word[:40])}`. Usage: `/icp {USAGE}`.")
        add(person[0])
        i += person[1]
    if not args.users and not args.me:
        raise UsageError(f"Whom should I interview? Usage: `/icp {USAGE}`.")
    if len(args.users) > MAX_INVITEES:
        raise UsageError(f"That is {len(args.users)} people; invite at most {MAX_INVITEES} at a time.")
    return args


def _profile(client: WebClient, user_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """users.info for a name and title; (None, reason) when the person cannot be interviewed."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown error")
        if error in ("user_not_found", "user_not_visible"):
            return None, "I can't find that person in this workspace."
        log.warning("users.info failed for %s: %s", user_id, error)
        return {}, None  # unknown details are not a reason to refuse
    except (SlackRequestError, OSError) as exc:
        log.warning("users.info unreachable for %s: %s", user_id, exc)
        return {}, None
    if user.get("is_bot") or user_id == "USLACKBOT":
        return None, "that's a bot; bots don't get interviewed."
    if user.get("deleted"):
        return None, "that account is deactivated."
    return user, None


def _names(user: dict[str, Any]) -> tuple[str | None, str | None]:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name")
    title = profile.get("title") or None
    return (str(name)[:200] if name else None), (str(title)[:200] if title else None)


def _slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack said `{exc.response.get('error') or 'error'}`."
    return "Slack could not be reached."


def _invite_one(
    req: SlashRequest, ctx: AppContext, client: WebClient, user_id: str, role: GtmRole | None
) -> tuple[str, str]:
    """Invite one person: ("invited" | "resent", role) or ("already" | "failed", why)."""
    user, reason = _profile(client, user_id)
    if user is None:
        return "failed", reason or "cannot be interviewed."
    name, title = _names(user)
    try:
        channel = open_dm(client, user_id)
    except (SlackApiError, SlackRequestError, OSError, ValueError) as exc:
        return "failed", f"I couldn't open a DM. {_slack_error(exc)}"
    self_invite = user_id == req.user_id
    invitation = interviews.invite(
        engine=ctx.engine,
        team_id=req.team_id,
        user_id=user_id,
        invited_by=req.user_id,
        role=role,
        dm_channel_id=channel,
        display_name=name,
        title=title,
    )
    total = len(invitation.questions)
    if invitation.created:
        message = invitation_message(
            interview_id=invitation.interview_id,
            inviter_id=None if self_invite else req.user_id,
            role_title=invitation.questions.title,
            intro=invitation.questions.intro,
            total=total,
        )
    elif self_invite:
        message = reminder_message(
            interview_id=invitation.interview_id,
            started=invitation.state != InterviewState.pending,
            number=invitation.number,
            total=total,
        )
    else:
        if invitation.state == InterviewState.pending:
            return "already", "was already invited and hasn't started yet."
        paused = " (paused)" if invitation.state == InterviewState.paused else ""
        return "already", f"is already on question {invitation.number} of {total}{paused}."
    try:
        post_message(client, channel=invitation.dm_channel_id or channel, message=message)
    except (SlackApiError, SlackRequestError, OSError) as exc:
        if invitation.created:
            interviews.abandon(
                engine=ctx.engine,
                team_id=req.team_id,
                interview_id=invitation.interview_id,
                actor=req.user_id,
                reason="invitation DM failed",
            )
        return "failed", f"the DM could not be sent. {_slack_error(exc)}"
    return ("invited" if invitation.created else "resent"), invitation.role.value


@subcommand(
    "interview",
    summary="Invite people to a short ICP interview in a DM, or start your own with `me`.",
    usage=USAGE,
    examples=("interview @dana @lee role=sales", "interview me role=product"),
)
def interview_command(req: SlashRequest, ctx: AppContext, client: WebClient, respond: Respond) -> None:
    try:
        args = parse_interview_args(req.raw, lookup_for(client, req.team_id))
    except UsageError as exc:
        respond(text=str(exc))
        return
    others = [uid for uid in args.users if uid != req.user_id]
    include_self = args.me or req.user_id in args.users
    owners = owner_rules(ctx, client)
    if others and not owners.is_owner(team_id=req.team_id, user_id=req.user_id):
        text = owners.refusal(team_id=req.team_id, action="invite other people to interviews")
        respond(text=f"{text} You can always start your own: `/icp interview me`.")
        return
    invited: list[str] = []
    already: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    notes: list[str] = []
    for user_id in ([req.user_id] if include_self else []) + others:
        outcome, detail = _invite_one(req, ctx, client, user_id, args.role)
        if user_id == req.user_id and outcome in ("invited", "resent"):
            notes.append(
                "Check your DMs with me: your interview is waiting there."
                if outcome == "invited"
                else "You already have an interview going; I've put a Resume button in our DM."
            )
            if args.role is None and outcome == "invited" and detail == GtmRole.other.value:
                notes.append(f"Tip: add `role=` ({ROLES_HINT}) for questions tailored to your role.")
        elif outcome == "invited":
            invited.append(user_id)
        elif outcome == "already":
            already.append((user_id, detail))
        elif outcome == "failed":
            failed.append((user_id, detail))
    if not (invited or already or failed):
        respond(text=" ".join(notes) or "Nobody was invited.")
        return
    summary = invite_summary_message(
        invited=invited,
        already=already,
        failed=failed,
        role_title=load_question_set(args.role).title if args.role else None,
        notes=notes,
    )
    respond(text=summary.text, blocks=as_dicts(summary))
