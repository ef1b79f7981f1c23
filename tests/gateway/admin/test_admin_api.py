"""Admin API: admin tokens, district isolation, apps, credentials (rotation, revocation), agreements, errors, OpenAPI."""

import time

import pytest
from admin_support import PREFIX
from admin_support import Admin
from admin_support import app_token
from helpers import V12
from helpers import basic
from helpers import profile

from gateway.storage.tables import admin_changes

USERS = f"{V12}/users"


def bearer(token):
    return {"Authorization": "Bearer " + token}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status and body["message"] and "fields" in body
    return body


# --- admin tokens ------------------------------------------------------------------------------------------------

def test_admin_token_endpoint_issues_bearer_tokens_for_the_admin_district(app, client, admin_a):
    response = client.post(PREFIX + "/token", data={"grant_type": "client_credentials"},
                           headers=basic(admin_a.admin_id, admin_a.secret))
    body = response.get_json()
    assert response.status_code == 200 and body["token_type"] == "Bearer" and body["scope"] == "admin"
    assert body["expires_in"] == app.config["TRELLIS_TOKEN_LIFETIME"]
    assert response.headers["Cache-Control"] == "no-store"
    assert admin_a.get("/district").get_json()["district"] == {"id": "d1", "name": "Springfield", "apps": 0,
                                                                "createdAt": admin_a.get("/district").get_json()[
                                                                    "district"]["createdAt"]}


def test_admin_token_refuses_bad_secrets_app_credentials_and_secrets_in_the_body(client, admin_a, apps):
    wrong = client.post(PREFIX + "/token", data={"grant_type": "client_credentials"},
                        headers=basic(admin_a.admin_id, "nope"))
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    creds = apps.register(["roster-core.readonly"])
    as_app = client.post(PREFIX + "/token", data={"grant_type": "client_credentials"},
                         headers=basic(creds.client_id, creds.client_secret))
    assert as_app.status_code == 401
    in_body = client.post(PREFIX + "/token", data={"grant_type": "client_credentials", "client_id": admin_a.admin_id,
                                                   "client_secret": admin_a.secret})
    assert in_body.status_code in (400, 401)
    assert app_token(client, admin_a.admin_id, admin_a.secret).status_code == 401  # not an app


def test_app_tokens_never_work_on_the_admin_api_and_admin_tokens_never_on_oneroster(client, admin_a, apps):
    app_headers = apps.headers()
    body = problem(client.get(PREFIX + "/apps", headers=app_headers), 401)
    assert body["error"] == "unauthorisedrequest"
    assert client.get(PREFIX + "/apps").status_code == 401
    assert client.get(USERS, headers=admin_a.headers).status_code == 401
    assert client.get(USERS, headers=app_headers).status_code == 200


def test_a_revoked_admin_is_refused_at_once(app, client, admin_a):
    assert admin_a.get("/apps").status_code == 200
    result = app.test_cli_runner().invoke(args=["admins", "revoke", "--district", "d1", admin_a.admin_id])
    assert result.exit_code == 0, result.output
    assert admin_a.get("/apps").status_code == 401
    again = client.post(PREFIX + "/token", data={"grant_type": "client_credentials"},
                        headers=basic(admin_a.admin_id, admin_a.secret))
    assert again.status_code == 401


# --- district isolation ------------------------------------------------------------------------------------------

