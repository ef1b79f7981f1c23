"""OAuth 1.0a signed requests on the OneRoster 1.1 API (two-legged: consumer key and secret, no token).

OneRoster 1.1 consumers sign every request instead of fetching a bearer token: the consumer key is the app's client
id, the consumer secret its client secret, and there is no ``oauth_token`` (the token secret is empty). Authlib's
OAuth 1 resource protector does the protocol work (parsing the Authorization header, query or form parameters, the
signature base string, HMAC-SHA1, the timestamp window); this module supplies what Authlib leaves to the server:

* the consumer: an active app with ``apps.oauth1`` on, and the secrets of its usable credentials, unsealed with
  ``TRELLIS_CREDENTIAL_KEY`` (during a rotation's grace period the old and the new secret both verify);
* HMAC-SHA256, which OneRoster 1.1 recommends and Authlib does not ship; PLAINTEXT (it sends the secret itself) and
  RSA-SHA1 (there are no registered public keys) are refused;
* the nonce store: the ``oauth1_nonces`` table, whose primary key makes an INSERT of a seen (consumer, timestamp,
  nonce) fail, so a replay is refused across processes and servers. Only correctly signed requests are recorded, and
  rows older than the timestamp window (which no request can reuse) are purged now and then.

A verified request yields the same :class:`~gateway.auth.server.Token` as a bearer token (every scope the app holds),
so the access policy is built the same way. Refusals are 401s whose message names the problem, never the signature or
the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

from authlib.oauth1 import ClientMixin
from authlib.oauth1 import ResourceProtector
from authlib.oauth1 import SIGNATURE_HMAC_SHA1
from authlib.oauth1.errors import InvalidClientError
from authlib.oauth1.errors import InvalidRequestError
from authlib.oauth1.errors import InvalidSignatureError
from authlib.oauth1.errors import InvalidTokenError
from authlib.oauth1.errors import MissingRequiredParameterError
from authlib.oauth1.errors import OAuth1Error
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.signature import verify_hmac_sha1
from authlib.oauth1.rfc5849.util import escape
from authlib.oauth1.rfc5849.wrapper import OAuth1Request
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask
from flask import current_app
from flask import request
from sqlalchemy import and_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from gateway.auth.credentials import usable
from gateway.auth.sealing import SealingError
from gateway.auth.sealing import unseal
from gateway.auth.server import Token
from gateway.auth.server import app_context
from gateway.auth.server import app_token
from gateway.errors import Forbidden
from gateway.errors import Unauthorized
from gateway.storage.db import get_engine
from gateway.storage.tables import app_credentials
from gateway.storage.tables import apps
from gateway.storage.tables import oauth1_nonces

log = logging.getLogger(__name__)

SIGNATURE_HMAC_SHA256 = "HMAC-SHA256"
V1P1 = "/ims/oneroster/v1p1"
REALM = "OneRoster"
MAX_NONCE = 128  # the oauth1_nonces.nonce column


def verify_hmac_sha256(req: OAuth1Request) -> bool:
    """HMAC-SHA256 (OneRoster 1.1's recommended method): RFC 5849's HMAC-SHA1 with SHA-256 as the hash."""
    secret = req.client_secret
    if not secret:
        return False
    key = escape(secret) + "&" + escape(req.token_secret or "")
    digest = hmac.new(key.encode(), generate_signature_base_string(req).encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), (req.signature or "").encode())


@dataclass
class Consumer(ClientMixin):
    """An OAuth 1.0a app: its policy row and the secrets it may sign with (one per usable credential)."""

    row: Any = field(repr=False)
    secrets: list[str] = field(repr=False)
    secret: str = field(default="", repr=False)  # the secret being tried

    def get_default_redirect_uri(self):
        return None

    def get_client_secret(self):
        return self.secret

    def get_rsa_public_key(self):
        return None


class SignedRequests(ResourceProtector):
    """Authlib's OAuth 1 resource protector, two-legged, with HMAC-SHA1/SHA256 and the database as nonce store."""

    # Own dictionaries, so that registering a method here leaves Authlib's other servers unchanged.
    SIGNATURE_METHODS = {SIGNATURE_HMAC_SHA1: verify_hmac_sha1}
    SUPPORTED_SIGNATURE_METHODS = [SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256]
    EXPIRY_TIME = 300  # seconds a timestamp may be off, either way

    def __init__(self) -> None:
        self.next_purge = 0.0

    def validate_request(self, method, uri, body, headers):
        """Authlib's resource-server checks without a token credential, and the signature before the nonce.

        Checking the signature first means only requests signed with the app's secret are written to the nonce table.
        """
        req = OAuth1Request(method, uri, body, headers)
        if not req.client_id:
            raise MissingRequiredParameterError("oauth_consumer_key")
        if req.token:
            raise InvalidTokenError(description="OneRoster 1.1 requests are signed without an oauth_token")
        if not (req.signature or "").isascii():
            raise InvalidSignatureError()
        req.client = self.get_client_by_id(req.client_id)
        if req.client is None:
            raise InvalidClientError(description="unknown consumer key, or not allowed to sign requests")
        self.validate_oauth_signature(req)
        self.validate_timestamp_and_nonce(req)
        return req

    def validate_oauth_signature(self, req):
        """Accept a signature made with any of the app's usable secrets (a rotation keeps the old one for a while)."""
        consumer: Consumer = req.client
        try:
            for secret in consumer.secrets:
                consumer.secret = secret
                try:
                    super().validate_oauth_signature(req)
                    return
                except InvalidSignatureError:
                    continue
        finally:
            consumer.secret = ""
        raise InvalidSignatureError()

    def validate_timestamp_and_nonce(self, req):
        # Authlib refuses timestamps too far in the past; too far in the future, or not plain digits, is refused too.
        timestamp = req.timestamp
        if timestamp and not (timestamp.isascii() and timestamp.isdigit()
                              and int(timestamp) - time.time() <= self.EXPIRY_TIME):
            raise InvalidRequestError(description='Invalid "oauth_timestamp" value')
        super().validate_timestamp_and_nonce(req)

    def get_client_by_id(self, client_id: str) -> Consumer | None:
        """The active OAuth 1.0a app with this id and its usable secrets: one query, shared with bearer tokens."""
        query = select(apps.c.client_id, apps.c.tenant, apps.c.scopes, *app_context(apps.c.tenant, apps.c.client_id),
                       app_credentials.c.credential_id, app_credentials.c.secret_sealed).join(
            app_credentials, and_(app_credentials.c.client_id == apps.c.client_id,
                                  app_credentials.c.secret_sealed.is_not(None), usable()),
        ).where(apps.c.client_id == client_id, apps.c.oauth1 == 1, apps.c.status == "active")
        with get_engine().connect() as conn:
            rows = conn.execute(query).all()
        key = current_app.config["TRELLIS_CREDENTIAL_KEY"]
        secrets = []
        for row in rows:
            try:
                secrets.append(unseal(row.secret_sealed, key))
            except SealingError as error:
                log.error("OAuth 1.0a app %s, credential %s: %s", client_id, row.credential_id, error)
        return Consumer(rows[0], secrets) if secrets else None

    def exists_nonce(self, nonce: str, req) -> bool:
        """Record the nonce; True when it was already recorded (a replay)."""
        if len(nonce) > MAX_NONCE or not (nonce.isascii() and nonce.isprintable()):
            raise InvalidRequestError(description='Invalid "oauth_nonce" value')
        engine = get_engine()
        try:
            with engine.begin() as conn:
                conn.execute(oauth1_nonces.insert().values(client_id=req.client_id, timestamp=int(req.timestamp),
                                                           nonce=nonce))
        except IntegrityError:
            return True
        now = time.time()
        if now >= self.next_purge:  # at most once per window and process; every process's purge is harmless
            self.next_purge = now + self.EXPIRY_TIME
            with engine.begin() as conn:
                conn.execute(oauth1_nonces.delete().where(oauth1_nonces.c.timestamp < int(now) - self.EXPIRY_TIME))
        return False

    def applies(self) -> bool:
        """Whether the current request is an OAuth 1.0a one: a 1.1 path, signed in the header, query or form."""
        if not (request.path == V1P1 or request.path.startswith(V1P1 + "/")):
            return False
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            return authorization[:6].lower() == "oauth "
        return "oauth_signature" in request.args or "oauth_signature" in _form()

    def acquire_token(self, any_of: frozenset[str]) -> Token:
        """Verify the current request's signature; the app's token, or a 401 (a 403 when no scope fits)."""
        headers = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers else {}
        try:
            checked = self.validate_request(request.method, signed_uri(), list(_form().items(multi=True)), headers)
        except OAuth1Error as error:
            raise refusal(error.error + (f": {error.description}" if error.description else "")) from None
        except ValueError:  # a malformed Authorization header or query (Authlib's message may quote the request)
            raise refusal("malformed OAuth 1.0a parameters") from None
        row = checked.client.row
        now = int(time.time())
        token = app_token(row, "", row.scopes, now, now + self.EXPIRY_TIME, False)
        if BearerTokenValidator.scope_insufficient(token.scope, sorted(any_of)):
            raise Forbidden("The app does not hold a scope that grants this endpoint")
        return token


SignedRequests.register_signature_method(SIGNATURE_HMAC_SHA256, verify_hmac_sha256)


def refusal(reason: str) -> Unauthorized:
    return Unauthorized(f"OAuth 1.0a request refused ({reason})",
                        headers={"WWW-Authenticate": f'OAuth realm="{REALM}"'})


def _form() -> MultiDict:
    return request.form if request.mimetype == "application/x-www-form-urlencoded" else MultiDict()


def signed_uri() -> str:
    """The URI the consumer signed: ``TRELLIS_PUBLIC_URL`` (behind a proxy) or the request's own root, path and query.

    The query is re-encoded from its decoded parameters, which leaves the signature base string unchanged (it encodes
    every parameter afresh) while accepting the characters some clients leave unencoded.
    """
    root = (current_app.config["TRELLIS_PUBLIC_URL"] or request.url_root).rstrip("/")
    query = urlencode(list(request.args.items(multi=True)), quote_via=quote, safe="")
    return root + quote(request.path, safe="/!$&'()*+,:;=@~") + ("?" + query if query else "")


def init_app(app: Flask) -> None:
    app.extensions["trellis.oauth1"] = SignedRequests()
