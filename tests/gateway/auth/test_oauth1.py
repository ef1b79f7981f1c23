"""OAuth 1.0a signed requests on /ims/oneroster/v1p1, signed by Authlib's OAuth 1 client as a vendor's would be."""

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

import pytest
from authlib.oauth1 import SIGNATURE_HMAC_SHA1
from authlib.oauth1 import SIGNATURE_PLAINTEXT
from authlib.oauth1 import SIGNATURE_TYPE_BODY
from authlib.oauth1 import SIGNATURE_TYPE_HEADER
from authlib.oauth1 import SIGNATURE_TYPE_QUERY
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from factories import seed
from helpers import V11
from helpers import V12

from gateway.auth import credentials
from gateway.auth.registry import create_app_credentials
from gateway.auth.registry import ensure_district
from gateway.auth.registry import set_status
from gateway.auth.server import find_token
from gateway.storage.tables import apps as apps_table
from gateway.storage.tables import oauth1_nonces

KEY = "test-credential-key"
HMAC_SHA256 = "HMAC-SHA256"
SCOPES = ["https://purl.imsglobal.org/spec/or/v1p1/scope/" + name
          for name in ("roster.readonly", "roster-core.readonly", "roster-demographics.readonly", "resource.readonly")]


def sign_hmac_sha256(client, request):
    """HMAC-SHA256 for the test client, written from RFC 5849 section 3.4.2 (the key is "secret&token-secret")."""
    key = quote(client.client_secret, safe="~") + "&" + quote(client.token_secret or "", safe="~")
    digest = hmac.new(key.encode(), generate_signature_base_string(request).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Signer(ClientAuth):
    SIGNATURE_METHODS = {**ClientAuth.SIGNATURE_METHODS, HMAC_SHA256: sign_hmac_sha256}


@pytest.fixture
def district(app, engine):
    app.config["TRELLIS_CREDENTIAL_KEY"] = KEY
    seed(engine)
    return app


@pytest.fixture
def register(district, engine):
    def make(oauth1=True, scopes=SCOPES):
        with engine.begin() as conn:
            ensure_district(conn, "d1")
            return create_app_credentials(conn, "d1", "signer", scopes, oauth1=oauth1, sealing_key=KEY)

    return make


@pytest.fixture
def vendor(register):
    return register()


def signed(client, client_id, secret, path, method=SIGNATURE_HMAC_SHA1, where=SIGNATURE_TYPE_HEADER, **options):
    """GET ``path`` signed exactly as a consumer signs the URL it requests."""
    url = "http://localhost" + path
    signer = Signer(client_id, secret, signature_method=method, signature_type=where, **options)
    uri, headers, body = signer.prepare("GET", url, {}, b"")
    return client.get(uri, headers=headers, data=body or None)


def sign_headers(client_id, secret, path, method=SIGNATURE_HMAC_SHA1):
    return Signer(client_id, secret, signature_method=method).prepare("GET", "http://localhost" + path, {}, b"")[1]


def refused(response, *secrets):
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith('OAuth realm="')
    info = response.get_json()["statusInfoSet"][0]
    assert info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
    text = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in text and quote(secret, safe="") not in text
    return info["imsx_description"]


def test_hmac_sha1_signed_get_returns_the_users(client, vendor):
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/users")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {user["sourcedId"] for user in response.get_json()["users"]} >= {"s1", "t-a"}


def test_hmac_sha256_signed_get_returns_one_user(client, vendor):
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/users/t-a", method=HMAC_SHA256)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["user"]["role"] == "teacher"


def test_signature_in_query_parameters_covers_the_other_parameters(client, vendor):
    path = f"{V11}/users?filter=role%3D%27teacher%27&limit=5"
    response = signed(client, vendor.client_id, vendor.client_secret, path, method=HMAC_SHA256,
                      where=SIGNATURE_TYPE_QUERY)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [user["sourcedId"] for user in response.get_json()["users"]] == ["t-a", "t-b"]


def test_a_changed_query_parameter_breaks_the_signature(client, vendor):
    signer = Signer(vendor.client_id, vendor.client_secret, signature_type=SIGNATURE_TYPE_QUERY)
    uri, headers, _ = signer.prepare("GET", f"http://localhost{V11}/users?limit=5", {}, b"")
    assert "invalid_signature" in refused(client.get(uri.replace("limit=5", "limit=500"), headers=headers))


def test_signature_in_form_parameters(client, vendor):
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs", where=SIGNATURE_TYPE_BODY)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {org["sourcedId"] for org in response.get_json()["orgs"]} == {"dist", "sch1", "sch2"}


def test_wrong_secret_is_refused_without_echoing_the_signature(client, vendor):
    headers = sign_headers(vendor.client_id, "not-the-secret", f"{V11}/users")
    response = client.get(f"{V11}/users", headers=headers)
    signature = headers["Authorization"].split('oauth_signature="')[1].split('"')[0]
    description = refused(response, vendor.client_secret, "not-the-secret", signature)
    assert "invalid_signature" in description


def test_replayed_nonce_is_refused(client, vendor, engine):
    headers = sign_headers(vendor.client_id, vendor.client_secret, f"{V11}/orgs")
    assert client.get(f"{V11}/orgs", headers=headers).status_code == 200
    assert "invalid_nonce" in refused(client.get(f"{V11}/orgs", headers=headers))
    with engine.connect() as conn:
        assert conn.execute(oauth1_nonces.select()).all()[0].client_id == vendor.client_id


@pytest.mark.parametrize("timestamp", [lambda: str(int(time.time()) - 301), lambda: str(int(time.time()) + 400),
                                       lambda: "+9999999999", lambda: "1e9"])
def test_timestamp_outside_the_window_is_refused(client, vendor, monkeypatch, timestamp):
    monkeypatch.setattr("authlib.oauth1.rfc5849.client_auth.generate_timestamp", timestamp)
    assert "oauth_timestamp" in refused(signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs"))


def test_timestamp_within_the_window_is_accepted(client, vendor, monkeypatch):
    monkeypatch.setattr("authlib.oauth1.rfc5849.client_auth.generate_timestamp", lambda: str(int(time.time()) - 200))
    assert signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs").status_code == 200


def test_unknown_consumer_key_is_refused(client, vendor):
    refused(signed(client, "no-such-app", vendor.client_secret, f"{V11}/orgs"), vendor.client_secret)


def test_an_app_without_oauth1_cannot_sign(client, register):
    bearer_only = register(oauth1=False)
    refused(signed(client, bearer_only.client_id, bearer_only.client_secret, f"{V11}/orgs"),
            bearer_only.client_secret)


def test_rotated_secret_works_during_grace_and_not_after_revocation(client, vendor, engine):
    with engine.begin() as conn:
        new_id, new_secret, _ = credentials.rotate(conn, "d1", vendor.client_id, 3600, sealing_key=KEY)
    for secret in (vendor.client_secret, new_secret):
        assert signed(client, vendor.client_id, secret, f"{V11}/orgs").status_code == 200
    with engine.begin() as conn:
        credentials.revoke(conn, "d1", vendor.client_id, vendor.credential_id)
    refused(signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs"), vendor.client_secret)
    assert signed(client, vendor.client_id, new_secret, f"{V11}/orgs").status_code == 200


def test_secret_past_its_grace_period_is_refused(client, vendor, engine):
    with engine.begin() as conn:
        credentials.rotate(conn, "d1", vendor.client_id, 0, sealing_key=KEY)
    refused(signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs"))


def test_suspended_app_is_refused(client, vendor, engine):
    with engine.begin() as conn:
        set_status(conn, "d1", vendor.client_id, "suspended")
    refused(signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs"))


def test_expired_agreement_is_refused(client, vendor, engine):
    with engine.begin() as conn:
        conn.execute(apps_table.update().values(dpa_expires="2020-01-01"))
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs")
    assert response.status_code == 403
    assert "2020-01-01" in response.get_json()["statusInfoSet"][0]["imsx_description"]


def test_plaintext_is_refused(client, vendor):
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs", method=SIGNATURE_PLAINTEXT)
    assert "unsupported_signature_method" in refused(response, vendor.client_secret)


def test_rsa_sha1_is_refused(client, vendor):
    header = (f'OAuth oauth_consumer_key="{vendor.client_id}", oauth_signature_method="RSA-SHA1", '
              f'oauth_timestamp="{int(time.time())}", oauth_nonce="n1", oauth_version="1.0", oauth_signature="c2ln"')
    assert "unsupported_signature_method" in refused(client.get(f"{V11}/orgs", headers={"Authorization": header}))


def test_an_oauth_token_is_refused(client, vendor):
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs", token="abc", token_secret="")
    assert "oauth_token" in refused(response)


def test_malformed_header_is_refused_without_echoing_it(client, vendor):
    response = client.get(f"{V11}/orgs", headers={"Authorization": 'OAuth oauth_signature="sig-text-123", broken'})
    assert "sig-text-123" not in response.get_data(as_text=True)
    refused(response)


def test_oauth1_on_a_1_2_path_is_refused(client, vendor):
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V12}/orgs")
    assert response.status_code == 401
    assert "imsx_codeMajor" in response.get_json()
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V12}/orgs", where=SIGNATURE_TYPE_QUERY)
    assert response.status_code == 401


def test_scope_the_app_lacks_is_forbidden(client, register):
    vendor = register(scopes=["https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"])
    assert signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs").status_code == 200
    response = signed(client, vendor.client_id, vendor.client_secret, f"{V11}/demographics")
    assert response.status_code == 403


def test_bearer_tokens_still_work_on_1_1(client, vendor):
    from helpers import basic

    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(vendor.client_id, vendor.client_secret)).get_json()["access_token"]
    assert client.get(f"{V11}/orgs", headers={"Authorization": "Bearer " + token}).status_code == 200


def test_signed_request_gets_the_same_token_as_a_bearer_one(app, client, vendor, engine):
    from helpers import basic

    with engine.begin() as conn:
        conn.execute(apps_table.update().values(allowed_orgs="sch1", rate_limit="5/second", purpose="grading"))
    access_token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(vendor.client_id, vendor.client_secret)).get_json()["access_token"]
    headers = sign_headers(vendor.client_id, vendor.client_secret, f"{V11}/orgs")
    with app.test_request_context(f"{V11}/orgs", headers=headers):
        token = app.extensions["trellis.oauth1"].acquire_token(frozenset(SCOPES))
        bearer = find_token(access_token)
    for name in ("client_id", "tenant", "scope", "revoked", "profile_xml", "profile_name", "allowed_orgs",
                 "has_optouts", "epoch", "purpose", "dpa_expires", "pairwise_key", "rate_limit"):
        assert getattr(token, name) == getattr(bearer, name), name
    assert token.allowed_orgs == "sch1" and token.rate_limit == "5/second"


def test_old_nonces_are_purged(client, vendor, engine):
    with engine.begin() as conn:
        conn.execute(oauth1_nonces.insert().values(client_id=vendor.client_id, timestamp=1000, nonce="old"))
    assert signed(client, vendor.client_id, vendor.client_secret, f"{V11}/orgs").status_code == 200
    with engine.connect() as conn:
        assert [row.nonce for row in conn.execute(oauth1_nonces.select())] != ["old"]
        assert conn.execute(oauth1_nonces.select().where(oauth1_nonces.c.nonce == "old")).first() is None


def test_secret_is_sealed_not_stored_in_clear(vendor, engine):
    from gateway.storage.tables import app_credentials

    with engine.connect() as conn:
        row = conn.execute(app_credentials.select()).first()
    assert row.secret_sealed and vendor.client_secret not in row.secret_sealed


def test_cli_creates_an_oauth1_app_and_needs_the_key(app, district, engine):
    with engine.begin() as conn:
        ensure_district(conn, "d1")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["apps", "create", "--district", "d1", "--name", "v", "--scope", "roster.readonly",
                                 "--oauth1"])
    assert result.exit_code == 0, result.output
    client_id = result.output.split("client_id:")[1].split()[0]
    with engine.connect() as conn:
        assert conn.execute(apps_table.select().where(apps_table.c.client_id == client_id)).first().oauth1 == 1
    app.config["TRELLIS_CREDENTIAL_KEY"] = ""
    result = runner.invoke(args=["apps", "create", "--district", "d1", "--name", "v", "--scope", "roster.readonly",
                                 "--oauth1"])
    assert result.exit_code != 0
    assert "TRELLIS_CREDENTIAL_KEY" in result.output
