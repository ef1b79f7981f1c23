"""Every OneRoster 1.2 rostering endpoint against the seeded district, on SQLite and PostgreSQL."""

import pytest
from helpers import V12

from standards.endpoints import load_endpoints

PARAMS = {"sourcedId": None, "classSourcedId": "cls1", "courseSourcedId": "c-math", "schoolSourcedId": "sch1",
          "studentSourcedId": "s1", "teacherSourcedId": "t-a", "termSourcedId": "t1", "userSourcedId": "s1"}
SINGLE_IDS = {"academicSessions": "sy", "classes": "cls1", "courses": "c-math", "demographics": "s1",
              "enrollments": "e1", "gradingPeriods": "gp1", "orgs": "dist", "schools": "sch1", "students": "s1",
              "teachers": "t-a", "terms": "t1", "users": "s1"}
# The ids each endpoint must return for the seeded district.
EXPECTED = {
    "/academicSessions": {"sy", "t1", "t2", "gp1", "gp2"},
    "/classes": {"cls1", "cls2", "cls3"},
    "/courses": {"c-math", "c-eng"},
    "/demographics": {"s1", "s2"},
    "/enrollments": {f"e{i}" for i in range(1, 10)},
    "/gradingPeriods": {"gp1", "gp2"},
    "/orgs": {"dist", "sch1", "sch2"},
    "/schools": {"sch1", "sch2"},
    "/students": {"s1", "s2", "s3", "s4", "s5", "s6"},
    "/teachers": {"t-a", "t-b"},
    "/terms": {"t1", "t2"},
    "/users": {"s1", "s2", "s3", "s4", "s5", "s6", "t-a", "t-b"},
    "/classes/{classSourcedId}/students": {"s1", "s2"},
    "/classes/{classSourcedId}/teachers": {"t-a"},
    "/courses/{courseSourcedId}/classes": {"cls1", "cls2"},
    "/schools/{schoolSourcedId}/classes": {"cls1", "cls2"},
    "/schools/{schoolSourcedId}/classes/{classSourcedId}/enrollments": {"e1", "e2", "e7"},
    "/schools/{schoolSourcedId}/classes/{classSourcedId}/students": {"s1", "s2"},
    "/schools/{schoolSourcedId}/classes/{classSourcedId}/teachers": {"t-a"},
    "/schools/{schoolSourcedId}/courses": {"c-math"},
    "/schools/{schoolSourcedId}/enrollments": {"e1", "e2", "e3", "e4", "e7", "e8"},
    "/schools/{schoolSourcedId}/students": {"s1", "s2", "s3", "s4"},
    "/schools/{schoolSourcedId}/teachers": {"t-a"},
    "/schools/{schoolSourcedId}/terms": {"t1", "t2"},
    "/students/{studentSourcedId}/classes": {"cls1", "cls2"},
    "/teachers/{teacherSourcedId}/classes": {"cls1", "cls2"},
    "/terms/{termSourcedId}/classes": {"cls1", "cls2"},
    "/terms/{termSourcedId}/gradingPeriods": {"gp1", "gp2"},
    "/users/{userSourcedId}/classes": {"cls1", "cls2"},
}
ROSTERING = [e for e in load_endpoints().endpoints if e.service == "rostering"]


def test_all_41_rostering_endpoints_are_defined():
    assert len(ROSTERING) == 41
    assert {e.path for e in ROSTERING if not e.single} == set(EXPECTED)


def _url(endpoint):
    path = endpoint.path
    for name, value in PARAMS.items():
        if value:
            path = path.replace("{" + name + "}", value)
    if endpoint.single:
        path = path.replace("{sourcedId}", SINGLE_IDS[endpoint.path.split("/")[1]])
    return V12 + path


@pytest.mark.parametrize("endpoint", [e for e in ROSTERING if not e.single], ids=lambda e: e.op)
def test_collection_endpoint_returns_its_records(get, endpoint):
    response = get(_url(endpoint))
    assert response.status_code == 200, response.get_data(as_text=True)
    key = endpoint.collection.plural
    body = response.get_json()
    assert list(body) == [key]
    assert {r["sourcedId"] for r in body[key]} == EXPECTED[endpoint.path]
    assert response.headers["X-Total-Count"] == str(len(EXPECTED[endpoint.path]))


@pytest.mark.parametrize("endpoint", [e for e in ROSTERING if e.single], ids=lambda e: e.op)
def test_single_endpoint_returns_its_record_in_the_singular_envelope(get, endpoint):
    response = get(_url(endpoint))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert list(body) == [endpoint.collection.singular]
    assert body[endpoint.collection.singular]["sourcedId"] == SINGLE_IDS[endpoint.path.split("/")[1]]
    unknown = get(_url(endpoint).rsplit("/", 1)[0] + "/no-such-id")
    assert unknown.status_code == 404
    assert unknown.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unknownobject"


def test_subtype_single_endpoint_refuses_a_record_of_another_subtype(get):
    assert get("schools/dist").status_code == 404      # the district is an org, not a school
    assert get("students/t-a").status_code == 404      # a teacher is not a student
    assert get("terms/gp1").status_code == 404


def test_guidrefs_carry_absolute_hrefs(get):
    user = get("users/s1").get_json()["user"]
    assert user["roles"][0]["org"] == {"href": f"http://localhost{V12}/orgs/sch1", "sourcedId": "sch1", "type": "org"}
    enrollment = get("enrollments/e1").get_json()["enrollment"]
    assert enrollment["class"]["href"] == f"http://localhost{V12}/classes/cls1"


def test_unknown_parent_of_a_rostering_relationship_is_an_empty_collection(get):
    response = get("schools/nowhere/classes")
    assert response.status_code == 200
    assert response.get_json() == {"classes": []}
    assert response.headers["X-Total-Count"] == "0"


def test_records_of_another_district_are_invisible(app, engine, client, apps):
    from factories import seed
    from factories import user

    seed(engine, tenant="d2", data={"user": [user("x9", "Other", "Person", "student", ["sch9"])]})
    seed(engine, tenant="d1")
    headers = apps.headers(district="d1")
    body = client.get(f"{V12}/users", headers=headers).get_json()
    assert "x9" not in {u["sourcedId"] for u in body["users"]}
    assert client.get(f"{V12}/users/x9", headers=headers).status_code == 404


def test_password_never_leaves_the_gateway(app, engine, client, apps):
    from factories import seed
    from factories import user

    seed(engine, data={"user": [user("p1", "Pat", "Word", "student", ["sch1"], extra={"password": "hunter2"})]})
    response = client.get(f"{V12}/users/p1", headers=apps.headers())
    assert response.status_code == 200
    assert "password" not in response.get_json()["user"]
    assert b"hunter2" not in response.data
    assert client.get(f"{V12}/users?fields=password", headers=apps.headers()).status_code == 400
    assert client.get(f"{V12}/users?filter=password%3D%27hunter2%27", headers=apps.headers()).status_code == 400