def test_an_admin_of_one_district_never_sees_or_changes_another(admin_a, admin_b, engine):
    created = admin_a.create_app(vendor="Acme")
    client_id, credential = created["clientId"], created["credentialId"]
    assert admin_b.get("/apps").get_json() == {"apps": []}
    for method, path, kwargs in [
            ("GET", f"/apps/{client_id}", {}),
            ("PATCH", f"/apps/{client_id}", {"json": {"vendor": "Evil"}}),
            ("POST", f"/apps/{client_id}/suspend", {}),
            ("POST", f"/apps/{client_id}/activate", {}),
            ("PUT", f"/apps/{client_id}/profile", {"data": profile("User"), "content_type": "application/xml"}),
            ("DELETE", f"/apps/{client_id}/profile", {}),
            ("PUT", f"/apps/{client_id}/orgs", {"json": {"orgs": None}}),
            ("GET", f"/apps/{client_id}/credentials", {}),
            ("POST", f"/apps/{client_id}/credentials/rotate", {"json": {"graceSeconds": 0}}),
            ("POST", f"/apps/{client_id}/credentials/revoke", {}),
            ("POST", f"/apps/{client_id}/credentials/{credential}/revoke", {}),
            ("PUT", f"/students/s1/opt-outs/{client_id}", {}),
            ("PUT", "/students/s1/opt-outs/directory", {}),
            ("PUT", f"/students/z1/opt-outs/{client_id}", {}),
            ("POST", "/students/s1/access-codes", {"json": {}})]:
        body = problem(admin_b.call(method, path, **kwargs), 404)
        assert "Acme" not in str(body)
    assert admin_b.get(f"/disclosures?app={client_id}").get_json()["disclosures"] == []
    assert [change["target"] for change in admin_b.changes()] == [f"admin:{admin_b.admin_id}"]
    unchanged = admin_a.get(f"/apps/{client_id}").get_json()["app"]
    assert unchanged["vendor"] == "Acme" and unchanged["status"] == "active" and not unchanged["hasProfile"]
    with engine.connect() as conn:
        tenants = {row.tenant for row in conn.execute(admin_changes.select())}
    assert tenants == {"d1", "d2"}  # the admins' own creation rows, nothing logged for the refused calls in d1
    assert admin_b.get("/district").get_json()["district"]["id"] == "d2"


# --- apps ----------------------------------------------------------------------------------------------------------

def test_creating_an_app_shows_its_secret_once(client, admin_a):
    created = admin_a.create_app(vendor="Acme", purpose="reading practice", dpaReference="DPA-7",
                                 dpaExpires="2099-06-30", contact="it@acme.example", pairwise=True,
                                 rateLimit="600/minute")
    secret = created["clientSecret"]
    assert created["app"]["vendor"] == "Acme" and created["app"]["pairwise"] and created["app"]["rateLimit"]
    assert created["app"]["scopes"] == ["https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
                                        "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"]
    for path in ("/apps", f"/apps/{created['clientId']}", f"/apps/{created['clientId']}/credentials", "/changes"):
        response = admin_a.get(path)
        assert response.status_code == 200 and secret not in response.get_data(as_text=True)
        assert "scrypt$" not in response.get_data(as_text=True)
    assert app_token(client, created["clientId"], secret).status_code == 200
    change = admin_a.changes()[-1]
    assert change["action"] == "app.create" and change["actor"] == f"admin:{admin_a.admin_id}"
    assert change["details"]["vendor"] == {"old": None, "new": "Acme"}


def test_patch_changes_fields_and_logs_old_and_new(client, admin_a):
    created = admin_a.create_app(vendor="Acme")
    response = admin_a.patch(f"/apps/{created['clientId']}", json={
        "vendor": "Acme Learning", "contact": "dpo@acme.example", "scopes": ["roster-core.readonly"],
        "oauth1": True, "rateLimit": "10/second", "dpaExpires": "2030-01-31"})
    app = response.get_json()["app"]
    assert response.status_code == 200 and app["vendor"] == "Acme Learning" and app["oauth1"]
    assert app["scopes"] == ["https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"]
    change = admin_a.changes()[-1]
    assert change["action"] == "app.update" and change["target"] == f"app:{created['clientId']}"
    assert change["details"]["vendor"] == {"old": "Acme", "new": "Acme Learning"}
    assert change["details"]["oauth1"] == {"old": False, "new": True}
    assert change["details"]["dpaExpires"] == {"old": None, "new": "2030-01-31"}
    assert len(change["details"]["scopes"]["old"]) == 2 and len(change["details"]["scopes"]["new"]) == 1
    assert change["occurredAt"].endswith("Z")
    cleared = admin_a.patch(f"/apps/{created['clientId']}", json={"contact": None}).get_json()["app"]
    assert cleared["contact"] is None
    before = len(admin_a.changes())
    assert admin_a.patch(f"/apps/{created['clientId']}", json={"vendor": "Acme Learning"}).status_code == 200
    assert len(admin_a.changes()) == before  # nothing changed, nothing logged


