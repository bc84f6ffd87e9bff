"""Secrets at rest: CRM credentials are stored only as Fernet ciphertexts, whatever the settings.

The key is ``TOKEN_ENCRYPTION_KEY`` when it is set. Without it, the embedded default (a SQLite file)
keeps a key of its own beside the database, in ``DATA_DIR/secret.key`` (created once, readable by
its owner only), so a copy of the database alone does not give the tokens away. A shared database
(PostgreSQL, several replicas) has no common folder for such a file, so there the key must be set:
storing a credential without it is refused with a message that says how to make one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bot.settings import Settings

__all__ = ["KEY_FILE", "SecretKeyError", "SecretUnreadable", "cipher_for", "open_secret", "seal_secret"]

KEY_FILE = "secret.key"
_MAKE_ONE = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class SecretKeyError(RuntimeError):
    """No usable key to encrypt credentials with; the message says what to set (never the key)."""


class SecretUnreadable(RuntimeError):
    """A stored secret does not decrypt with the current key (the key changed): reconnect."""


def cipher_for(settings: Settings) -> Fernet:
    """The cipher for stored credentials (see the module docstring for where the key comes from)."""
    if settings.token_encryption_key is not None:
        try:
            return Fernet(settings.token_encryption_key.get_secret_value().strip().encode())
        except ValueError:
            raise SecretKeyError(
                f"TOKEN_ENCRYPTION_KEY is not a Fernet key (32 bytes, url-safe base64); make one with: {_MAKE_ONE}"
            ) from None
    if not settings.resolved_database_url.startswith("sqlite"):
        raise SecretKeyError(
            "set TOKEN_ENCRYPTION_KEY to store CRM credentials in a shared database (every replica needs the "
            f"same key); make one with: {_MAKE_ONE}"
        )
    return Fernet(_key_file(Path(settings.data_dir) / KEY_FILE))


def _key_file(path: Path) -> bytes:
    """The key in ``path``, made (owner-only, written once and atomically) if there is none yet."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)  # fails if another process made the key first: theirs is kept
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


def seal_secret(cipher: Fernet, plain: str) -> str:
    return cipher.encrypt(plain.encode()).decode()


def open_secret(cipher: Fernet, sealed: str) -> str:
    try:
        return cipher.decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the stored CRM credentials do not decrypt with the current key (TOKEN_ENCRYPTION_KEY or "
            "DATA_DIR/secret.key changed); connect the CRM again"
        ) from None
