"""CRM credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) under `DEALCOACH_SECRET_KEY`.

The key may be a Fernet key (`Fernet.generate_key()`, 44 url-safe base64 characters) or any
passphrase of at least 16 characters, from which a key is derived with SHA-256. Credentials
are a small JSON object, encrypted whole; decrypted values live only in the client that
uses them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from typing import Any

from dealcoach.errors import ConfigError


def _fernet(secret_key: str) -> Any:
    from cryptography.fernet import Fernet

    raw = secret_key.strip()
    if len(raw) < 16:
        raise ConfigError("DEALCOACH_SECRET_KEY is too short (at least 16 characters)")
    # A generated Fernet key is used as it is; anything else is a passphrase, hashed to a key.
    with contextlib.suppress(binascii.Error, ValueError):
        if len(base64.urlsafe_b64decode(raw.encode())) == 32:
            return Fernet(raw.encode())
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()))


def encrypt(secret_key: str | None, data: dict[str, Any]) -> str:
    if not secret_key:
        raise ConfigError("DEALCOACH_SECRET_KEY is not set: it encrypts the CRM credentials")
    return str(_fernet(secret_key).encrypt(json.dumps(data).encode()).decode())


def decrypt(secret_key: str | None, token: str) -> dict[str, Any]:
    from cryptography.fernet import InvalidToken

    if not secret_key:
        raise ConfigError("DEALCOACH_SECRET_KEY is not set: it decrypts the CRM credentials")
    try:
        value = json.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken:
        raise ConfigError(
            "DEALCOACH_SECRET_KEY does not open the stored CRM credentials (was it changed?)"
        ) from None
    if not isinstance(value, dict):
        raise ConfigError("stored CRM credentials are not an object")
    return value