def test_suspend_and_activate_apply_from_the_next_request(client, admin_a, apps):
    created = admin_a.create_app()
    token = app_token(client, created["clientId"], created["clientSecret"]).get_json()["access_token"]
    assert client.get(USERS, headers=bearer(token)).status_code == 200
    assert admin_a.post(f"/apps/{created['clientId']}/suspend").get_json()["app"]["status"] == "suspended"
    assert client.get(USERS, headers=bearer(token)).status_code == 401
    assert admin_a.post(f"/apps/{created['clientId']}/activate").get_json()["app"]["status"] == "active"
    assert client.get(USERS, headers=bearer(token)).status_code == 200
    actions = [(c["action"], c["details"]) for c in admin_a.changes()[-2:]]
    assert actions == [("app.suspend", {"status": {"old": "active", "new": "suspended"}}),
                       ("app.activate", {"status": {"old": "suspended", "new": "active"}})]


def test_an_expired_agreement_is_refused_with_a_clear_message(client, admin_a):
    created = admin_a.create_app(dpaExpires="2099-01-01")
    token = app_token(client, created["clientId"], created["clientSecret"]).get_json()["access_token"]
    admin_a.patch(f"/apps/{created['clientId']}", json={"dpaExpires": "2020-01-31"})
    refused = client.get(USERS, headers=bearer(token))
    assert refused.status_code == 403 and "expired on 2020-01-31" in refused.get_data(as_text=True)
    denied = app_token(client, created["clientId"], created["clientSecret"])
    assert denied.status_code == 400 and denied.get_json()["error"] == "unauthorized_client"
    assert "expired on 2020-01-31" in denied.get_json()["error_description"]
    admin_a.patch(f"/apps/{created['clientId']}", json={"dpaExpires": "2099-12-31"})
    assert client.get(USERS, headers=bearer(token)).status_code == 200


def test_profile_upload_errors_name_the_line_and_the_log_keeps_only_a_digest(client, admin_a):
    created = admin_a.create_app()
    bad = ('<Profile name="p">\n<Resource name="User">\n<ReadContentType memberSelection="IncludeOnly">\n'
           '<Property name="pasword"/>\n</ReadContentType>\n</Resource>\n</Profile>\n')
    body = problem(admin_a.put(f"/apps/{created['clientId']}/profile", data=bad, content_type="application/xml"), 400)
    assert "profile:4" in body["message"] and body["fields"]["profile"]
    malformed = problem(admin_a.put(f"/apps/{created['clientId']}/profile", data="<Profiles>\n<oops",
                                    content_type="application/xml"), 400)
    assert "profile:2" in malformed["message"]
    problem(admin_a.put(f"/apps/{created['clientId']}/profile", json={"xml": bad}), 400)
    document = profile("User")
    response = admin_a.put(f"/apps/{created['clientId']}/profile", data=document, content_type="application/xml")
    assert response.status_code == 200 and response.get_json()["app"]["hasProfile"]
    change = admin_a.changes()[-1]
    assert change["action"] == "app.profile.set" and "<Profile" not in str(change)
    import hashlib

    assert change["details"]["profile"] == {"old": None, "new": hashlib.sha256(document.encode()).hexdigest()}
    removed = admin_a.delete(f"/apps/{created['clientId']}/profile")
    assert removed.status_code == 200 and not removed.get_json()["app"]["hasProfile"]
    assert admin_a.changes()[-1]["action"] == "app.profile.remove"


def test_allowed_orgs(admin_a):
    created = admin_a.create_app()
    path = f"/apps/{created['clientId']}/orgs"
    assert admin_a.put(path, json={"orgs": ["sch1"]}).get_json()["app"]["allowedOrgs"] == ["sch1"]
    body = problem(admin_a.put(path, json={"orgs": ["d2-sch"]}), 400)  # another district's org is unknown here
    assert "no org" in body["message"] and "orgs" in body["fields"]
    assert admin_a.put(path, json={"orgs": None}).get_json()["app"]["allowedOrgs"] is None
    details = [c["details"] for c in admin_a.changes() if c["action"] == "app.orgs"]
    assert details == [{"allowedOrgs": {"old": None, "new": ["sch1"]}},
                       {"allowedOrgs": {"old": ["sch1"], "new": None}}]


