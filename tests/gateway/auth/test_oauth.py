"""OAuth 2.0 client credentials and the bearer checks every OneRoster endpoint performs."""

import time

from helpers import basic

from gateway.auth.secrets import token_key
from gateway.storage.tables import apps as apps_table
from gateway.storage.tables import app_credentials
from gateway.storage.tables import tokens

USERS = "/ims/oneroster/rostering/v1p2/users"
DEMOGRAPHICS = "/ims/oneroster/rostering/v1p2/demographics"
V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"


def _code_minor(response):
    return response.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


def test_token_is_issued_for_valid_credentials_and_lasts_an_hour(apps, client):
    creds = apps.register(["roster-core.readonly"])
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(creds.client_id, creds.client_secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == V12 + "roster-core.readonly"


def test_client_secret_post_is_accepted_too(apps, client):
    creds = apps.register(["roster-core.readonly"])
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": creds.client_id,
                                                 "client_secret": creds.client_secret})
    assert response.status_code == 200


def test_wrong_secret_is_refused(apps, client):
    creds = apps.register(["roster-core.readonly"])
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(creds.client_id, "not-the-secret"))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_requested_scope_is_narrowed_to_what_the_app_holds(apps, client):
    creds = apps.register(["roster-core.readonly", "roster-demographics.readonly"])
    response = client.post("/oauth/token", headers=basic(creds.client_id, creds.client_secret),
                           data={"grant_type": "client_credentials",
                                 "scope": V12 + "roster-core.readonly " + V12 + "roster.readonly"})
    assert response.status_code == 200
    assert response.get_json()["scope"] == V12 + "roster-core.readonly"


def test_requesting_only_scopes_the_app_lacks_is_invalid_scope(apps, client):
    creds = apps.register(["roster-core.readonly"])
    response = client.post("/oauth/token", headers=basic(creds.client_id, creds.client_secret),
                           data={"grant_type": "client_credentials", "scope": V12 + "roster.readonly"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_secret_and_token_are_stored_only_as_hashes(apps, client, engine):
    creds = apps.register(["roster-core.readonly"])
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(creds.client_id, creds.client_secret)).get_json()["access_token"]
    with engine.connect() as conn:
        stored = conn.execute(app_credentials.select()).first()
        stored_app = conn.execute(apps_table.select()).first()
        stored_tokens = [row.token_hash for row in conn.execute(tokens.select())]
    assert creds.client_secret not in str(tuple(stored)) + str(tuple(stored_app))
    assert stored.secret_hash.startswith("scrypt$")
    assert stored.secret_sealed is None  # only OAuth 1.0a apps keep a sealed copy
    assert stored_tokens == [token_key(token)]
    assert token not in stored_tokens


def test_no_token_is_401_in_the_imsx_format(client, app):
    response = client.get(USERS)
    assert response.status_code == 401
    assert _code_minor(response) == "unauthorisedrequest"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client, app):
    response = client.get(USERS, headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401


def test_expired_token_is_401(apps, client, engine):
    headers = apps.headers()
    with engine.begin() as conn:
        conn.execute(tokens.update().values(expires_at=int(time.time()) - 1))
    assert client.get(USERS, headers=headers).status_code == 401


def test_suspended_app_is_refused_on_its_next_request(apps, client, engine):
    headers = apps.headers()
    assert client.get(USERS, headers=headers).status_code == 200
    with engine.begin() as conn:
        conn.execute(apps_table.update().values(status="suspended"))
    assert client.get(USERS, headers=headers).status_code == 401


def test_core_scope_opens_collections_but_not_relationship_endpoints(apps, client):
    headers = apps.headers(scopes=["roster-core.readonly"])
    assert client.get(USERS, headers=headers).status_code == 200
    response = client.get("/ims/oneroster/rostering/v1p2/classes/c1/students", headers=headers)
    assert response.status_code == 403
    assert _code_minor(response) == "forbidden"


def test_only_the_demographics_scope_opens_demographics(apps, client):
    roster = apps.headers(scopes=["roster.readonly", "roster-core.readonly"])
    assert client.get(DEMOGRAPHICS, headers=roster).status_code == 403
    demographics = apps.headers(scopes=["roster-demographics.readonly"])
    assert client.get(DEMOGRAPHICS, headers=demographics).status_code == 200
    assert client.get(USERS, headers=demographics).status_code == 403


def test_scopes_match_as_whole_tokens_not_substrings(apps, client, engine):
    headers = apps.headers(scopes=["roster-core.readonly"])
    with engine.begin() as conn:  # a crafted scope string that merely contains the right one
        conn.execute(tokens.update().values(scope="x" + V12 + "roster-core.readonlyx"))
    assert client.get(USERS, headers=headers).status_code == 403


def test_1p2_scopes_do_not_open_1p1_paths_and_1p1_scopes_do(apps, client):
    v12 = apps.headers(scopes=["roster-core.readonly"])
    response = client.get("/ims/oneroster/v1p1/users", headers=v12)
    assert response.status_code == 403
    assert "statusInfoSet" in response.get_json()
    v11 = apps.headers(scopes=["https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"])
    assert client.get("/ims/oneroster/v1p1/users", headers=v11).status_code == 200


def test_registration_refuses_unknown_scopes_and_districts(apps, app):
    import pytest

    from gateway.auth.registry import RegistryError
    from gateway.auth.registry import create_app_credentials

    with pytest.raises(RegistryError, match="unknown scope"):
        apps.register(["roster.readwrite"])
    with app.extensions["trellis.engine"].begin() as conn, pytest.raises(RegistryError, match="unknown district"):
        create_app_credentials(conn, "nope", "x", ["roster.readonly"])


def _token(client, creds):
    return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=basic(creds.client_id, creds.client_secret)).get_json()["access_token"]


