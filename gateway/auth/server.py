"""OAuth 2.0 client credentials (Authlib) and bearer-token checks for every protected endpoint.

The token endpoint is Authlib's :class:`AuthorizationServer` with the client-credentials grant; storage glue is two
functions (find a client, save a token) as Authlib recommends. Tokens are opaque random strings stored as SHA-256
keys, bound to one district and app, and expire after ``TRELLIS_TOKEN_LIFETIME`` seconds. :func:`require` is the one
place a request's credentials become an :class:`~gateway.policy.AccessPolicy`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.errors import UnauthorizedClientError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc6750 import InsufficientScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Blueprint
from flask import Flask
from flask import current_app
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select

from gateway.auth import ratelimit
from gateway.auth import scopes as scope_names
from gateway.auth.credentials import usable_credentials
from gateway.auth.registry import agreement_expired
from gateway.auth.secrets import token_key
from gateway.auth.secrets import verify_secret
from gateway.errors import Forbidden
from gateway.errors import Unauthorized
from gateway.storage.db import get_engine
from gateway.storage.tables import app_credentials
from gateway.storage.tables import apps
from gateway.storage.tables import records
from gateway.storage.tables import student_optouts
from gateway.storage.tables import tokens

bp = Blueprint("oauth", __name__)


@dataclass
class Client(ClientMixin):
    client_id: str
    tenant: str
    credentials: list = field(repr=False)  # usable (credential_id, secret_hash, secret_sealed) rows
    scopes: str
    status: str
    dpa_expires: str | None = None
    credential_id: str | None = None  # the credential the presented secret matched

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = scope_names.parse(self.scopes)
        if not scope:
            return " ".join(sorted(allowed))
        granted = scope_names.parse(scope) & allowed
        if not granted:
            raise InvalidScopeError(description="none of the requested scopes is granted to this app")
        return " ".join(sorted(granted))

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        if self.status != "active":
            return False
        for credential in self.credentials:
            if verify_secret(client_secret, credential.secret_hash):
                self.credential_id = credential.credential_id
                return True
        return False

    def check_endpoint_auth_method(self, method, endpoint):
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


class StoredToken(TokenMixin):
    """Authlib's view of a stored token (app or admin): the fields below are the ``tokens`` row's."""

    client_id: str
    scope: str
    issued_at: int
    expires_at: int
    revoked: bool

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_at - self.issued_at

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return self.revoked


@dataclass
class Token(StoredToken):
    token_hash: str
    client_id: str
    tenant: str
    scope: str
    issued_at: int
    expires_at: int
    revoked: bool
    profile_xml: str | None = None
    profile_name: str | None = None
    allowed_orgs: str | None = None
    has_optouts: bool = True
    epoch: int | None = None
    purpose: str = ""
    dpa_expires: str | None = None
    pairwise_key: str | None = None  # set when the app receives pairwise user ids
    rate_limit: str | None = None


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self):
        super().validate_token_request()
        client = self.request.client
        if agreement_expired(client.dpa_expires):
            raise UnauthorizedClientError(description=expired_agreement_message(client.dpa_expires))


def expired_agreement_message(dpa_expires: str | None) -> str:
    return (f"The district's data-privacy agreement with this app expired on {dpa_expires}; "
            "the district must renew it before the app can read data again")


def query_client(client_id: str) -> Client | None:
    with get_engine().connect() as conn:
        row = conn.execute(select(apps).where(apps.c.client_id == client_id)).first()
        if row is None:
            return None
        credentials = usable_credentials(conn, client_id)
    return Client(row.client_id, row.tenant, credentials, row.scopes, row.status, row.dpa_expires)


def store_token(token: dict, client_id: str, tenant: str, scope: str, *, kind: str,
                credential_id: str | None = None) -> None:
    """Keep an issued bearer token as its hash (apps and admins alike); the token itself is never stored."""
    now = int(time.time())
    with get_engine().begin() as conn:
        conn.execute(tokens.insert().values(
            token_hash=token_key(token["access_token"]), client_id=client_id, tenant=tenant, scope=scope,
            issued_at=now, expires_at=now + int(token["expires_in"]), revoked=0, credential_id=credential_id,
            kind=kind))


def save_token(token: dict, request) -> None:
    client: Client = request.client
    store_token(token, client.client_id, client.tenant, token.get("scope", ""), kind="app",
                credential_id=client.credential_id)


def app_context(tenant: Any, client_id: Any) -> tuple:
    """The columns an app's access policy needs, for the app and district in the given columns of the query.

    Shared by bearer tokens (:func:`find_token`) and OAuth 1.0a signatures (:mod:`gateway.auth.oauth1`): the app's
    status, profile, orgs, agreement and rate limit, whether any opt-out concerns it (when none does, queries skip the
    opt-out condition), and the district's newest change versions (the paging cache's epoch).
    """
    return (
        apps.c.status, apps.c.profile_xml, apps.c.profile_name, apps.c.allowed_orgs, apps.c.purpose,
        apps.c.dpa_expires, apps.c.pairwise, apps.c.pairwise_key, apps.c.rate_limit,
        exists(select(student_optouts.c.student_id).where(
            student_optouts.c.tenant == tenant, student_optouts.c.active == 1,
            student_optouts.c.client_id.in_([client_id, literal("*")]))).label("has_optouts"),
        select(func.max(records.c.change_version)).where(records.c.tenant == tenant)
        .scalar_subquery().label("records_version"),
        select(func.max(student_optouts.c.change_version)).where(student_optouts.c.tenant == tenant)
        .scalar_subquery().label("optouts_version"),
    )


def app_token(row: Any, token_hash: str, scope: str, issued_at: int, expires_at: int, revoked: bool) -> Token:
    """A :class:`Token` from a row with ``client_id``, ``tenant`` and the :func:`app_context` columns."""
    return Token(token_hash, row.client_id, row.tenant, scope, issued_at, expires_at,
                 revoked or row.status != "active", row.profile_xml, row.profile_name, row.allowed_orgs,
                 bool(row.has_optouts), max(row.records_version or 0, row.optouts_version or 0), row.purpose or "",
                 row.dpa_expires, row.pairwise_key if row.pairwise else None, row.rate_limit)


_FIND_TOKEN = select(
    tokens, *app_context(tokens.c.tenant, tokens.c.client_id),
    app_credentials.c.revoked.label("credential_revoked"), app_credentials.c.expires_at.label("credential_expires"),
).join(apps, apps.c.client_id == tokens.c.client_id).outerjoin(
    app_credentials, app_credentials.c.credential_id == tokens.c.credential_id,
).where(tokens.c.token_hash == bindparam("key"), tokens.c.kind == "app")


def find_token(token_string: str) -> Token | None:
    """The stored token for a presented string, with what the request's policy needs of its app, or None.

    One query per request: the token, its app's :func:`app_context`, and the state of the credential that obtained
    the token (revoked, or past a rotation's grace period, refuses the token).
    """
    with get_engine().connect() as conn:
        row = conn.execute(_FIND_TOKEN, {"key": token_key(token_string)}).first()
    if row is None:
        return None
    credential_dead = bool(row.credential_revoked) or (
        row.credential_expires is not None and row.credential_expires <= time.time())
    return app_token(row, row.token_hash, row.scope, row.issued_at, row.expires_at,
                     bool(row.revoked) or credential_dead)


class StoredTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> Token | None:
        return find_token(token_string)


class Revocation(RevocationEndpoint):
    """RFC 7009: an app revokes one of its own tokens; it is refused from the very next request."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def revoke_token(self, token, request):
        with get_engine().begin() as conn:
            conn.execute(tokens.update().where(tokens.c.token_hash == token.token_hash).values(revoked=1))


class Introspection(IntrospectionEndpoint):
    """RFC 7662: a client asks about a token it holds; any other client learns only ``active: false``."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def introspect_token(self, token):
        return {"active": True, "client_id": token.client_id, "scope": token.scope, "token_type": "Bearer",
                "exp": token.expires_at, "iat": token.issued_at, "district": token.tenant}


@bp.post("/oauth/token")
def issue_token():
    return current_app.extensions["trellis.oauth"].create_token_response()


@bp.post("/oauth/revoke")
def revoke_token():
    return current_app.extensions["trellis.oauth"].create_endpoint_response(Revocation.ENDPOINT_NAME)


@bp.post("/oauth/introspect")
def introspect_token():
    return current_app.extensions["trellis.oauth"].create_endpoint_response(Introspection.ENDPOINT_NAME)


def require(any_of: frozenset[str]) -> Token:
    """Authenticate the request and check it holds one of ``any_of`` scopes; then count it against the app's limit.

    A bearer token, or on OneRoster 1.1 paths an OAuth 1.0a signature (:mod:`gateway.auth.oauth1`).
    """
    signed = current_app.extensions["trellis.oauth1"]
    if signed.applies():
        token = signed.acquire_token(any_of)
    else:
        try:
            token = current_app.extensions["trellis.protector"].acquire_token(sorted(any_of))
        except InsufficientScopeError:
            raise Forbidden("The access token does not carry a scope that grants this endpoint") from None
        except OAuth2Error as error:
            raise Unauthorized("Missing, invalid or expired access token",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'
                                        if error.error != "missing_authorization" else "Bearer"}) from None
    if agreement_expired(token.dpa_expires):
        raise Forbidden(expired_agreement_message(token.dpa_expires))
    ratelimit.hit(token)
    return token


def init_app(app: Flask) -> None:
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"client_credentials": app.config["TRELLIS_TOKEN_LIFETIME"]})
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", sorted(scope_names.KNOWN))
    authorization = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    authorization.register_grant(ClientCredentials)
    authorization.register_endpoint(Revocation)
    authorization.register_endpoint(Introspection)
    protector = ResourceProtector()
    protector.register_token_validator(StoredTokenValidator())
    app.extensions["trellis.oauth"] = authorization
    app.extensions["trellis.protector"] = protector
    app.register_blueprint(bp)
