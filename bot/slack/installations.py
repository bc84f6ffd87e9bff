"""Where multi-workspace OAuth installs live: slack_sdk's SQLAlchemy stores on our own database.

The tables (``slack_installations``, ``slack_bots``, ``slack_oauth_states``) belong to slack_sdk,
not to our alembic migrations, so they are created here on first use; ``create_all`` only adds
what is missing, so every replica can call it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.store.db import Engine

if TYPE_CHECKING:
    # Imported lazily below: slack_sdk's module also imports SQLAlchemy's asyncio layer, which
    # needs `greenlet`; single-workspace (bot token) mode must work without it.
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore


class OAuthUnavailable(RuntimeError):
    """OAuth mode is configured but slack_sdk's SQLAlchemy stores cannot be loaded here."""


def _needs_greenlet(exc: ImportError) -> OAuthUnavailable:
    return OAuthUnavailable(
        "OAuth installs (SLACK_CLIENT_ID/SECRET) need the 'greenlet' package for slack_sdk's "
        f"SQLAlchemy stores: pip install 'sqlalchemy[asyncio]' ({exc})"
    )


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore | None:
    """The installation store when OAuth is configured, else None (single-workspace token mode)."""
    if not settings.oauth_enabled:
        return None
    return _installation_store(str(settings.slack_client_id), engine)


@lru_cache(maxsize=32)
def _installation_store(client_id: str, engine: Engine) -> SQLAlchemyInstallationStore:
    # Cached per (client, engine) so the create-if-missing check runs once, not on every lookup.
    try:
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    except ImportError as exc:
        raise _needs_greenlet(exc) from exc
    store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]  # slack_sdk leaves it unannotated
    return store


def oauth_state_store(settings: Settings, engine: Engine) -> SQLAlchemyOAuthStateStore:
    """One-time `state` values that protect the install redirect against forgery."""
    return _state_store(settings.slack_oauth_state_seconds, engine)


@lru_cache(maxsize=32)
def _state_store(expiration_seconds: int, engine: Engine) -> SQLAlchemyOAuthStateStore:
    try:
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
    except ImportError as exc:
        raise _needs_greenlet(exc) from exc
    store = SQLAlchemyOAuthStateStore(expiration_seconds=expiration_seconds, engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]  # slack_sdk leaves it unannotated
    return store


def installer_user_id(
    settings: Settings, engine: Engine, *, team_id: str, enterprise_id: str | None = None
) -> str | None:
    """Who installed the app in ``team_id`` (OAuth mode only; unknown with a plain bot token)."""
    store = installation_store(settings, engine)
    if store is None:
        return None
    installation = store.find_installation(enterprise_id=enterprise_id, team_id=team_id)
    return installation.user_id if installation is not None else None


def remove_installation(
    settings: Settings, engine: Engine, *, team_id: str | None, enterprise_id: str | None = None
) -> bool:
    """Forget a workspace's tokens (uninstall or revocation); True if OAuth mode is on."""
    store = installation_store(settings, engine)
    if store is None:
        return False
    store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
    store.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
    return True
