"""What can go wrong talking to a CRM, as the sync and the Slack surface need to tell it apart."""

from __future__ import annotations

__all__ = ["CrmAuthError", "CrmError", "CrmRateLimited", "CrmRequestError", "CrmUnavailable"]


class CrmError(Exception):
    """A CRM call failed; ``str()`` is written for the workspace's owner and holds no secret."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.reason = message


class CrmAuthError(CrmError):
    """The token is expired, revoked or lacks a scope: reconnect; never retried."""


class CrmRateLimited(CrmError):
    """The API's rate limit held past the deadline (or a daily limit is spent): try later."""

    def __init__(self, provider: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class CrmUnavailable(CrmError):
    """5xx answers, timeouts or refused connections until the deadline passed."""


class CrmRequestError(CrmError):
    """The CRM refused the request itself (a 4xx other than auth and rate limits): not retried."""
