"""/privacy/v1/me: what a parent's access code shows. Two districts are seeded with the same ids and two students'
codes are compared: a code shows its own student's disclosures and apps, never another student's ids or another
district's apps or log entries."""

import logging
import re
import time
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from factories import seed
from helpers import V12
from helpers import basic
from helpers import profile

from gateway.auth.registry import set_allowed_orgs
from gateway.auth.registry import set_profile
from gateway.auth.registry import set_status
from gateway.privacy.access_codes import issue_code
from gateway.privacy.access_codes import revoke_code
from gateway.privacy.optouts import set_optout
from gateway.storage.tables import access_codes
from gateway.storage.tables import apps as apps_table

ME = "/privacy/v1/me"
ALL_SCOPES = ["roster.readonly", "roster-core.readonly", "roster-demographics.readonly"]
OTHER_IDS = ["s2", "s3", "s4", "s5", "s6", "t-a", "t-b", "e2", "e3", "e5", "e6", "e7", "e8", "e9"]


def code_for(engine, tenant, student, days=30):
    with engine.begin() as conn:
        return issue_code(conn, tenant, student, days=days, created_by="test").code


def me(client, code, path="disclosures", scheme="AccessCode", **kwargs):
    return client.get(f"{ME}/{path}", headers={"Authorization": f"{scheme} {code}"}, **kwargs)


def ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def register(app, client, apps, district, name, scopes=ALL_SCOPES, **kwargs):
    """An app of ``district`` named ``name`` and its bearer headers."""
    creds = apps.register(scopes, district=district, name=name, **kwargs)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(creds.client_id, creds.client_secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return creds.client_id, {"Authorization": "Bearer " + response.get_json()["access_token"]}


@pytest.fixture
def world(app, client, apps, engine):
    """Districts d1 and d2 (same ids); one app in each has read student data; codes for d1/s1, d1/s2 and d2/s1."""
    seed(engine, "d1")
    seed(engine, "d2")
    reader, headers = register(app, client, apps, "d1", "Reading Coach")
    for path in ("users", "users/s2", "enrollments", "demographics", "classes"):
        assert client.get(f"{V12}/{path}", headers=headers).status_code == 200
    other, other_headers = register(app, client, apps, "d2", "Other District Tutor")
    for path in ("users", "users/s1"):
        assert client.get(f"{V12}/{path}", headers=other_headers).status_code == 200
    return {"reader": reader, "other": other, "s1": code_for(engine, "d1", "s1"), "s2": code_for(engine, "d1", "s2"),
            "d2s1": code_for(engine, "d2", "s1")}


def by_endpoint(body):
    return {entry["endpoint"].removeprefix(V12): entry for entry in body["disclosures"]}


def test_a_code_shows_its_students_disclosures_and_no_one_elses_ids(client, world):
    response = me(client, world["s1"])
    body = ok(response)
    entries = by_endpoint(body)
    assert set(entries) == {"/users", "/enrollments", "/demographics"}  # not the read of /users/s2
    assert entries["/users"]["records"] == ["s1"]
    assert entries["/enrollments"]["records"] == ["e1", "e4"]
    assert entries["/demographics"]["records"] == ["s1"]
    users = entries["/users"]
    assert users["app"] == {"clientId": world["reader"], "name": "Reading Coach", "vendor": None}
    assert users["recordType"] == "user" and "givenName" in users["fields"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", users["occurredAt"])
    assert set(users) == {"seq", "occurredAt", "app", "endpoint", "recordType", "fields", "purpose", "records"}
    text = response.get_data(as_text=True)
    for other in OTHER_IDS:
        assert f'"{other}"' not in text
    assert "student_ids" not in text and "studentIds" not in text
    assert world["other"] not in text and "Other District" not in text


def test_the_other_students_code_shows_the_other_students_disclosures(client, world):
    response = me(client, world["s2"])
    entries = by_endpoint(ok(response))
    assert set(entries) == {"/users", "/users/{sourcedId}", "/enrollments", "/demographics"}
    assert entries["/users/{sourcedId}"]["records"] == ["s2"]
    assert entries["/enrollments"]["records"] == ["e2"]
    assert '"s1"' not in response.get_data(as_text=True) and '"e1"' not in response.get_data(as_text=True)


def test_a_code_of_the_other_district_shows_only_that_districts_log(client, world):
    response = me(client, world["d2s1"])
    body = ok(response)
    assert [entry["app"]["clientId"] for entry in body["disclosures"]] == [world["other"], world["other"]]
    assert set(by_endpoint(body)) == {"/users", "/users/{sourcedId}"}
    assert all(entry["records"] == ["s1"] for entry in body["disclosures"])
    assert world["reader"] not in response.get_data(as_text=True)
    apps = ok(me(client, world["d2s1"], "apps"))
    assert [app["name"] for app in apps["apps"]] == ["Other District Tutor"]
    assert [app["name"] for app in ok(me(client, world["s1"], "apps"))["apps"]] == ["Reading Coach"]


def test_the_purpose_is_the_recorded_one_or_else_the_apps_stated_purpose(client, engine, world):
    with engine.begin() as conn:
        conn.execute(apps_table.update().where(apps_table.c.client_id == world["reader"])
                     .values(purpose="Reading practice", vendor="Acme Learning"))
    entry = ok(me(client, world["s1"]))["disclosures"][0]
    assert entry["app"]["vendor"] == "Acme Learning"
    assert entry["purpose"] == "Reading practice"


def test_missing_unknown_expired_and_revoked_codes_are_refused_with_a_challenge(client, engine, world):
    expired = code_for(engine, "d1", "s1")
    revoked = code_for(engine, "d1", "s1")
    with engine.begin() as conn:
        conn.execute(access_codes.update().where(access_codes.c.expires_at > 0, access_codes.c.student_id == "s1",
                                                 access_codes.c.tenant == "d1")
                     .values(expires_at=int(time.time()) - 1))
        [row] = conn.execute(access_codes.select().where(access_codes.c.tenant == "d1",
                                                         access_codes.c.student_id == "s2")).fetchall()
        revoke_code(conn, "d1", row.code_id)
    assert expired and revoked
    attempts = [
        client.get(f"{ME}/disclosures"),
        client.get(f"{ME}/apps"),
        me(client, ""),
        me(client, "ABCDE-FGHJK-MNPQR-STVWX-YZ012"),
        me(client, world["s1"]),  # expired (every d1/s1 code was moved into the past)
        me(client, world["s2"], "apps"),  # revoked
        me(client, world["d2s1"], scheme="Basic"),
        me(client, "not a code at all"),
    ]
    for response in attempts:
        assert response.status_code == 401, response.get_data(as_text=True)
        assert response.headers["WWW-Authenticate"].startswith("AccessCode ")
        assert response.get_json()["error"] == "unauthorisedrequest"
    assert ok(me(client, world["d2s1"], "apps"))  # the other district's code is untouched


def test_an_app_token_is_not_an_access_code(app, client, apps, world):
    _, headers = register(app, client, apps, "d1", "Sneaky")
    assert client.get(f"{ME}/disclosures", headers=headers).status_code == 401


def test_the_code_is_never_accepted_in_the_url(client, world):
    code = world["s1"]
    for name in ("code", "access_code", "accessCode", "token"):
        assert client.get(f"{ME}/disclosures", query_string={name: code}).status_code == 401
        assert client.get(f"{ME}/apps", query_string={name: code}).status_code == 401
        refused = me(client, code, query_string={name: code})
        assert refused.status_code == 400
        assert "Authorization header" in refused.get_json()["detail"] and code not in refused.get_data(as_text=True)


def test_bearer_and_loosely_typed_codes_are_accepted(client, world):
    code = world["s1"]
    assert ok(me(client, code, scheme="Bearer"))["disclosures"]
    assert ok(me(client, code.lower().replace("-", " "), "apps", scheme="accesscode"))["apps"]


def test_the_code_is_never_logged(client, world, caplog):
    caplog.set_level(logging.DEBUG)
    code = world["s1"]
    me(client, code)
    me(client, code, "apps", query_string={"limit": "x"})
    me(client, code[:-1] + ("0" if code[-1] != "0" else "1"))
    client.get(f"{ME}/disclosures", query_string={"code": code})
    for variant in (code, code.replace("-", ""), code[:-1]):
        assert variant not in caplog.text


@pytest.mark.parametrize("query,name", [
    ({"since": "yesterday"}, "since"), ({"since": "2026-02-30"}, "since"), ({"until": "20260101"}, "until"),
    ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"), ({"limit": "ten"}, "limit"), ({"limit": "-1"}, "limit"),
    ({"after": "-1"}, "after"), ({"after": "1.5"}, "after"), ({"after": "9" * 30}, "after"),
    ({"sort": "seq"}, "sort"), ({"student": "s2"}, "student"),
    ({"since": "2026-02-01", "until": "2026-01-01"}, "since"),
    ({"until": "9999-12-31"}, "until"), ({"since": "0001-01-01"}, "since"),  # were 500s (date overflow)
])
def test_bad_parameters_are_400_naming_the_parameter(client, world, query, name):
    response = me(client, world["s1"], query_string=query)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invaliddata" and f"'{name}'" in response.get_json()["detail"]


def test_a_repeated_parameter_is_refused(client, world):
    response = me(client, world["s1"], query_string=[("limit", "1"), ("limit", "2")])
    assert response.status_code == 400 and "'limit'" in response.get_json()["detail"]
    assert me(client, world["s1"], "apps", query_string={"limit": "1"}).status_code == 400


def test_paging_and_dates(client, world):
    code = world["s1"]
    everything = ok(me(client, code))
    assert "next" not in everything
    seqs = [entry["seq"] for entry in everything["disclosures"]]
    assert len(seqs) == 3 and seqs == sorted(seqs)
    first = ok(me(client, code, query_string={"limit": "2"}))
    assert [entry["seq"] for entry in first["disclosures"]] == seqs[:2]
    assert first["next"] == f"{ME}/disclosures?limit=2&after={seqs[1]}"
    second = ok(client.get(first["next"], headers={"Authorization": f"AccessCode {code}"}))
    assert [entry["seq"] for entry in second["disclosures"]] == seqs[2:] and "next" not in second
    today = datetime.now(timezone.utc).date()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    assert len(ok(me(client, code, query_string={"since": str(today), "until": str(today)}))["disclosures"]) == 3
    assert ok(me(client, code, query_string={"since": str(tomorrow)}))["disclosures"] == []
    assert ok(me(client, code, query_string={"until": str(yesterday)}))["disclosures"] == []


def names(body, key="apps"):
    return [app["name"] for app in body[key]]


def test_apps_are_those_that_may_see_the_student_now(app, client, apps, engine):
    seed(engine, "d1")
    seed(engine, "d2")
    ids = {name: apps.register(ALL_SCOPES, district="d1", name=name).client_id
           for name in ("A whole district", "B north only", "C south only", "D suspended", "E agreement expired",
                        "F agreement in force", "G opted out")}
    apps.register(ALL_SCOPES, district="d2", name="H other district")
    today = datetime.now(timezone.utc).date()
    with engine.begin() as conn:
        set_allowed_orgs(conn, "d1", ids["B north only"], ["sch1"])
        set_allowed_orgs(conn, "d1", ids["C south only"], ["sch2"])
        set_status(conn, "d1", ids["D suspended"], "suspended")
        for name, day in (("E agreement expired", today - timedelta(days=1)), ("F agreement in force", today)):
            conn.execute(apps_table.update().where(apps_table.c.client_id == ids[name])
                         .values(dpa_expires=day.isoformat()))
        set_optout(conn, "d1", "s1", ids["G opted out"], True)
    s1 = ok(me(client, code_for(engine, "d1", "s1"), "apps"))
    assert names(s1) == ["A whole district", "B north only", "F agreement in force"]
    assert s1["optedOut"] == [{"clientId": ids["G opted out"], "name": "G opted out", "vendor": None}]
    [in_force] = [entry for entry in s1["apps"] if entry["name"] == "F agreement in force"]
    assert in_force["dpaExpires"] == today.isoformat() and in_force["pairwise"] is False
    assert set(in_force) == {"clientId", "name", "vendor", "purpose", "dpaExpires", "pairwise", "fields"}
    s5 = ok(me(client, code_for(engine, "d1", "s5"), "apps"))  # a South High student
    assert names(s5) == ["A whole district", "C south only", "F agreement in force", "G opted out"]
    assert s5["optedOut"] == []
    with engine.begin() as conn:
        set_optout(conn, "d1", "s5", None, True)  # directory opt-out: hidden from every app
        set_status(conn, "d1", ids["D suspended"], "active")
    s5 = ok(me(client, code_for(engine, "d1", "s5"), "apps"))
    assert s5["apps"] == [] and names(s5, "optedOut") == ["A whole district", "C south only", "D suspended",
                                                          "F agreement in force", "G opted out"]
    assert "H other district" not in str(s1) + str(s5)


def test_apps_show_the_fields_their_scopes_and_profiles_allow(app, client, apps, engine):
    seed(engine, "d1")
    plain = apps.register(["roster-core.readonly"], district="d1", name="1 plain").client_id
    apps.register(ALL_SCOPES, district="d1", name="2 users only", profile=profile("User"))
    birth_date = ('<Profile name="p"><Resource name="Demographics"><ReadContentType memberSelection="IncludeOnly">'
                  '<Property name="birthDate"/></ReadContentType></Resource><Resource name="User">'
                  '<ReadContentType memberSelection="IncludeAll"/></Resource></Profile>')
    apps.register(ALL_SCOPES, district="d1", name="3 with demographics", profile=birth_date)
    code = code_for(engine, "d1", "s1")
    fields = {entry["name"]: entry["fields"] for entry in ok(me(client, code, "apps"))["apps"]}
    assert set(fields["1 plain"]) == {"User", "Enrollment"}  # no demographics scope
    assert "roles.role" in fields["1 plain"]["User"] and "roles" not in fields["1 plain"]["User"]
    assert "birthDate" not in str(fields["1 plain"]) and "phone" not in fields["1 plain"]["User"]
    assert set(fields["2 users only"]) == {"User"} and "phone" in fields["2 users only"]["User"]
    assert set(fields["3 with demographics"]) == {"Demographics", "User"}
    assert "birthDate" in fields["3 with demographics"]["Demographics"]
    assert "password" not in str(fields)  # tier 3 is never readable
    with engine.begin() as conn:
        set_profile(conn, "d1", plain, profile("Enrollment"), None)
    fields = {entry["name"]: entry["fields"] for entry in ok(me(client, code, "apps"))["apps"]}
    assert set(fields["1 plain"]) == {"Enrollment"}


def test_only_get_is_served(client, world):
    response = client.post(f"{ME}/disclosures", headers={"Authorization": f"AccessCode {world['s1']}"})
    assert response.status_code == 405 and response.get_json()["status"] == 405


def test_the_openapi_document_describes_both_endpoints(client):
    response = client.get("/privacy/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.0")
    assert set(document["paths"]) == {"/privacy/v1/me/disclosures", "/privacy/v1/me/apps"}
    operation = document["paths"]["/privacy/v1/me/disclosures"]["get"]
    assert {param["name"] for param in operation["parameters"]} == {"since", "until", "limit", "after"}
    assert set(operation["responses"]) == {"200", "400", "401"}
    assert set(document["components"]["securitySchemes"]) == {"AccessCode", "BearerCode"}

    def refs(node):
        if isinstance(node, dict):
            yield from ([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


def test_a_pairwise_app_is_shown_without_the_join_keys_it_never_receives(app, client, apps, engine):
    from gateway.auth.registry import update_app

    seed(engine, "d1")
    plain = apps.register(ALL_SCOPES, district="d1", name="A plain").client_id
    paired = apps.register(ALL_SCOPES, district="d1", name="B pairwise").client_id
    with engine.begin() as conn:
        update_app(conn, "d1", paired, pairwise=True)
    listed = {entry["name"]: entry for entry in ok(me(client, code_for(engine, "d1", "s1"), "apps"))["apps"]}
    assert {"username", "email"} <= set(listed["A plain"]["fields"]["User"])
    assert listed["B pairwise"]["pairwise"] is True
    assert not {"username", "email", "identifier"} & set(listed["B pairwise"]["fields"]["User"])
    assert plain != paired