# --- credentials ----------------------------------------------------------------------------------------------------

def test_rotation_with_a_grace_period_keeps_both_secrets_working_until_it_ends(client, admin_a, monkeypatch):
    created = admin_a.create_app()
    client_id, old_secret = created["clientId"], created["clientSecret"]
    rotated = admin_a.post(f"/apps/{client_id}/credentials/rotate", json={"graceSeconds": 3600})
    assert rotated.status_code == 201 and rotated.headers["Cache-Control"] == "no-store"
    new_secret = rotated.get_json()["clientSecret"]
    assert new_secret != old_secret
    assert app_token(client, client_id, old_secret).status_code == 200
    assert app_token(client, client_id, new_secret).status_code == 200
    states = {c["credentialId"]: c for c in admin_a.get(f"/apps/{client_id}/credentials").get_json()["credentials"]}
    assert states[created["credentialId"]]["expiresAt"] is not None
    change = admin_a.changes()[-1]
    assert change["action"] == "app.credentials.rotate" and change["details"]["graceSeconds"] == 3600
    assert new_secret not in str(change) and old_secret not in str(change)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 7200)
    assert app_token(client, client_id, old_secret).status_code == 401
    token = app_token(client, client_id, new_secret).get_json()["access_token"]
    assert client.get(USERS, headers=bearer(token)).status_code == 200


def test_rotation_without_grace_refuses_the_old_secret_and_its_tokens_at_once(client, admin_a):
    created = admin_a.create_app()
    client_id = created["clientId"]
    old_token = app_token(client, client_id, created["clientSecret"]).get_json()["access_token"]
    new_secret = admin_a.post(f"/apps/{client_id}/credentials/rotate",
                              json={"graceSeconds": 0}).get_json()["clientSecret"]
    assert app_token(client, client_id, created["clientSecret"]).status_code == 401
    assert client.get(USERS, headers=bearer(old_token)).status_code == 401
    assert app_token(client, client_id, new_secret).status_code == 200


def test_revoking_a_credential_refuses_its_tokens_on_the_next_request(client, admin_a):
    created = admin_a.create_app()
    client_id, credential = created["clientId"], created["credentialId"]
    token = app_token(client, client_id, created["clientSecret"]).get_json()["access_token"]
    assert client.get(USERS, headers=bearer(token)).status_code == 200
    response = admin_a.post(f"/apps/{client_id}/credentials/{credential}/revoke")
    assert response.get_json() == {"revoked": 1}
    assert client.get(USERS, headers=bearer(token)).status_code == 401
    assert app_token(client, client_id, created["clientSecret"]).status_code == 401
    assert problem(admin_a.post(f"/apps/{client_id}/credentials/{credential}/revoke"), 409)["error"] == "conflict"
    problem(admin_a.post(f"/apps/{client_id}/credentials/nope/revoke"), 404)
    new_secret = admin_a.post(f"/apps/{client_id}/credentials/rotate",
                              json={"graceSeconds": 60}).get_json()["clientSecret"]
    assert admin_a.post(f"/apps/{client_id}/credentials/revoke").get_json() == {"revoked": 1}
    assert app_token(client, client_id, new_secret).status_code == 401
    revokes = [c["details"] for c in admin_a.changes() if c["action"] == "app.credentials.revoke"]
    assert revokes == [{"credentialId": credential, "revoked": 1}, {"credentialId": "all", "revoked": 1}]


