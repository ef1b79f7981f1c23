"""No secret, token, access code or student value ever reaches the logs, whatever path a request takes.

A whole session is driven with every logger at DEBUG: an app registered and its token issued (and a wrong secret
tried), OneRoster reads with filters on student names, errors, an admin creating and rotating credentials, an access
code issued and used (and a wrong one). Every captured record, its arguments and any traceback are then searched for
each secret and each student value the session handled.
"""

from __future__ import annotations

import logging

from factories import seed
from helpers import V12
from helpers import basic

from gateway.admin.auth import create_admin
from gateway.auth.registry import create_app_credentials
from gateway.auth.registry import ensure_district
from gateway.auth.registry import update_app

STUDENT_VALUES = ("Ann", "Lee", "ann.lee@example.org", "2011-03-04")


def _token(client, path, client_id, secret):
    response = client.post(path, data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def test_a_whole_session_leaves_no_secret_or_student_value_in_the_logs(app, client, engine, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    secrets = []
    seed(engine)
    with engine.begin() as conn:
        ensure_district(conn, "d1")
        creds = create_app_credentials(conn, "d1", "reader", ["roster.readonly", "roster-demographics.readonly"])
        admin_id, admin_secret = create_admin(conn, "d1", "office")
    secrets += [creds.client_secret, admin_secret]

    assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=basic(creds.client_id, "wrong-" + creds.client_secret)).status_code == 401
    token = _token(client, "/oauth/token", creds.client_id, creds.client_secret)
    secrets.append(token)
    bearer = {"Authorization": "Bearer " + token}
    for path in ("users?filter=givenName%3D%27Ann%27", "users/s1", "demographics/s1", "users?filter=nope%3D%27Lee%27",
                 "users/ghost", "users?sort=password"):
        client.get(f"{V12}/{path}", headers=bearer)
    client.get(f"{V12}/users", headers={"Authorization": "Bearer " + token[::-1]})

    admin_token = _token(client, "/admin/v1/token", admin_id, admin_secret)
    secrets.append(admin_token)
    admin = {"Authorization": "Bearer " + admin_token}
    created = client.post("/admin/v1/apps", json={"name": "Maths", "scopes": ["roster-core.readonly"]},
                          headers=admin).get_json()
    rotated = client.post(f"/admin/v1/apps/{created['clientId']}/credentials/rotate", json={"graceSeconds": 60},
                          headers=admin).get_json()
    secrets += [created["clientSecret"], rotated["clientSecret"]]
    issued = client.post("/admin/v1/students/s1/access-codes", json={"days": 7}, headers=admin).get_json()
    secrets.append(issued["code"])
    for scheme in ("AccessCode", "Bearer"):
        assert client.get("/privacy/v1/me/disclosures",
                          headers={"Authorization": f"{scheme} {issued['code']}"}).status_code == 200
    client.get("/privacy/v1/me/apps", headers={"Authorization": "AccessCode " + issued["code"][::-1]})
    with engine.begin() as conn:
        update_app(conn, "d1", creds.client_id, pairwise=True)
    client.get(f"{V12}/users", headers=bearer)

    def broken(*args, **kwargs):  # an unexpected fault whose message quotes a student's data
        raise KeyError("Ann Lee, born 2011-03-04")

    monkeypatch.setattr(app.extensions["trellis.reader"], "get", broken)
    response = client.get(f"{V12}/users/s1", headers=bearer)
    assert response.status_code == 500 and b"Ann" not in response.data

    assert caplog.records, "the session logged nothing: the test would prove nothing"
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
    for value in STUDENT_VALUES:
        assert value not in logged, value
