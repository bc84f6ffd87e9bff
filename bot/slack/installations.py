"""Where multi-workspace OAuth installs live: slack_sdk's SQLAlchemy stores on our own database.

The tables (``slack_installations``, ``slack_bots``, ``slack_oauth_states``) belong to slack_sdk,
not to our alembic migrations, so they are created here on first use; ``create_all`` only adds
what is missing, so every replica can call it.

With ``TOKEN_ENCRYPTION_KEY`` set, bot, user and refresh tokens are Fernet-encrypted before they
are saved and decrypted when found (``EncryptedInstallationStore``); rows written before the key
was set still read. Without a key they are stored as Slack sent them, and start-up says so loudly.

Enterprise Grid: ``bot_for_team`` finds the install that speaks for a workspace when only its team
id is known (scheduled work): its own install inside an org, or its org's org-wide install.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.services.owners import first_installer_record, kept_owners, oldest_installer, record_installer
from bot.settings import Settings
from bot.slack.client import make_client
from bot.store.db import Engine, read_scope
from bot.store.repo import slack_installs

if TYPE_CHECKING:
    # Imported lazily below: slack_sdk's module also imports SQLAlchemy's asyncio layer, which
    # needs `greenlet`; single-workspace (bot token) mode must work without it.
    from slack_sdk.oauth.installation_store import Bot
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

log = logging.getLogger(__name__)

# Stored ciphertexts start with this, so a value is never encrypted twice and plain rows from before
# the key was set are still read as they are.
ENCRYPTED_PREFIX = "fernet:"
_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
_WIDE_TOKEN_COLUMN = 1024  # a Fernet ciphertext is ~1.4x the token plus 100 characters; 200 is too few


#: Web API errors that mean the workspace's token is dead for good (uninstalled, revoked,
#: deactivated): retrying cannot help, so scheduled work for that workspace stops instead.
DEAD_TOKEN_ERRORS = frozenset({"not_authed", "account_inactive", "invalid_auth", "token_revoked"})


class OAuthUnavailable(RuntimeError):
    """OAuth mode is configured but slack_sdk's SQLAlchemy stores cannot be loaded here."""


class TokenKeyInvalid(OAuthUnavailable):
    """``TOKEN_ENCRYPTION_KEY`` is set but is not a Fernet key (the message never shows the key)."""


