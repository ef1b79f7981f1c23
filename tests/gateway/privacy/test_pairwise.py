"""Pairwise user ids: an app with the option sees users only under ids of its own, and can use them back."""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace

import orjson
import pytest
from sqlalchemy import func
from sqlalchemy import select

import factories
from gateway.api.render import Shaper
from gateway.auth.registry import create_app_credentials
from gateway.auth.registry import ensure_district
from gateway.auth.registry import set_profile
from gateway.auth.registry import update_app
from gateway.privacy import disclosures
from gateway.privacy import pairwise
from gateway.privacy.pairwise import PairwiseIds
from gateway.privacy.pairwise import pairwise_id
from gateway.privacy.pairwise import user_paths
from gateway.storage.records import content_of
from gateway.storage.tables import pairwise_ids
from helpers import V11
from helpers import V12
from helpers import basic
from standards import load_model

V1P1 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
SHORT = ["roster.readonly", "roster-core.readonly", "roster-demographics.readonly", "resource.readonly"]
SCOPES = SHORT + [V1P1 + name for name in ("roster.readonly", "roster-core.readonly", "roster-demographics.readonly",
                                            "resource.readonly")]
JOIN_KEYS = ("username", "email", "identifier", "userIds", "userMasterIdentifier", "sms", "phone", "userProfiles")
FULL_VIEW = ('<Profiles><Profile name="full">'
             '<Resource name="User"><ReadContentType memberSelection="IncludeAll"/></Resource>'
             '<Resource name="Enrollment"><ReadContentType memberSelection="IncludeAll"/></Resource>'
             '<Resource name="Class"><ReadContentType memberSelection="IncludeAll"/></Resource>'
             '<Resource name="Demographics"><ReadContentType memberSelection="IncludeOnly">'
             '<Property name="birthDate"/></ReadContentType></Resource>'
             '</Profile></Profiles>')
NAMED = ('<Profiles><Profile name="named"><Resource name="User"><ReadContentType memberSelection="IncludeOnly">'
         '<Property name="givenName"/><Property name="username"/>'
         '<Collection name="userIds" memberSelection="IncludeAll"/>'
         '</ReadContentType></Resource></Profile></Profiles>')


def _district() -> dict:
    data = copy.deepcopy(factories.DISTRICT)
    users = data["user"]
    users.append(factories.user("g1", "Gail", "Lee", "guardian", ["sch1"]))
    users[0].update({"agents": [factories.ref("user", "g1")], "identifier": "ID-S1", "userMasterIdentifier": "M-S1",
                     "userIds": [{"type": "state", "identifier": "ST-1"}], "sms": "555-0100"})
    return data


REAL_USERS = {doc["sourcedId"] for doc in _district()["user"]}


@pytest.fixture
def seeded(engine):
    factories.seed(engine, data=_district())
    return engine


def register(app, client, pairwise=True, profile=None):
    """A registered app of district d1: (request headers, client id)."""
    with app.extensions["trellis.engine"].begin() as conn:
        ensure_district(conn, "d1")
        creds = create_app_credentials(conn, "d1", "vendor", SCOPES, pairwise=pairwise)
        if profile is not None:
            set_profile(conn, "d1", creds.client_id, profile, None)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(creds.client_id, creds.client_secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}, creds.client_id


