"""An app's client secrets: issue, rotate with a grace period, revoke at once.

An app may hold several credentials: after a rotation the old secret keeps working until its grace period ends, so a
vendor can deploy the new one without downtime. Revoking a credential refuses it, and every token it obtained, from
the next request (tokens record the credential that obtained them). Secrets are returned once and stored as scrypt
hashes; for OAuth 1.0a apps also sealed (:mod:`gateway.auth.sealing`), because HMAC signatures need the secret.
"""

from __future__ import annotations

import secrets as random
import time
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select

from gateway.auth.sealing import SealingError
from gateway.auth.sealing import seal
from gateway.auth.secrets import hash_secret
from gateway.auth.secrets import new_secret
from gateway.storage.records import utc_now
from gateway.storage.tables import app_credentials
from gateway.storage.tables import apps
from gateway.storage.tables import tokens

MAX_GRACE = 30 * 24 * 3600


class CredentialError(ValueError):
    """A credential request that cannot be honoured (unknown app, bad grace period, no sealing key, ...)."""


def usable(now: int | None = None) -> Any:
    """SQL condition: a credential that is neither revoked nor past its grace period."""
    now = int(time.time()) if now is None else now
    return and_(app_credentials.c.revoked == 0,
                or_(app_credentials.c.expires_at.is_(None), app_credentials.c.expires_at > now))


def add_credential(conn: Connection, client_id: str, *, oauth1: bool = False, sealing_key: str = "") -> tuple[str, str]:
    """Store a new secret for an app; returns ``(credential_id, secret)`` (the secret is never stored in clear)."""
    secret = new_secret()
    try:
        sealed = seal(secret, sealing_key) if oauth1 else None
    except SealingError as error:
        raise CredentialError(str(error)) from None
    credential_id = random.token_hex(8)
    conn.execute(app_credentials.insert().values(
        credential_id=credential_id, client_id=client_id, secret_hash=hash_secret(secret), secret_sealed=sealed,
        created_at=utc_now(), expires_at=None, revoked=0))
    return credential_id, secret


def _app(conn: Connection, district_id: str, client_id: str) -> Any:
    row = conn.execute(select(apps.c.client_id, apps.c.oauth1).where(
        apps.c.client_id == client_id, apps.c.tenant == district_id)).first()
    if row is None:
        raise CredentialError(f"no app {client_id!r} in district {district_id!r}")
    return row


def rotate(conn: Connection, district_id: str, client_id: str, grace_seconds: int,
           sealing_key: str = "") -> tuple[str, str, int]:
    """Issue a new secret; the app's current secrets stop working ``grace_seconds`` from now (0: at once).

    Returns ``(credential_id, secret, old_expires_at)``.
    """
    if not 0 <= grace_seconds <= MAX_GRACE:
        raise CredentialError(f"grace period must be between 0 and {MAX_GRACE // 86400} days")
    app = _app(conn, district_id, client_id)
    now = int(time.time())
    ends = now + grace_seconds
    current = and_(app_credentials.c.client_id == client_id, usable(now))
    conn.execute(app_credentials.update().where(current, or_(app_credentials.c.expires_at.is_(None),
                                                             app_credentials.c.expires_at > ends))
                 .values(expires_at=ends))
    credential_id, secret = add_credential(conn, client_id, oauth1=bool(app.oauth1), sealing_key=sealing_key)
    if grace_seconds == 0:
        _revoke_tokens(conn, client_id, exclude=credential_id)
    return credential_id, secret, ends


def revoke(conn: Connection, district_id: str, client_id: str, credential_id: str | None = None) -> int:
    """Revoke one credential (or all of the app's): refused, with every token it obtained, from the next request."""
    _app(conn, district_id, client_id)
    condition = app_credentials.c.client_id == client_id
    if credential_id is not None:
        condition = and_(condition, app_credentials.c.credential_id == credential_id)
    count = conn.execute(app_credentials.update().where(condition, app_credentials.c.revoked == 0)
                         .values(revoked=1)).rowcount
    if credential_id is not None and count == 0:
        known = conn.execute(select(app_credentials.c.credential_id).where(condition)).first()
        if known is None:
            raise CredentialError(f"app {client_id!r} has no credential {credential_id!r}")
    token_condition = tokens.c.client_id == client_id
    if credential_id is not None:
        token_condition = and_(token_condition, tokens.c.credential_id == credential_id)
    conn.execute(tokens.update().where(token_condition, tokens.c.revoked == 0).values(revoked=1))
    return count


def _revoke_tokens(conn: Connection, client_id: str, exclude: str) -> None:
    conn.execute(tokens.update().where(tokens.c.client_id == client_id, tokens.c.revoked == 0,
                                       or_(tokens.c.credential_id.is_(None), tokens.c.credential_id != exclude))
                 .values(revoked=1))


def list_credentials(conn: Connection, district_id: str, client_id: str) -> list[dict[str, Any]]:
    """The app's credentials, newest first: ids, dates and state, never a secret or hash."""
    _app(conn, district_id, client_id)
    now = int(time.time())
    rows = conn.execute(select(app_credentials).where(app_credentials.c.client_id == client_id)
                        .order_by(app_credentials.c.created_at.desc(), app_credentials.c.credential_id)).all()
    return [{"credentialId": row.credential_id, "createdAt": row.created_at,
             "expiresAt": _iso(row.expires_at) if row.expires_at is not None else None,
             "oauth1": row.secret_sealed is not None,
             "state": "revoked" if row.revoked else "expired" if row.expires_at is not None and row.expires_at <= now
             else "active"} for row in rows]


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def usable_credentials(conn: Connection, client_id: str) -> list[Any]:
    """The rows (credential_id, secret_hash, secret_sealed) an app may authenticate with now."""
    return conn.execute(select(app_credentials.c.credential_id, app_credentials.c.secret_hash,
                               app_credentials.c.secret_sealed)
                        .where(app_credentials.c.client_id == client_id, usable())).all()
