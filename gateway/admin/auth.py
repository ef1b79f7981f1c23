"""District admins: their credentials, the admin token endpoint and the bearer check of every admin request.

Why a second Authlib server rather than a flag on apps: an admin and an app are different principals. Admins live in
their own table, obtain tokens at their own endpoint (``POST /admin/v1/token``, client credentials with HTTP Basic)
and their tokens are stored with ``kind = 'admin'``. The app-token lookup (:mod:`gateway.auth.server`) only reads
``kind = 'app'`` rows and the lookup here only ``kind = 'admin'`` rows joined to an active admin, so neither token
kind can ever be used in place of the other. Admin ids start with ``adm-`` and client ids are plain base32, so the
two id spaces cannot collide either.

An admin is bound to one district (``tenant``); every admin request acts on that district only, whatever the URL or
body says. Secrets are shown once and stored as scrypt hashes, like app secrets.
"""

from __future__ import annotations

import base64
import secrets as random
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask
from flask import current_app
from sqlalchemy import Connection
from sqlalchemy import bindparam
from sqlalchemy import select

from gateway.auth.secrets import hash_secret
from gateway.auth.server import StoredToken
from gateway.auth.server import store_token
from gateway.auth.secrets import new_secret
from gateway.auth.secrets import token_key
from gateway.auth.secrets import verify_secret
from gateway.errors import Unauthorized
from gateway.storage.db import get_engine
from gateway.storage.records import utc_now
from gateway.storage.tables import admins
from gateway.storage.tables import tokens

SCOPE = "admin"
REALM = 'Bearer realm="trellis-admin"'
MAX_NAME = 200


class AdminError(ValueError):
    """An admin credential request that cannot be honoured (unknown district or admin, bad name)."""


# --- admin credentials ---------------------------------------------------------------------------------------------

def new_admin_id() -> str:
    return "adm-" + base64.b32encode(random.token_bytes(10)).decode().lower()


def create_admin(conn: Connection, tenant: str, name: str) -> tuple[str, str]:
    """Store a new admin of ``tenant``; returns ``(admin_id, secret)`` (the secret is never stored in clear)."""
    from gateway.auth.registry import district_exists

    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise AdminError(f"name: must be text of 1 to {MAX_NAME} characters")
    if not district_exists(conn, tenant):
        raise AdminError(f"unknown district {tenant!r}; create it first (trellis districts create)")
    admin_id, secret = new_admin_id(), new_secret()
    conn.execute(admins.insert().values(admin_id=admin_id, tenant=tenant, name=name, secret_hash=hash_secret(secret),
                                        status="active", created_at=utc_now()))
    return admin_id, secret


def list_admins(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(admins.c.admin_id, admins.c.name, admins.c.status, admins.c.created_at)
                        .where(admins.c.tenant == tenant).order_by(admins.c.created_at, admins.c.admin_id))
    return [{"adminId": row.admin_id, "name": row.name, "status": row.status, "createdAt": row.created_at}
            for row in rows]


def revoke_admin(conn: Connection, tenant: str, admin_id: str) -> str:
    """Revoke an admin of ``tenant`` and every token it holds; returns its previous status."""
    row = conn.execute(select(admins.c.status).where(admins.c.admin_id == admin_id, admins.c.tenant == tenant)).first()
    if row is None:
        raise AdminError(f"no admin {admin_id!r} in district {tenant!r}")
    conn.execute(admins.update().where(admins.c.admin_id == admin_id).values(status="revoked"))
    conn.execute(tokens.update().where(tokens.c.kind == "admin", tokens.c.client_id == admin_id,
                                       tokens.c.revoked == 0).values(revoked=1))
    return row.status


# --- the token endpoint (Authlib) ------------------------------------------------------------------------------------

@dataclass
class AdminClient(ClientMixin):
    admin_id: str
    tenant: str
    secret_hash: str
    status: str

    def get_client_id(self):
        return self.admin_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return SCOPE

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return self.status == "active" and verify_secret(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


class AdminClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]


def query_admin(admin_id: str) -> AdminClient | None:
    with get_engine().connect() as conn:
        row = conn.execute(select(admins).where(admins.c.admin_id == admin_id)).first()
    return None if row is None else AdminClient(row.admin_id, row.tenant, row.secret_hash, row.status)


def save_admin_token(token: dict, request) -> None:
    client: AdminClient = request.client
    store_token(token, client.admin_id, client.tenant, SCOPE, kind="admin")


def token_response():
    return current_app.extensions["trellis.admin_oauth"].create_token_response()


# --- the bearer check ------------------------------------------------------------------------------------------------

@dataclass
class AdminToken(StoredToken):
    client_id: str  # the admin id
    tenant: str
    scope: str
    issued_at: int
    expires_at: int
    revoked: bool


_FIND_ADMIN_TOKEN = select(
    tokens.c.client_id, tokens.c.tenant, tokens.c.scope, tokens.c.issued_at, tokens.c.expires_at, tokens.c.revoked,
    admins.c.status, admins.c.tenant.label("admin_tenant"),
).join(admins, admins.c.admin_id == tokens.c.client_id).where(
    tokens.c.token_hash == bindparam("key"), tokens.c.kind == "admin")


def find_admin_token(token_string: str) -> AdminToken | None:
    """The admin token for a presented string; refused once the admin is revoked. App tokens are never found."""
    with get_engine().connect() as conn:
        row = conn.execute(_FIND_ADMIN_TOKEN, {"key": token_key(token_string)}).first()
    if row is None:
        return None
    dead = bool(row.revoked) or row.status != "active" or row.admin_tenant != row.tenant
    return AdminToken(row.client_id, row.tenant, row.scope, row.issued_at, row.expires_at, dead)


class AdminTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> AdminToken | None:
        return find_admin_token(token_string)


@dataclass(frozen=True)
class Admin:
    """The authenticated admin of a request: every admin operation acts on ``tenant`` only."""

    admin_id: str
    tenant: str

    @property
    def actor(self) -> str:
        return f"admin:{self.admin_id}"


def require_admin() -> Admin:
    """Authenticate the request's admin bearer token; 401 for anything else (an app token included)."""
    try:
        token = current_app.extensions["trellis.admin_protector"].acquire_token([SCOPE])
    except OAuth2Error as error:
        challenge = REALM if error.error == "missing_authorization" else REALM + ', error="invalid_token"'
        raise Unauthorized("Missing, invalid or expired admin access token (get one at POST /admin/v1/token)",
                           headers={"WWW-Authenticate": challenge}) from None
    return Admin(token.client_id, token.tenant)


def init_app(app: Flask) -> None:
    server = AuthorizationServer(query_client=query_admin, save_token=save_admin_token)
    server.load_config({"OAUTH2_TOKEN_EXPIRES_IN": {"client_credentials": app.config["TRELLIS_TOKEN_LIFETIME"]},
                        "OAUTH2_SCOPES_SUPPORTED": [SCOPE]})
    server.register_grant(AdminClientCredentials)
    protector = ResourceProtector()
    protector.register_token_validator(AdminTokenValidator())
    app.extensions["trellis.admin_oauth"] = server
    app.extensions["trellis.admin_protector"] = protector
