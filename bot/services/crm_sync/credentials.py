"""What it takes to reach one CRM, and how it is kept: JSON, sealed with the store's cipher."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from bot.connectors.records import Provider

__all__ = ["CredentialsError", "CrmCredentials"]


class CredentialsError(ValueError):
    """Credentials that cannot work; the message names the missing or bad part (never its value)."""


@dataclass(frozen=True)
class CrmCredentials:
    """A HubSpot private-app token; or a Salesforce instance URL with an access token, or with a
    username, password and security token (the username-password flow)."""

    provider: Provider
    token: str | None = None
    instance_url: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    domain: str = "login"

    def __repr__(self) -> str:  # never a secret in a traceback or a log line
        return f"CrmCredentials(provider={self.provider.value!r}, instance_url={self.instance_url!r})"

    def checked(self) -> CrmCredentials:
        """These credentials, or a ``CredentialsError`` that says what is missing."""
        if self.provider is Provider.hubspot:
            if not (self.token or "").strip():
                raise CredentialsError("HubSpot needs a private app access token (it starts with 'pat-')")
            return self
        if not (self.instance_url or "").strip():
            raise CredentialsError(
                "Salesforce needs the instance URL, e.g. https://yourcompany.my.salesforce.com"
            )
        parts = urlsplit(self.instance_url or "")
        if parts.scheme != "https" or not parts.hostname:
            raise CredentialsError(
                "the Salesforce instance URL must be an https:// address, e.g. https://yourcompany.my.salesforce.com"
            )
        if self.token:
            return self
        if self.username and self.password and self.security_token:
            return self
        raise CredentialsError(
            "Salesforce needs an access token (a connected app's), or a username, password and security token"
        )

    def to_json(self) -> str:
        data = {key: value for key, value in asdict(self).items() if value not in (None, "")}
        data["provider"] = self.provider.value
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CrmCredentials:
        data = json.loads(text)
        return cls(**{**data, "provider": Provider(data["provider"])})
