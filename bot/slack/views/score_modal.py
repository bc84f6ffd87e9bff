"""The "Score a company" shortcuts: the modal, what it submits, and the domain a message names.

Pure: the modal is a function of nothing; reading a submission gives the request or errors by
block id (shown next to the field); ``domains_in`` reads a message's text as Slack sends it
(links as ``<https://acme.com|acme.com>``, addresses as ``<mailto:…>``, plain words).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from bot.services.scoring.account_lookup import normalize_domain
from bot.services.scoring.service import INLINE_EXAMPLE
from bot.slack.views.blocks_text import context

SCORE_SHORTCUT = "score_company"  # global shortcut callback id (both manifests)
SCORE_MESSAGE_SHORTCUT = "score_message_company"  # message shortcut callback id (both manifests)
SCORE_MODAL = "score_company_modal"
COMPANY_BLOCK, COMPANY_ACTION = "score_company", "company"
ATTRIBUTES_BLOCK, ATTRIBUTES_ACTION = "score_attributes", "attributes"
INPUT_MAX = 500

EMPTY_ERROR = "Give a domain or a company name, or attributes below."
BOTH_ERROR = "Give either a company or attributes, not both."
NO_DOMAIN_TEXT = (
    "I couldn't find a company domain in that message (like acme.com). "
    "Use the *Score a company* shortcut or `/icp score` with a domain or a name instead."
)
MAX_DOMAINS = 5
_LINK = re.compile(r"<([^<>|]+)(?:\|[^<>]*)?>")
_WORD = re.compile(r"[\w.@:/-]+")
_TLD = re.compile(r"\.[a-z]{2,}$")
_NOT_COMPANIES = frozenset({"slack.com", "slack-edge.com"})


@dataclass(frozen=True)
class ScoreAsk:
    """What the modal asks to score: a domain or name, or typed attributes (``key=value`` words)."""

    query: str = ""
    attributes: str = ""


def _title(text: str) -> PlainTextObject:
    return PlainTextObject(text=text)


def score_modal() -> View:
    """A domain or name (looked up like ``/icp score``; an ambiguous name gets the chooser), or
    attributes; the card comes in the person's DM with the bot."""
    return View(
        type="modal",
        callback_id=SCORE_MODAL,
        title=_title("Score a company"),
        submit=_title("Score"),
        close=_title("Cancel"),
        blocks=[
            InputBlock(
                block_id=COMPANY_BLOCK,
                label=_title("Domain or company name"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=COMPANY_ACTION,
                    placeholder=_title("acme.com or Acme Inc"),
                    max_length=INPUT_MAX,
                ),
            ),
            InputBlock(
                block_id=ATTRIBUTES_BLOCK,
                label=_title("Or its attributes"),
                optional=True,
                hint=_title("A company that is not in your CRM, scored from what you know of it."),
                element=PlainTextInputElement(
                    action_id=ATTRIBUTES_ACTION,
                    placeholder=_title(INLINE_EXAMPLE),
                    max_length=INPUT_MAX,
                ),
            ),
            context("The score card arrives in your DM with me, privately."),
        ],
    )


def _value(values: Mapping[str, Any], block: str, action: str) -> str:
    found = ((values.get(block) or {}).get(action) or {}).get("value")
    return " ".join(str(found or "").split())


def read_score_ask(values: Mapping[str, Any]) -> ScoreAsk | dict[str, str]:
    """The request from the modal's ``state.values``, or errors by block id."""
    query = _value(values, COMPANY_BLOCK, COMPANY_ACTION)
    attributes = _value(values, ATTRIBUTES_BLOCK, ATTRIBUTES_ACTION)
    if not query and not attributes:
        return {COMPANY_BLOCK: EMPTY_ERROR}
    if query and attributes:
        return {ATTRIBUTES_BLOCK: BOTH_ERROR}
    return ScoreAsk(query=query, attributes=attributes)


def _link_target(match: re.Match[str]) -> str:
    target = match.group(1)
    return " " if target.startswith(("@", "#", "!")) else f" {target} "


def domains_in(text: str) -> list[str]:
    """The company domains a message names, in order, without repeats.

    Links count by their target; mentions, channels and Slack's own links are not companies."""
    found: list[str] = []
    for word in _WORD.findall(_LINK.sub(_link_target, text)):
        domain = normalize_domain(word.strip(".,;:!?()'\"")) if "." in word else None
        if not domain or not _TLD.search(domain) or domain in found:
            continue
        if any(domain == s or domain.endswith("." + s) for s in _NOT_COMPANIES):
            continue
        found.append(domain)
        if len(found) >= MAX_DOMAINS:
            break
    return found