def token_cipher(settings: Settings) -> Fernet | None:
    """The Fernet cipher for stored tokens, or None when no key is set; a bad key is refused."""
    if settings.token_encryption_key is None:
        return None
    try:
        return Fernet(settings.token_encryption_key.get_secret_value().strip().encode())
    except (ValueError, TypeError):
        raise TokenKeyInvalid(
            "TOKEN_ENCRYPTION_KEY is not a Fernet key (32 bytes, url-safe base64, 44 characters); make one "
            "with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None


def _encrypt(cipher: Fernet, value: str | None) -> str | None:
    if not value or value.startswith(ENCRYPTED_PREFIX):
        return value
    return ENCRYPTED_PREFIX + cipher.encrypt(value.encode()).decode()


def _decrypt(cipher: Fernet, value: str | None) -> str | None:
    if not value or not value.startswith(ENCRYPTED_PREFIX):
        return value
    try:
        return cipher.decrypt(value[len(ENCRYPTED_PREFIX) :].encode()).decode()
    except InvalidToken:  # written under another key: unusable, so treated as no token at all
        log.error("a stored Slack token cannot be decrypted with TOKEN_ENCRYPTION_KEY (was the key changed?)")
        return None


def _with_tokens(entity: Any, convert: Any) -> Any:
    """A copy of an Installation or Bot with every token field passed through ``convert``."""
    if entity is None:
        return None
    changed = copy.copy(entity)
    for name in _TOKEN_FIELDS:
        if hasattr(changed, name):
            setattr(changed, name, convert(getattr(changed, name)))
    return changed


def _needs_greenlet(exc: ImportError) -> OAuthUnavailable:
    return OAuthUnavailable(
        "OAuth installs (SLACK_CLIENT_ID/SECRET) need the 'greenlet' package for slack_sdk's "
        f"SQLAlchemy stores: pip install 'sqlalchemy[asyncio]' ({exc})"
    )


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore | None:
    """The installation store when OAuth is configured, else None (single-workspace token mode)."""
    if not settings.oauth_enabled:
        return None
    if token_cipher(settings) is None:
        _warn_plain_tokens()
        return _installation_store(str(settings.slack_client_id), engine)
    assert settings.token_encryption_key is not None  # token_cipher checked it
    key = settings.token_encryption_key.get_secret_value().strip()
    return _encrypted_store(str(settings.slack_client_id), engine, key)


@lru_cache(maxsize=1)
def _warn_plain_tokens() -> None:
    # Once per process, when the store is first opened (at start-up in `icp serve`).
    log.warning(
        "TOKEN_ENCRYPTION_KEY is not set: Slack bot and user tokens are stored UNENCRYPTED in the "
        "database. Set a Fernet key to encrypt them at rest."
    )


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


@lru_cache(maxsize=32)
def _encrypted_store(client_id: str, engine: Engine, key: str) -> SQLAlchemyInstallationStore:
    try:
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    except ImportError as exc:
        raise _needs_greenlet(exc) from exc
    cipher = Fernet(key.encode())

    class EncryptedInstallationStore(SQLAlchemyInstallationStore):
        """slack_sdk's store with every token Fernet-encrypted in its rows."""

        @classmethod
        def build_installations_table(cls, metadata: Any, table_name: str) -> Any:
            return _widen(super().build_installations_table(metadata, table_name))

        @classmethod
        def build_bots_table(cls, metadata: Any, table_name: str) -> Any:
            return _widen(super().build_bots_table(metadata, table_name))

        def save(self, installation: Any) -> None:
            super().save(_with_tokens(installation, lambda v: _encrypt(cipher, v)))

        def save_bot(self, bot: Any) -> None:
            super().save_bot(_with_tokens(bot, lambda v: _encrypt(cipher, v)))

        def find_bot(self, **kwargs: Any) -> Any:
            return _with_tokens(super().find_bot(**kwargs), lambda v: _decrypt(cipher, v))

        def find_installation(self, **kwargs: Any) -> Any:
            return _with_tokens(super().find_installation(**kwargs), lambda v: _decrypt(cipher, v))

    store = EncryptedInstallationStore(client_id=client_id, engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]  # slack_sdk leaves it unannotated
    return store


def _widen(table: Any) -> Any:
    """Token columns wide enough for ciphertexts (tables created from now on; SQLite never minds)."""
    for name in _TOKEN_FIELDS:
        if name in table.c:
            table.c[name].type.length = _WIDE_TOKEN_COLUMN  # each build makes its own String type
    return table


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


def first_installer(settings: Settings, engine: Engine, *, team_id: str) -> str | None:
    """Who installed the app in ``team_id`` first, while still an owner (OAuth mode only).

    Never the latest installation's user (slack_sdk's ``find_installation``): anyone who can run
    the install flow would become an owner that way. Installs from before we kept the record are
    recorded here once, from the oldest installation row left."""
    if not settings.oauth_enabled:
        return None
    if first_installer_record(engine, team_id=team_id) is not None:
        return kept_owners(engine, team_id=team_id).installer
    store = installation_store(settings, engine)  # makes sure slack_sdk's tables exist
    if store is None:
        return None
    oldest = oldest_installer(
        engine, table=store.installations.name, client_id=store.client_id, team_id=team_id
    )
    if not oldest:
        # A workspace of an Enterprise Grid org installed org-wide: the org's installer (recorded
        # under the enterprise id when the org installed, see on_install.py).
        org = org_of_team(settings, engine, team_id=team_id)
        if org is not None and org != team_id and first_installer_record(engine, team_id=org) is not None:
            return kept_owners(engine, team_id=org).installer
        return None
    record_installer(engine, team_id=team_id, user_id=oldest)
    return kept_owners(engine, team_id=team_id).installer


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


# --- Enterprise Grid: which install speaks for a workspace -----------------------------------------
# slack_sdk looks a bot up by (enterprise, team). A request names both (Bolt's authorize passes
# them); scheduled work knows only the team. Its own install is found through the enterprise ids
# its rows carry; an org-wide install (no team on its rows) covers the workspaces its org has
# granted, which Slack lists for the org's token (auth.teams.list, cached for a few minutes).

ORG_TEAMS_SECONDS = 300.0
_org_teams_cache: dict[str, tuple[float, frozenset[str]]] = {}
_org_teams_lock = threading.Lock()


def _org_teams(settings: Settings, token: str) -> frozenset[str]:
    """The workspaces an org-wide install's token is granted in (empty when Slack won't say)."""
    key = hashlib.sha256(token.encode()).hexdigest()
    now = time.monotonic()
    with _org_teams_lock:
        cached = _org_teams_cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    client = make_client(settings, token)
    teams: set[str] = set()
    cursor: str | None = None
    try:
        for _ in range(100):  # 100 pages of 1,000 workspaces; a runaway cursor stops here
            page = client.auth_teams_list(limit=1000, cursor=cursor)
            teams |= {str(t["id"]) for t in page.get("teams") or [] if isinstance(t, dict) and t.get("id")}
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except (SlackApiError, SlackRequestError, OSError) as exc:  # unknown now: asked again next time
        log.warning("auth.teams.list failed for an org-wide install: %s", exc)
        return frozenset()
    found = frozenset(teams)
    with _org_teams_lock:
        _org_teams_cache[key] = (now + ORG_TEAMS_SECONDS, found)
    return found


def bot_for_team(
    settings: Settings,
    engine: Engine,
    *,
    team_id: str,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> Bot | None:
    """The installed bot that speaks for ``team_id`` (None when the app is not installed there).

    With ``enterprise_id`` (from a request): the team's own install in that org, else the org's
    org-wide install. Without it (scheduled work): the team's own install in whatever org it is,
    else an org-wide install whose org grants the team; a team id that is an org's enterprise id
    (the default reminder of an org-wide install) gets that org's install."""
    store = installation_store(settings, engine)
    if store is None:
        return None
    if enterprise_id is not None:
        found = store.find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if found is None and not is_enterprise_install:
            found = store.find_bot(enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)
        return found if found is not None and found.bot_token else None
    with read_scope(engine) as session:
        own = slack_installs.team_install_enterprises(
            session=session, table=store.bots.name, client_id=store.client_id, team_id=team_id
        )
        orgs = slack_installs.org_wide_enterprises(
            session=session, table=store.bots.name, client_id=store.client_id
        )
    for enterprise in own:
        found = store.find_bot(enterprise_id=enterprise, team_id=team_id)
        if found is not None and found.bot_token:
            return found
    for enterprise in orgs:
        found = store.find_bot(enterprise_id=enterprise, team_id=None, is_enterprise_install=True)
        if found is None or not found.bot_token:
            continue
        if enterprise == team_id or team_id in _org_teams(settings, found.bot_token):
            return found
    return None


def org_of_team(settings: Settings, engine: Engine, *, team_id: str) -> str | None:
    """The enterprise id of the org-wide install that covers ``team_id``, if that is what does."""
    found = bot_for_team(settings, engine, team_id=team_id)
    if found is None or not found.is_enterprise_install:
        return None
    return str(found.enterprise_id) if found.enterprise_id else None
