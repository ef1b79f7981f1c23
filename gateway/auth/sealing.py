"""Encrypting the few secrets the gateway must be able to read back.

OAuth 1.0a HMAC signatures are computed with the client secret itself, so a salted hash is not enough for apps that
sign their requests. Their secrets are also kept encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key that lives
outside the database (``TRELLIS_CREDENTIAL_KEY``): a copy of the database alone reveals no secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken


class SealingError(ValueError):
    """No key is configured, or a sealed value cannot be opened with it."""


def _fernet(key: str) -> Fernet:
    if not key:
        raise SealingError("OAuth 1.0a signing needs TRELLIS_CREDENTIAL_KEY (a long random string, the same on every "
                           "gateway server); it is not set")
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def seal(secret: str, key: str) -> str:
    return _fernet(key).encrypt(secret.encode()).decode()


def unseal(sealed: str, key: str) -> str:
    try:
        return _fernet(key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealingError("a sealed secret does not open with TRELLIS_CREDENTIAL_KEY (was the key changed?)") from None
