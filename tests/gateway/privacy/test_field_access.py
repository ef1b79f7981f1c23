"""Field-level access through the API: default deny, profiles, no oracle for hidden fields."""

from urllib.parse import quote

import pytest
from factories import seed
from factories import user
from helpers import V11
from helpers import V12
from helpers import profile

CANARY_PHONE = "555-0199-CANARY"


@pytest.fixture
def district(engine):
    seed(engine)
    seed(engine, data={"user": [user("s1", "Ann", "Lee", "student", ["sch1", "sch2"], grades=["09"],
                                     extra={"phone": CANARY_PHONE, "userIds": [{"type": "SIS", "identifier": "77"}]})]})


def test_an_app_without_a_profile_gets_tier_0_fields_only(client, apps, district):
    headers = apps.headers()
    response = client.get(f"{V12}/users/s1", headers=headers)
    body = response.get_json()["user"]
    assert {"givenName", "familyName", "roles", "email"} <= set(body)
    assert "phone" not in body and "userIds" not in body
    assert CANARY_PHONE.encode() not in response.data
    demographics = client.get(f"{V12}/demographics/s1", headers=headers).get_json()["demographics"]
    assert set(demographics) == {"sourcedId", "status", "dateLastModified"}


def test_tier_2_fields_only_when_the_profile_names_them(client, apps, district):
    include_all = apps.headers(profile=profile("Demographics", "User"))
    assert "birthDate" not in client.get(f"{V12}/demographics/s1", headers=include_all).get_json()["demographics"]
    named = apps.headers(profile='<Profile name="p"><Resource name="Demographics"><ReadContentType '
                                 'memberSelection="IncludeOnly"><Property name="birthDate"/></ReadContentType>'
                                 '</Resource></Profile>')
    body = client.get(f"{V12}/demographics/s1", headers=named).get_json()["demographics"]
    assert body == {"sourcedId": "s1", "status": "active", "dateLastModified": body["dateLastModified"],
                    "birthDate": "2011-03-04"}


def test_include_all_grants_tier_1_fields(client, apps, district):
    body = client.get(f"{V12}/users/s1", headers=apps.headers(profile=profile("User"))).get_json()["user"]
    assert body["phone"] == CANARY_PHONE
    assert body["userIds"] == [{"type": "SIS", "identifier": "77"}]


def test_a_resource_outside_the_profile_is_refused(client, apps, district):
    headers = apps.headers(profile=profile("Org"))
    response = client.get(f"{V12}/users", headers=headers)
    assert response.status_code == 403
    assert client.get(f"{V12}/orgs", headers=headers).status_code == 200


@pytest.mark.parametrize("query, code", [
    ("fields=phone", "invalid_selection_field"),
    ("filter=" + quote(f"phone='{CANARY_PHONE}'"), "invalid_filter_field"),
    ("filter=" + quote("phone~'555'"), "invalid_filter_field"),
    ("sort=phone", "invalid_sort_field"),
    ("filter=" + quote("userIds.identifier='77'"), "invalid_filter_field"),
])
def test_hidden_fields_answer_exactly_like_unknown_ones(client, apps, district, query, code):
    headers = apps.headers()
    hidden = client.get(f"{V12}/users?{query}", headers=headers)
    unknown = client.get(f"{V12}/users?{query.replace('phone', 'nosuchfield').replace('userIds', 'nosuch')}",
                         headers=headers)
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.get_json()["imsx_CodeMinor"] == unknown.get_json()["imsx_CodeMinor"]
    assert hidden.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == code
    assert CANARY_PHONE.encode() not in hidden.data


def test_include_only_profile_limits_nested_objects_and_filters_collections(client, apps, district):
    xml = ('<Profile name="p"><Resource name="User"><ReadContentType memberSelection="IncludeOnly">'
           '<Property name="givenName"/>'
           '<Collection name="roles" memberSelection="IncludeOnly"><Property name="role"/><Property name="org"/>'
           '<Filter propertyName="roleType" filterMode="IncludeOnly"><Value>primary</Value></Filter></Collection>'
           '</ReadContentType></Resource></Profile>')
    body = client.get(f"{V12}/users/s1", headers=apps.headers(profile=xml)).get_json()["user"]
    assert set(body) == {"sourcedId", "status", "dateLastModified", "givenName", "roles"}
    assert [set(role) for role in body["roles"]] == [{"role", "org"}]  # the secondary role is filtered out
    assert body["roles"][0]["org"]["sourcedId"] == "sch1"


def test_profile_applies_to_1p1_responses_too(client, apps, district):
    scopes = ["https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"]
    body = client.get(f"{V11}/users/s1", headers=apps.headers(scopes=scopes)).get_json()["user"]
    assert "phone" not in body and body["givenName"] == "Ann"


def test_profile_upload_errors_name_the_line(app, apps, tmp_path):
    creds = apps.register(["roster-core.readonly"])
    bad = tmp_path / "bad.xml"
    bad.write_text('<Profile name="p">\n<Resource name="User">\n<ReadContentType memberSelection="IncludeOnly">\n'
                   '<Property name="pasword"/>\n</ReadContentType>\n</Resource>\n</Profile>\n')
    result = app.test_cli_runner().invoke(args=["apps", "set-profile", "--district", "d1", creds.client_id, str(bad)])
    assert result.exit_code != 0
    assert "bad.xml:4" in result.output
    prohibited = tmp_path / "prohibited.xml"
    prohibited.write_text(bad.read_text().replace("pasword", "password"))
    result = app.test_cli_runner().invoke(
        args=["apps", "set-profile", "--district", "d1", creds.client_id, str(prohibited)])
    assert result.exit_code != 0 and "prohibited" in result.output


def test_profile_change_applies_on_the_next_request(app, client, apps, district):
    creds = apps.register(["roster-core.readonly"])
    from helpers import basic

    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(creds.client_id, creds.client_secret)).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert "phone" not in client.get(f"{V12}/users/s1", headers=headers).get_json()["user"]
    path = app.instance_path + "/p.xml"
    with open(path, "w") as handle:
        handle.write(profile("User"))
    result = app.test_cli_runner().invoke(args=["apps", "set-profile", "--district", "d1", creds.client_id, path])
    assert result.exit_code == 0, result.output
    assert client.get(f"{V12}/users/s1", headers=headers).get_json()["user"]["phone"] == CANARY_PHONE
