"""Org scoping and opt-outs (OWASP API1): a record an app may not see is absent everywhere, like a missing one."""

import pytest
from factories import seed
from helpers import V12
from helpers import basic


@pytest.fixture
def scoped(app, client, apps, engine):
    """An app limited to North High (sch1), and its token headers."""
    seed(engine)
    creds = apps.register(["roster.readonly", "roster-core.readonly", "roster-demographics.readonly"])
    result = app.test_cli_runner().invoke(args=["apps", "set-orgs", "--district", "d1", creds.client_id, "sch1"])
    assert result.exit_code == 0, result.output
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(creds.client_id, creds.client_secret)).get_json()["access_token"]
    return creds, {"Authorization": f"Bearer {token}"}


def ids(response, key):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["sourcedId"] for r in response.get_json()[key]]


def test_collections_and_totals_hold_only_records_of_allowed_orgs(client, scoped):
    _, headers = scoped
    response = client.get(f"{V12}/users", headers=headers)
    assert ids(response, "users") == ["s1", "s2", "s3", "s4", "t-a"]
    assert response.headers["X-Total-Count"] == "5"
    assert ids(client.get(f"{V12}/classes", headers=headers), "classes") == ["cls1", "cls2"]
    assert ids(client.get(f"{V12}/enrollments", headers=headers), "enrollments") == ["e1", "e2", "e3", "e4", "e7", "e8"]
    assert ids(client.get(f"{V12}/orgs", headers=headers), "orgs") == ["sch1"]
    assert ids(client.get(f"{V12}/courses", headers=headers), "courses") == ["c-math"]


def test_a_record_outside_the_orgs_answers_404_exactly_like_a_missing_one(client, scoped):
    _, headers = scoped
    outside = client.get(f"{V12}/users/s5", headers=headers)
    missing = client.get(f"{V12}/users/nobody-at-all", headers=headers)
    assert outside.status_code == missing.status_code == 404
    assert outside.get_json()["imsx_CodeMinor"] == missing.get_json()["imsx_CodeMinor"]
    assert client.get(f"{V12}/classes/cls3", headers=headers).status_code == 404


def test_relationship_endpoints_never_reach_outside_the_orgs(client, scoped):
    _, headers = scoped
    assert ids(client.get(f"{V12}/classes/cls3/students", headers=headers), "users") == []
    assert ids(client.get(f"{V12}/schools/sch2/students", headers=headers), "users") == []
    assert ids(client.get(f"{V12}/classes/cls1/students", headers=headers), "users") == ["s1", "s2"]


def test_filters_cannot_escape_the_orgs(client, scoped):
    _, headers = scoped
    response = client.get(f"{V12}/users?filter=givenName%3D%27Eve%27%20OR%20sourcedId%3D%27s5%27", headers=headers)
    assert ids(response, "users") == []


def test_a_district_wide_app_sees_everything(client, apps, engine):
    seed(engine)
    assert len(ids(client.get(f"{V12}/users", headers=apps.headers()), "users")) == 8


def test_an_opted_out_student_disappears_for_that_app_only_on_the_next_request(app, client, apps, engine):
    seed(engine)
    first = apps.register(["roster.readonly", "roster-core.readonly", "roster-demographics.readonly"], name="one")
    other = apps.headers()
    headers = {"Authorization": "Bearer " + client.post(
        "/oauth/token", data={"grant_type": "client_credentials"},
        headers=basic(first.client_id, first.client_secret)).get_json()["access_token"]}
    assert "s2" in ids(client.get(f"{V12}/users", headers=headers), "users")
    result = app.test_cli_runner().invoke(args=["students", "opt-out", "--district", "d1", "s2",
                                                "--app", first.client_id])
    assert result.exit_code == 0, result.output
    response = client.get(f"{V12}/users", headers=headers)
    assert "s2" not in ids(response, "users") and response.headers["X-Total-Count"] == "7"
    assert client.get(f"{V12}/users/s2", headers=headers).status_code == 404
    assert client.get(f"{V12}/demographics/s2", headers=headers).status_code == 404
    assert "s2" not in ids(client.get(f"{V12}/classes/cls1/students", headers=headers), "users")
    assert "e2" not in ids(client.get(f"{V12}/enrollments", headers=headers), "enrollments")
    assert "s2" in ids(client.get(f"{V12}/users", headers=other), "users")  # other apps still see s2
    app.test_cli_runner().invoke(args=["students", "opt-in", "--district", "d1", "s2", "--app", first.client_id])
    assert "s2" in ids(client.get(f"{V12}/users", headers=headers), "users")


def test_a_directory_opt_out_hides_the_student_from_every_app(app, client, apps, engine):
    seed(engine)
    headers = apps.headers()
    result = app.test_cli_runner().invoke(args=["students", "opt-out", "--district", "d1", "s3"])
    assert result.exit_code == 0 and "every app" in result.output
    assert "s3" not in ids(client.get(f"{V12}/users", headers=headers), "users")
    assert "s3" not in ids(client.get(f"{V12}/users", headers=apps.headers(district="d1")), "users")


def test_set_orgs_and_opt_out_refuse_unknown_names(app, apps, engine):
    seed(engine)
    creds = apps.register(["roster.readonly"])
    runner = app.test_cli_runner()
    assert "no org" in runner.invoke(args=["apps", "set-orgs", "--district", "d1", creds.client_id, "nope"]).output
    assert "no user" in runner.invoke(args=["students", "opt-out", "--district", "d1", "ghost"]).output


def test_a_parent_outside_the_orgs_is_unknown_to_the_resources_service(app, client, apps, engine):
    seed(engine)
    creds = apps.register(["resource.readonly"])
    app.test_cli_runner().invoke(args=["apps", "set-orgs", "--district", "d1", creds.client_id, "sch1"])
    headers = {"Authorization": "Bearer " + client.post(
        "/oauth/token", data={"grant_type": "client_credentials"},
        headers=basic(creds.client_id, creds.client_secret)).get_json()["access_token"]}
    inside = client.get("/ims/oneroster/resources/v1p2/classes/cls1/resources", headers=headers)
    outside = client.get("/ims/oneroster/resources/v1p2/classes/cls3/resources", headers=headers)
    missing = client.get("/ims/oneroster/resources/v1p2/classes/no-such-class/resources", headers=headers)
    assert inside.status_code == 200
    assert outside.status_code == missing.status_code == 404
    assert outside.get_json() == missing.get_json()
