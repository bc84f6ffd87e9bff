"""The connector for a workspace's stored credentials, configured from the settings."""

from __future__ import annotations

from collections.abc import Callable

from bot.connectors.records import CrmConnector, Provider
from bot.connectors.retry import RetryPolicy
from bot.services.crm_sync.credentials import CrmCredentials
from bot.settings import Settings

__all__ = ["ConnectorFactory", "open_connector"]

ConnectorFactory = Callable[[CrmCredentials, Settings], CrmConnector]


def open_connector(credentials: CrmCredentials, settings: Settings) -> CrmConnector:
    """A connector for ``credentials`` (nothing is called yet).

    The CRMs' clients are imported here, when a connector is needed: the Slack listeners import
    this module, and every server and score worker would otherwise load both SDKs at start.
    """
    retry = RetryPolicy(deadline_s=settings.crm_call_deadline_seconds)
    if credentials.provider is Provider.hubspot:
        from bot.connectors.hubspot import HubSpotConnector, HubSpotOptions

        assert credentials.token is not None  # CrmCredentials.checked()
        return HubSpotConnector(
            HubSpotOptions(token=credentials.token, base_url=settings.hubspot_api_url, retry=retry)
        )
    from bot.connectors.salesforce import SalesforceConnector, SalesforceOptions

    assert credentials.instance_url is not None
    return SalesforceConnector(
        SalesforceOptions(
            instance_url=credentials.instance_url,
            access_token=credentials.token,
            username=credentials.username,
            password=credentials.password,
            security_token=credentials.security_token,
            domain=credentials.domain,
            ca_bundle=None if settings.crm_ca_bundle is None else str(settings.crm_ca_bundle),
            retry=retry,
        )
    )