def test_revoked_token_is_refused_on_its_next_request(apps, client):
    creds = apps.register(["roster-core.readonly"])
    token = _token(client, creds)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(USERS, headers=headers).status_code == 200
    response = client.post("/oauth/revoke", data={"token": token}, headers=basic(creds.client_id, creds.client_secret))
    assert response.status_code == 200
    assert client.get(USERS, headers=headers).status_code == 401


def test_an_app_cannot_revoke_another_apps_token(apps, client):
    owner, other = apps.register(["roster-core.readonly"]), apps.register(["roster-core.readonly"], name="other")
    token = _token(client, owner)
    client.post("/oauth/revoke", data={"token": token}, headers=basic(other.client_id, other.client_secret))
    assert client.get(USERS, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_introspection_tells_the_owner_and_nobody_else(apps, client):
    owner, other = apps.register(["roster-core.readonly"]), apps.register(["roster-core.readonly"], name="other")
    token = _token(client, owner)
    mine = client.post("/oauth/introspect", data={"token": token}, headers=basic(owner.client_id, owner.client_secret))
    assert mine.status_code == 200
    body = mine.get_json()
    assert body["active"] is True and body["client_id"] == owner.client_id and body["scope"].endswith("roster-core.readonly")
    theirs = client.post("/oauth/introspect", data={"token": token}, headers=basic(other.client_id, other.client_secret))
    assert theirs.get_json() == {"active": False}
    unauthenticated = client.post("/oauth/introspect", data={"token": token})
    assert unauthenticated.status_code == 401
    client.post("/oauth/revoke", data={"token": token}, headers=basic(owner.client_id, owner.client_secret))
    after = client.post("/oauth/introspect", data={"token": token}, headers=basic(owner.client_id, owner.client_secret))
    assert after.get_json() == {"active": False}


def test_suspend_and_activate_commands(app, apps, client):
    creds = apps.register(["roster-core.readonly"])
    headers = {"Authorization": "Bearer " + _token(client, creds)}
    runner = app.test_cli_runner()
    assert runner.invoke(args=["apps", "suspend", "--district", "d1", creds.client_id]).exit_code == 0
    assert client.get(USERS, headers=headers).status_code == 401
    denied = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         headers=basic(creds.client_id, creds.client_secret))
    assert denied.status_code == 401
    assert runner.invoke(args=["apps", "activate", "--district", "d1", creds.client_id]).exit_code == 0
    assert client.get(USERS, headers=headers).status_code == 200
    assert "no app" in runner.invoke(args=["apps", "suspend", "--district", "d2", creds.client_id]).output


def test_client_ids_are_plain_lower_case_tokens():
    import re

    from gateway.auth.secrets import new_client_id

    ids = {new_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[a-z2-7]{24}", client_id) for client_id in ids)
