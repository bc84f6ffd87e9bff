"""How simple-salesforce's exceptions map onto the retry outcomes, in words an org admin can act on.

simple-salesforce raises one class per status (401 expired session, 403 refused, 400 malformed,
404 not found, anything else "general") and carries Salesforce's error body
(``[{"message", "errorCode"}]``) but no headers, so Retry-After comes from the connector's
response hook. ``REQUEST_LIMIT_EXCEEDED`` is the org's rolling 24-hour API allowance: waiting
seconds cannot help, so it fails at once instead of burning the retry deadline. Messages are
built from Salesforce's code and text only: never the URL, a header or a token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from bot.connectors.retry import Attempt, Outcome

__all__ = ["DAILY_LIMIT", "classifier", "salesforce_error"]

DAILY_LIMIT = "REQUEST_LIMIT_EXCEEDED"


def salesforce_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) from an error body: a list of ``{message, errorCode}`` or plain text."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return str(first.get("errorCode") or ""), str(first.get("message") or "")
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or ""), str(
            content.get("message") or content.get("error_description") or ""
        )
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content or "")
    return "", text.strip()[:300]


def _said(exc: SalesforceError) -> str:
    code, message = salesforce_error(exc.content)
    if code and message:
        return f"{code}: {message}"
    return code or message or f"HTTP {exc.status}"


def classifier(*, retry_after: Callable[[], float | None]) -> Callable[[BaseException], Attempt | None]:
    """The ``classify`` for :func:`bot.connectors.retry.call`; ``retry_after`` reads the last
    response's Retry-After (the exceptions do not carry headers)."""

    def classify(exc: BaseException) -> Attempt | None:
        if isinstance(exc, SalesforceAuthenticationFailed):
            return Attempt(Outcome.auth, f"Salesforce refused the login ({exc.code}: {exc.auth_message})")
        if isinstance(exc, SalesforceExpiredSession):
            return Attempt(
                Outcome.auth, f"the access token is expired or revoked ({_said(exc)}); reconnect Salesforce"
            )
        if isinstance(exc, SalesforceRefusedRequest):
            code, _ = salesforce_error(exc.content)
            if code == DAILY_LIMIT:  # not worth waiting for: backing off would last until the deadline
                return Attempt(
                    Outcome.exhausted,
                    f"the org's daily API request limit is spent ({_said(exc)}); it frees up over the next 24 hours",
                )
            return Attempt(Outcome.auth, f"the Salesforce user lacks access ({_said(exc)})")
        if isinstance(exc, SalesforceMalformedRequest | SalesforceResourceNotFound):
            return Attempt(Outcome.refused, f"Salesforce refused the request ({_said(exc)})")
        if isinstance(exc, SalesforceGeneralError):
            if exc.status == 429:
                return Attempt(Outcome.rate_limited, f"rate limited ({_said(exc)})", retry_after())
            if exc.status >= 500:
                return Attempt(Outcome.transient, f"Salesforce answered {exc.status} ({_said(exc)})")
            return Attempt(Outcome.refused, f"Salesforce answered {exc.status} ({_said(exc)})")
        if isinstance(exc, SalesforceError):
            return Attempt(Outcome.refused, f"Salesforce answered {exc.status} ({_said(exc)})")
        if isinstance(exc, requests.exceptions.SSLError):
            # A certificate problem does not heal by retrying (a subclass of ConnectionError).
            return Attempt(
                Outcome.refused, "the TLS connection to Salesforce failed (certificate not trusted?)"
            )
        if isinstance(exc, requests.Timeout):
            return Attempt(Outcome.transient, "Salesforce did not answer in time")
        if isinstance(exc, requests.ConnectionError):
            return Attempt(Outcome.transient, "could not connect to Salesforce")
        return None

    return classify