def get(client, headers, url, status=200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def leaks(body) -> list[str]:
    """Every string in a response that is, or links to, a real user sourcedId."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and (value in REAL_USERS or value.rsplit("/", 1)[-1] in REAL_USERS):
            found.append(value)

    walk(body)
    return found


def ids_by_name(client, headers) -> dict[str, str]:
    return {u["givenName"]: u["sourcedId"] for u in get(client, headers, V12 + "/users")["users"]}


# --- the id itself ------------------------------------------------------------------------------------------------

def test_pairwise_id_is_a_stable_keyed_hash():
    key_a, key_b = "11" * 32, "22" * 32
    first = pairwise_id(key_a, "d1", "s1")
    assert re.fullmatch(r"[0-9a-f]{32}", first)  # 128 bits
    assert first == pairwise_id(key_a, "d1", "s1") == PairwiseIds(key_a, "d1", "c")("s1")
    assert len({first, pairwise_id(key_b, "d1", "s1"), pairwise_id(key_a, "d2", "s1"),
                pairwise_id(key_a, "d1", "s2")}) == 4


def test_user_paths_come_from_the_model():
    model = load_model("oneroster", "1.2")
    assert user_paths(model, "User")[0] == {("sourcedId",), ("agents", "sourcedId")}
    assert user_paths(model, "Demographics")[0] == {("sourcedId",)}
    assert user_paths(model, "Enrollment") == ({("user", "sourcedId")}, {("user",)})
    assert ("student", "sourcedId") in user_paths(model, "Result")[0]
    assert user_paths(model, "Class") == (frozenset(), frozenset())


def test_shaper_maps_a_results_student_and_records_the_pair():
    model = load_model("oneroster", "1.2")
    ids = PairwiseIds("33" * 32, "d1", "c")
    stored = {"sourcedId": "r1", "status": "active", "dateLastModified": "2027-01-01T00:00:00.000Z",
              "student": {"sourcedId": "s1", "type": "user"}, "lineItem": {"sourcedId": "li", "type": "lineItem"},
              "scoreStatus": "fully graded"}

    row = SimpleNamespace(sourced_id="r1", status="active", date_last_modified="2027-01-01T00:00:00.000Z",
                          doc=orjson.dumps(content_of(stored)))
    seen = []
    tree = {name: None for name in model.classes["Result"].fields}
    sent = Shaper(model, "Result", tree, None, {"user": "/users/", "lineItem": "/lineItems/"},
                  observe=lambda s, d: seen.append(s), ids=ids).record(row)
    pid = ids("s1")
    assert sent["student"] == {"href": "/users/" + pid, "sourcedId": pid, "type": "user"}
    assert sent["lineItem"]["sourcedId"] == "li" and sent["sourcedId"] == "r1"
    assert seen[0]["student"]["sourcedId"] == "s1"  # the disclosure log sees the stored record


# --- going out ----------------------------------------------------------------------------------------------------

USER_URLS = ["/users", "/students", "/teachers", "/enrollments", "/demographics", "/classes/cls1/students",
             "/classes/cls1/teachers", "/schools/sch1/enrollments", "/schools/sch1/students",
             "/schools/sch1/classes/cls1/enrollments"]


@pytest.mark.parametrize("profile", [None, FULL_VIEW])
def test_no_real_user_id_leaves_in_any_response(app, client, seeded, profile):
    headers, _ = register(app, client, profile=profile)
    bodies = [get(client, headers, base + url) for base in (V12, V11) for url in USER_URLS]
    assert all(body[next(iter(body))] for body in bodies)  # every response carries records
    pids = ids_by_name(client, headers)
    for base in (V12, V11):
        bodies.append(get(client, headers, f"{base}/users/{pids['Ann']}"))
        bodies.append(get(client, headers, f"{base}/demographics/{pids['Ann']}"))
        bodies.append(get(client, headers, f"{base}/enrollments/e1"))
    assert [leak for body in bodies for leak in leaks(body)] == []
    if profile:  # agents (tier 1) are readable: the guardian is referenced by its pairwise id, href included
        ann = get(client, headers, f"{V12}/users/{pids['Ann']}")["user"]
        assert ann["agents"][0]["sourcedId"] == pids["Gail"]
        assert ann["agents"][0]["href"].endswith("/users/" + pids["Gail"])
        assert get(client, headers, f"{V11}/users/{pids['Ann']}")["user"]["agents"][0]["sourcedId"] == pids["Gail"]


def test_references_and_records_of_one_user_share_one_id(app, client, seeded):
    headers, _ = register(app, client)
    pids = ids_by_name(client, headers)
    enrollment = get(client, headers, V12 + "/enrollments/e1")["enrollment"]
    assert enrollment["user"]["sourcedId"] == pids["Ann"]
    assert enrollment["user"]["href"].endswith("/users/" + pids["Ann"])
    assert {d["sourcedId"] for d in get(client, headers, V12 + "/demographics")["demographics"]} == {
        pids["Ann"], pids["Bob"]}


def test_ids_are_stable_per_app_and_differ_between_apps(app, client, seeded):
    first, _ = register(app, client)
    second, _ = register(app, client)
    ids = ids_by_name(client, first)
    assert ids == ids_by_name(client, first)
    assert ids_by_name(client, second).keys() == ids.keys()
    assert not set(ids_by_name(client, second).values()) & set(ids.values())


def test_apps_without_the_option_see_real_ids(app, client, seeded):
    headers, _ = register(app, client, pairwise=False)
    users = get(client, headers, V12 + "/users")["users"]
    assert {u["sourcedId"] for u in users} == REAL_USERS
    assert users[0]["username"] and users[0]["email"]
    assert get(client, headers, V12 + "/users/s1")["user"]["identifier"] == "ID-S1"
    assert get(client, headers, V12 + "/enrollments/e1")["enrollment"]["user"]["sourcedId"] == "s1"


def test_join_keys_are_withheld_unless_the_profile_names_them(app, client, seeded):
    for profile in (None, FULL_VIEW):
        headers, _ = register(app, client, profile=profile)
        for base in (V12, V11):
            for user in get(client, headers, base + "/users")["users"]:
                assert not set(JOIN_KEYS) & user.keys(), user
        for name in ("username", "email", "identifier", "userIds"):
            get(client, headers, f"{V12}/users?fields=givenName,{name}", 400)
            get(client, headers, f"{V12}/users?filter={name}='x'", 400)
        get(client, headers, V12 + "/users?sort=email", 400)
        get(client, headers, V12 + "/users?filter=userIds.identifier='ST-1'", 400)
    headers, _ = register(app, client, profile=NAMED)
    get(client, headers, V12 + "/users?fields=givenName,username,userIds,email", 400)  # email is not named
    ann = get(client, headers, V12 + "/users?filter=givenName='Ann'")["users"][0]
    assert ann["username"] == "ann.lee" and ann["userIds"] == [{"type": "state", "identifier": "ST-1"}]
    assert "email" not in ann and "identifier" not in ann
    assert get(client, headers, V12 + "/users?filter=username='ann.lee'")["users"][0]["givenName"] == "Ann"


# --- coming back --------------------------------------------------------------------------------------------------

def test_ids_sent_resolve_in_paths_and_real_ids_do_not(app, client, seeded):
    headers, _ = register(app, client)
    pids = ids_by_name(client, headers)
    for base in (V12, V11):
        assert get(client, headers, f"{base}/users/{pids['Ann']}")["user"]["givenName"] == "Ann"
        assert get(client, headers, f"{base}/students/{pids['Ann']}")["user"]["sourcedId"] == pids["Ann"]
        assert get(client, headers, f"{base}/teachers/{pids['Tia']}")["user"]["familyName"] == "Adams"
        assert get(client, headers, f"{base}/demographics/{pids['Ann']}")["demographics"]["sourcedId"] == pids["Ann"]
        for url in ("/users/s1", "/students/s1", "/demographics/s1", "/users/" + "a" * 32):
            get(client, headers, base + url, 404)
        classes = get(client, headers, f"{base}/students/{pids['Ann']}/classes")["classes"]
        assert {c["sourcedId"] for c in classes} == {"cls1", "cls2"}
        assert get(client, headers, f"{base}/teachers/{pids['Tia']}/classes")["classes"]
        assert len(get(client, headers, f"{base}/users/{pids['Ann']}/classes")["classes"]) == 2
        assert get(client, headers, f"{base}/students/s1/classes")["classes"] == []
        assert get(client, headers, f"{base}/users/s1/classes")["classes"] == []
    get(client, headers, f"{V12}/teachers/{pids['Ann']}", 404)  # Ann is no teacher
    get(client, headers, "/ims/oneroster/resources/v1p2/users/s1/resources", 404)  # an unknown parent there
    assert get(client, headers, f"/ims/oneroster/resources/v1p2/users/{pids['Ann']}/resources")["resources"] == []


def test_an_id_never_sent_does_not_resolve(app, client, seeded):
    headers, client_id = register(app, client)
    pids = ids_by_name(client, headers)
    # An id of the app's own scheme resolves once it was sent; a guessed or forged row does not help.
    with app.extensions["trellis.engine"].begin() as conn:
        conn.execute(pairwise_ids.insert().values(tenant="d1", client_id=client_id, pairwise_id="forged",
                                                  sourced_id="s1"))
    get(client, headers, V12 + "/users/forged", 404)
    assert get(client, headers, V12 + "/users/" + pids["Ann"])["user"]["givenName"] == "Ann"


def test_filters_take_pairwise_ids(app, client, seeded):
    headers, _ = register(app, client)
    pids = ids_by_name(client, headers)
    for base in (V12, V11):
        users = get(client, headers, f"{base}/users?filter=sourcedId='{pids['Bob']}'")["users"]
        assert [u["sourcedId"] for u in users] == [pids["Bob"]]
        assert get(client, headers, f"{base}/users?filter=sourcedId='s2'")["users"] == []
        enrollments = get(client, headers, f"{base}/enrollments?filter=user.sourcedId='{pids['Ann']}'")
        assert {e["sourcedId"] for e in enrollments["enrollments"]} == {"e1", "e4"}
        assert get(client, headers, f"{base}/enrollments?filter=user.sourcedId='s1'")["enrollments"] == []
        others = get(client, headers, f"{base}/enrollments?filter=user.sourcedId!='{pids['Ann']}'")["enrollments"]
        assert len(others) == 7
        unknown = get(client, headers, f"{base}/enrollments?filter=user.sourcedId!='s1'")["enrollments"]
        assert len(unknown) == 9  # a real id is no id of this app's: every enrollment differs from it
    either = f"sourcedId='{pids['Ann']}' OR sourcedId='{pids['Tia']}'"
    assert {u["givenName"] for u in get(client, headers, f"{V12}/users?filter={either}")["users"]} == {"Ann", "Tia"}
    demographics = get(client, headers, f"{V12}/demographics?filter=sourcedId='{pids['Bob']}'")["demographics"]
    assert [d["sourcedId"] for d in demographics] == [pids["Bob"]]


def test_filters_cannot_probe_real_ids(app, client, seeded):
    headers, _ = register(app, client, profile=FULL_VIEW)
    for url in ("/users?filter=sourcedId~'s'", "/users?filter=sourcedId>'a'", "/enrollments?filter=user~'s1'",
                "/enrollments?filter=user.sourcedId<='z'", "/users?filter=agents~'g1'",
                "/users?filter=agents.sourcedId~'g'"):
        body = get(client, headers, V12 + url, 400)
        assert "s1" not in str(body)


def test_streamed_responses_store_their_ids(app, client, seeded, monkeypatch):
    app.config["TRELLIS_STREAM_THRESHOLD"] = 2
    monkeypatch.setattr(pairwise, "FLUSH_ROWS", 3)  # several batches, each stored before it is sent
    headers, client_id = register(app, client)
    body = get(client, headers, V12 + "/users?limit=50")
    assert len(body["users"]) == len(REAL_USERS) and leaks(body) == []
    with app.extensions["trellis.engine"].connect() as conn:
        stored = conn.execute(select(func.count()).select_from(pairwise_ids).where(
            pairwise_ids.c.client_id == client_id)).scalar_one()
    assert stored == len(REAL_USERS)
    assert get(client, headers, V12 + "/users/" + body["users"][-1]["sourcedId"])["user"]


def test_turning_the_option_off_and_on_gives_new_ids(app, client, seeded):
    headers, client_id = register(app, client)
    old = ids_by_name(client, headers)
    with app.extensions["trellis.engine"].begin() as conn:
        update_app(conn, "d1", client_id, pairwise=False)
        update_app(conn, "d1", client_id, pairwise=True)
    new = ids_by_name(client, headers)
    assert not set(old.values()) & set(new.values())
    get(client, headers, V12 + "/users/" + old["Ann"], 404)
    assert get(client, headers, V12 + "/users/" + new["Ann"])["user"]["givenName"] == "Ann"


def test_the_disclosure_log_keeps_real_ids(app, client, seeded):
    headers, client_id = register(app, client)
    pids = ids_by_name(client, headers)
    get(client, headers, f"{V12}/users/{pids['Ann']}")
    get(client, headers, f"{V12}/enrollments?filter=user.sourcedId='{pids['Bob']}'")
    entries = disclosures.query(app.extensions["trellis.engine"], "d1", client_id=client_id)
    assert entries
    logged = {sid for entry in entries for sid in entry["record_ids"] + entry["student_ids"]}
    assert {"s1", "s2", "e2"} <= logged
    assert not logged & set(pids.values())
