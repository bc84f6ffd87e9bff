"""CRM credentials at rest: always encrypted, a key file for the embedded store, never shown."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.connectors.records import Provider
from bot.services.crm_sync.credentials import CredentialsError, CrmCredentials
from bot.settings import Settings
from bot.store.secrets import KEY_FILE, SecretKeyError, SecretUnreadable, cipher_for, open_secret, seal_secret

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **extra)  # type: ignore[call-arg]


def test_the_embedded_store_makes_an_owner_only_key_once_and_reuses_it(tmp_path: Path) -> None:
    sealed = seal_secret(cipher_for(_settings(tmp_path)), TOKEN)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert TOKEN not in sealed
    assert open_secret(cipher_for(_settings(tmp_path)), sealed) == TOKEN  # a new process reads it back
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temporary file left behind


def test_processes_racing_to_make_the_key_agree_on_one(tmp_path: Path) -> None:
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            cipher = cipher_for(_settings(tmp_path))
            keys.append(cipher.decrypt(cipher.encrypt(b"x")) and (tmp_path / KEY_FILE).read_bytes())
        except BaseException as exc:  # reported below: a thread's exception would only warn
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(keys) == 8 and len(set(keys)) == 1


def test_a_set_key_is_used_and_a_changed_key_is_reported_without_the_secret(tmp_path: Path) -> None:
    first = _settings(tmp_path, token_encryption_key=Fernet.generate_key().decode())
    sealed = seal_secret(cipher_for(first), TOKEN)
    assert not (tmp_path / KEY_FILE).exists()
    other = _settings(tmp_path, token_encryption_key=Fernet.generate_key().decode())
    with pytest.raises(SecretUnreadable) as caught:
        open_secret(cipher_for(other), sealed)
    assert "connect the CRM again" in str(caught.value) and TOKEN not in str(caught.value)


def test_a_shared_database_needs_the_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url="postgresql+psycopg://u@db/icp")
    with pytest.raises(SecretKeyError, match="set TOKEN_ENCRYPTION_KEY"):
        cipher_for(settings)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_malformed_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError) as caught:
        cipher_for(_settings(tmp_path, token_encryption_key="not-a-key-123"))
    assert "not-a-key-123" not in str(caught.value)


def test_credentials_round_trip_and_never_show_their_secrets() -> None:
    creds = CrmCredentials(
        Provider.salesforce,
        instance_url="https://acme.my.salesforce.com",
        username="ops@acme.com",
        password="hunter2",
        security_token="SEKRET",
    ).checked()
    assert CrmCredentials.from_json(creds.to_json()) == creds
    shown = f"{creds!r} {creds}"
    assert "hunter2" not in shown and "SEKRET" not in shown


@pytest.mark.parametrize(
    ("creds", "problem"),
    [
        (CrmCredentials(Provider.hubspot, token="  "), "private app access token"),
        (CrmCredentials(Provider.salesforce, token="00D"), "instance URL"),
        (
            CrmCredentials(Provider.salesforce, token="00D", instance_url="http://acme.my.salesforce.com"),
            "https://",
        ),
        (
            CrmCredentials(Provider.salesforce, instance_url="https://acme.my.salesforce.com", username="a"),
            "password",
        ),
        (  # what the connector needs too: without it connect_crm failed with a bare ValueError
            CrmCredentials(
                Provider.salesforce, instance_url="https://acme.my.salesforce.com", username="a", password="b"
            ),
            "security token",
        ),
    ],
)
def test_incomplete_credentials_say_what_is_missing(creds: CrmCredentials, problem: str) -> None:
    with pytest.raises(CredentialsError, match=problem):
        creds.checked()


def test_the_key_file_is_not_readable_by_others_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        cipher_for(_settings(tmp_path / "data"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode) == 0o600