# --- request validation and errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"name": "x", "scopes": ["roster-core.readonly"], "pairwise": "yes"}, "pairwise"),
    ({"name": "x", "scopes": "roster-core.readonly"}, "scopes"),
    ({"name": "x", "scopes": []}, "scopes"),
    ({"name": "x", "scopes": ["roster-core.readonly"], "dpaExpires": "2020-13-40"}, "dpaExpires"),
    ({"name": "x", "scopes": ["roster-core.readonly"], "colour": "red"}, "colour"),
    ({"scopes": ["roster-core.readonly"]}, "name"),
    ({"name": "", "scopes": ["roster-core.readonly"]}, "name"),
    ({"name": "x", "scopes": ["no-such.scope"]}, "scopes"),
    ({"name": "x", "scopes": ["roster-core.readonly"], "rateLimit": "lots"}, "rateLimit"),
    ({"name": "x", "scopes": ["roster-core.readonly"], "vendor": 7}, "vendor"),
])
def test_bad_bodies_are_400s_naming_the_field(admin_a, body, field):
    response = problem(admin_a.post("/apps", json=body), 400)
    assert field in response["fields"], response
    assert admin_a.get("/apps").get_json() == {"apps": []}


def test_bodies_must_be_json_objects(admin_a):
    created = admin_a.create_app()
    path = f"/apps/{created['clientId']}"
    problem(admin_a.patch(path, data="vendor=x", content_type="application/x-www-form-urlencoded"), 400)
    problem(admin_a.patch(path, data="{not json", content_type="application/json"), 400)
    problem(admin_a.patch(path, json=["vendor"]), 400)
    assert "_schema" in problem(admin_a.patch(path, json={}), 400)["fields"]
    assert "status" in problem(admin_a.patch(path, json={"status": "suspended"}), 400)["fields"]
    rotate = f"{path}/credentials/rotate"
    assert "graceSeconds" in problem(admin_a.post(rotate, json={}), 400)["fields"]
    assert "graceSeconds" in problem(admin_a.post(rotate, json={"graceSeconds": -1}), 400)["fields"]
    assert "graceSeconds" in problem(admin_a.post(rotate, json={"graceSeconds": "60"}), 400)["fields"]
    assert "graceSeconds" in problem(admin_a.post(rotate, json={"graceSeconds": 10**9}), 400)["fields"]


def test_unknown_routes_and_methods_are_json(client, admin_a):
    body = problem(admin_a.get("/nothing/here"), 404)
    assert body["error"] == "unknownobject"
    problem(client.get(PREFIX + "/nothing"), 404)
    problem(admin_a.get("/apps/nope"), 404)
    wrong = problem(admin_a.delete("/apps"), 405)
    assert wrong["error"] == "unsupported"
    assert admin_a.delete("/apps").headers["Allow"] == "GET, POST"


def test_openapi_document_describes_every_admin_route(app, client):
    response = client.get(PREFIX + "/openapi.json")
    document = response.get_json()
    assert response.status_code == 200 and document["openapi"].startswith("3.")
    rules = {(rule.rule, method) for rule in app.url_map.iter_rules()
             if rule.rule.startswith(PREFIX) and rule.endpoint not in {"admin.unknown", "admin.openapi"}
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    flask_style = {(path.replace("{", "<").replace("}", ">"), method) for path, method in documented}
    normalised = {(rule.replace("<client_id>", "<clientId>").replace("<credential_id>", "<credentialId>")
                   .replace("<student_id>", "<studentId>").replace("<code_id>", "<codeId>"), method)
                  for rule, method in rules}
    assert normalised == flask_style
    create = document["components"]["schemas"]["AppCreate"]
    assert create["additionalProperties"] is False and create["required"] == ["name", "scopes"]
    assert create["properties"]["dpaExpires"] == {**create["properties"]["dpaExpires"], "type": "string",
                                                  "format": "date", "nullable": True}
    assert document["components"]["securitySchemes"]["adminToken"]["flows"]["clientCredentials"]["tokenUrl"] == \
        PREFIX + "/token"


def test_oauth1_needs_the_credential_key(app, client, districts):
    admin = Admin(app, client, "d1")
    body = problem(admin.post("/apps", json={"name": "x", "scopes": ["roster-core.readonly"], "oauth1": True}), 400)
    assert "TRELLIS_CREDENTIAL_KEY" in body["message"] and "oauth1" in body["fields"]
    app.config["TRELLIS_CREDENTIAL_KEY"] = "k" * 40
    assert admin.post("/apps", json={"name": "x", "scopes": ["roster-core.readonly"], "oauth1": True}).status_code == 201
