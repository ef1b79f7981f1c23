"""Client secrets and access tokens: generated with ``secrets``, stored only as hashes.

Client secrets use a salted, deliberately slow hash (scrypt) because they live for months; access tokens are
high-entropy random strings that live an hour, so a fast SHA-256 lookup key is enough and keeps every request cheap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1


def new_client_id() -> str:
    """120 random bits in lower-case base32: safe in URLs, logs and shells (never starts with '-')."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
