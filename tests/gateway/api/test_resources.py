"""The OneRoster 1.2 resources service and its relationship endpoints."""

import pytest
from factories import ref
from factories import seed
from helpers import profile

R = "/ims/oneroster/resources/v1p2"


@pytest.fixture
def with_resources(engine, seeded):
    seed(engine, data={
        "resource": [{"sourcedId": "r1", "vendorResourceId": "v-1", "title": "Algebra book"},
                     {"sourcedId": "r2", "vendorResourceId": "v-2", "title": "Reader"}],
        "class": [{"sourcedId": "cls1", "title": "Algebra A", "classType": "scheduled",
                   "course": ref("course", "c-math"), "school": ref("org", "sch1"),
                   "terms": [ref("academicSession", "t1")], "grades": ["09"], "resources": [ref("resource", "r1")]}],
        "course": [{"sourcedId": "c-eng", "title": "English", "courseCode": "C-ENG", "org": ref("org", "sch2"),
                    "resources": [ref("resource", "r2")]}],
    })


def test_resources_collection_and_single(client, apps, with_resources):
    headers = apps.headers(scopes=["resource-core.readonly"], profile=profile("Resource"))
    body = client.get(f"{R}/resources", headers=headers).get_json()
    assert [r["sourcedId"] for r in body["resources"]] == ["r1", "r2"]
    assert client.get(f"{R}/resources/r2", headers=headers).get_json()["resource"]["title"] == "Reader"


def test_resources_for_class_and_course(client, apps, with_resources):
    headers = apps.headers(scopes=["resource.readonly"])
    body = client.get(f"{R}/classes/cls1/resources", headers=headers).get_json()
    assert [r["sourcedId"] for r in body["resources"]] == ["r1"]
    body = client.get(f"{R}/courses/c-eng/resources", headers=headers).get_json()
    assert [r["sourcedId"] for r in body["resources"]] == ["r2"]


def test_resources_sub_collection_of_unknown_parent_is_404(client, apps, with_resources):
    headers = apps.headers(scopes=["resource.readonly"])
    response = client.get(f"{R}/classes/nope/resources", headers=headers)
    assert response.status_code == 404


def test_core_resource_scope_does_not_open_sub_collections(client, apps, with_resources):
    headers = apps.headers(scopes=["resource-core.readonly"])
    assert client.get(f"{R}/classes/cls1/resources", headers=headers).status_code == 403


def test_resources_for_user(client, apps, with_resources):
    from factories import user

    seed_user = user("s3", "Cara", "Diaz", "student", ["sch1"], extra={"resources": [ref("resource", "r2")]})
    seed(client.application.extensions["trellis.engine"], data={"user": [seed_user]})
    headers = apps.headers()
    body = client.get(f"{R}/users/s3/resources", headers=headers).get_json()
    assert [r["sourcedId"] for r in body["resources"]] == ["r2"]
    assert client.get(f"{R}/users/s1/resources", headers=headers).get_json() == {"resources": []}
    assert client.get(f"{R}/users/nobody/resources", headers=headers).status_code == 404
