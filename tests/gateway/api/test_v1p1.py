"""OneRoster 1.1 under /ims/oneroster/v1p1, projected from the stored 1.2 records."""

import pytest
from helpers import V11

SCOPES = ["https://purl.imsglobal.org/spec/or/v1p1/scope/" + name
          for name in ("roster.readonly", "roster-core.readonly", "roster-demographics.readonly", "resource.readonly")]


@pytest.fixture
def get11(client, apps, seeded):
    headers = apps.headers(scopes=SCOPES)
    return lambda path: client.get(f"{V11}/{path}", headers=headers)


def test_user_has_1p1_role_and_orgs_instead_of_roles(get11):
    user = get11("users/t-a").get_json()["user"]
    assert user["role"] == "teacher"
    assert user["orgs"] == [{"href": f"http://localhost{V11}/orgs/sch1", "sourcedId": "sch1", "type": "org"}]
    assert "roles" not in user and "primaryOrg" not in user


def test_1p1_booleans_are_json_booleans(get11):
    assert get11("users/s1").get_json()["user"]["enabledUser"] is True
    assert get11("enrollments/e7").get_json()["enrollment"]["primary"] is True


def test_1p1_filter_on_role_and_orgs_maps_to_the_stored_roles(get11):
    response = get11("users?filter=role%3D%27teacher%27")
    assert [u["sourcedId"] for u in response.get_json()["users"]] == ["t-a", "t-b"]
    response = get11("users?filter=orgs.sourcedId%3D%27sch2%27%20AND%20role%3D%27student%27")
    assert [u["sourcedId"] for u in response.get_json()["users"]] == ["s5", "s6"]


def test_1p1_allows_at_most_two_predicates(get11):
    response = get11("users?filter=givenName%3D%27a%27%20AND%20givenName%3D%27b%27%20AND%20givenName%3D%27c%27")
    assert response.status_code == 400
    assert "statusInfoSet" in response.get_json()


def test_1p1_relationship_endpoint_and_fields(get11):
    response = get11("classes/cls1/students?fields=sourcedId,role")
    assert response.get_json() == {"users": [{"sourcedId": "s1", "role": "student"},
                                             {"sourcedId": "s2", "role": "student"}]}


def test_1p1_unknown_object_uses_status_info_set(get11):
    response = get11("users/nobody")
    assert response.status_code == 404
    info = response.get_json()["statusInfoSet"][0]
    assert info["imsx_codeMajor"] == "failure"
    assert info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unknownobject"
    assert info["imsx_messageRefIdentifier"]


def test_1p1_fields_outside_the_1p1_model_are_refused(get11):
    assert get11("users?fields=pronouns").status_code == 400
