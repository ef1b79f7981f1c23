"""Property: whatever an app asks, it gets only its profile's fields, its orgs' records, and never a tier-3 value.

A seeded district carries canary values: tier-3 secrets (a password, a credential password, an SSN-like string in
metadata) that must never leave the gateway, and tier-2 values (pronouns, birth dates) that may only reach an app
whose profile names the field. Hypothesis drives random requests — any endpoint, 1.1 or 1.2, random ids (inside,
outside, opted out, missing), random ``fields=``, ``filter=`` and ``sort=`` naming visible, hidden and tier-3 fields —
for several apps with different profiles, orgs and opt-outs. The oracles (which ids each app may see, which fields
each profile allows) are written out here from the seed, not derived from the gateway's own code.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from factories import DISTRICT
from factories import seed
from factories import user
from helpers import basic
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from gateway.auth import registry
from gateway.auth.scopes import PREFIX_V1P1
from gateway.privacy.optouts import set_optout
from standards.endpoints import load_endpoints

T3 = ("CANARY-T3-PASSWORD-7731", "CANARY-T3-CREDENTIAL-4410", "078-05-1120")
PRONOUNS = "CANARY-T2-PRONOUNS-ze"
BIRTH = "2011-03-04"  # s1's birth date in the seed: tier 2

DEFINITIONS = load_endpoints()
ENDPOINTS = [(version, endpoint) for endpoint in DEFINITIONS.endpoints for version in ("1.2", "1.1")
             if version == "1.2" or endpoint.op11]
IDS = ["s1", "s2", "s3", "s5", "s6", "t-a", "t-b", "cls1", "cls3", "sch1", "sch2", "dist", "e1", "e2", "e5", "e6",
       "c-math", "c-eng", "t1", "sy", "gp1", "nobody"]
FIELDS = ["sourcedId", "givenName", "familyName", "email", "username", "password", "pronouns", "metadata",
          "birthDate", "sex", "roles", "role", "userIds", "phone", "title", "user", "class", "userProfiles"]
SCOPES = ("roster.readonly", "roster-core.readonly", "roster-demographics.readonly", "resource.readonly")
BASE = {"sourcedId", "status", "dateLastModified"}
TIERS = json.loads((Path(__file__).resolve().parents[2] / "standards/oneroster/tiers.json").read_text())

# Record ids each org scope may see, per record type, written from the seed (s2 has a directory opt-out; the
# "sch2" app has s5 opted out). Only the types whose rows are scoped to students and schools are checked.
SCHOOL_1 = {"user": {"s1", "s3", "s4", "t-a"}, "enrollment": {"e1", "e3", "e4", "e7", "e8"},
            "demographics": {"s1"}, "class": {"cls1", "cls2"}}
SCHOOL_2 = {"user": {"s6", "t-b"}, "enrollment": {"e6", "e9"}, "demographics": set(), "class": {"cls3"}}
WHOLE = {"user": {"s1", "s3", "s4", "s5", "s6", "t-a", "t-b"},
         "enrollment": {"e1", "e3", "e4", "e5", "e6", "e7", "e8", "e9"}, "demographics": {"s1"},
         "class": {"cls1", "cls2", "cls3"}}


def tier(cls: str, field: str) -> int:
    """A field's tier by the precedence tiers.json states: class field, field everywhere, class default, default."""
    spec = TIERS["classes"].get(cls, {})
    if field in spec.get("fields", {}):
        return spec["fields"][field]
    if field in TIERS["fields"]:
        return TIERS["fields"][field]
    return spec.get("default", TIERS["default"])


def _profile(body: str) -> str:
    return f'<Profile name="p">{body}</Profile>'


APPS = {
    # name: (profile, allowed orgs, readable top-level fields per class (None: by tier), t2 fields named)
    "default": (None, None, {"*": 0}, set()),
    "named-t2": (_profile('<Resource name="User"><ReadContentType memberSelection="IncludeOnly">'
                          '<Property name="givenName"/><Property name="pronouns"/></ReadContentType></Resource>'
                          '<Resource name="Demographics"><ReadContentType memberSelection="IncludeOnly">'
                          '<Property name="birthDate"/></ReadContentType></Resource>'),
                 ["sch1"], {"User": BASE | {"givenName", "pronouns"}, "Demographics": BASE | {"birthDate"}},
                 {"pronouns", "birthDate"}),
    "school-2": (_profile("".join(f'<Resource name="{name}"><ReadContentType memberSelection="IncludeAll"/>'
                                  '</Resource>' for name in ("User", "Enrollment", "Class"))),
                 ["sch2"], {"User": 1, "Enrollment": 1, "Class": 1}, set()),
    "exclude-email": (_profile('<Resource name="User"><ReadContentType memberSelection="ExcludeOnly">'
                               '<Property name="email"/></ReadContentType></Resource>'),
                      None, {"User": 1}, set()),
}


def allowed_fields(app: str, cls: str) -> set[str] | None:
    """Top-level fields the app may receive for a class; None: the class is outside its profile."""
    spec = APPS[app][2]
    rule = spec.get(cls, spec.get("*"))
    if rule is None:
        return None
    if isinstance(rule, set):
        return rule
    from standards import load_model

    fields = load_model("oneroster", "1.2").classes[cls].fields
    allowed = {name for name in fields if tier(cls, name) <= rule}
    return allowed - {"email"} if app == "exclude-email" else allowed


def scope_ids(app: str) -> dict[str, set[str]]:
    orgs = APPS[app][1]
    return WHOLE if orgs is None else SCHOOL_1 if orgs == ["sch1"] else SCHOOL_2


@pytest.fixture
def world(app, client, engine):
    """The seeded district with canaries, four apps with tokens, and the opt-outs."""
    seed(engine)
    s1 = next(u for u in DISTRICT["user"] if u["sourcedId"] == "s1")
    canary = user("s1", "Ann", "Lee", "student", ["sch1"], grades=["09"], extra={
        "password": T3[0], "pronouns": PRONOUNS, "metadata": {"ssn": T3[2]},
        "userProfiles": [{"profileId": "p1", "profileType": "lms", "vendorId": "v", "credentials": [
            {"type": "password", "username": "ann", "password": T3[1]}]}]})
    assert canary["roles"] == s1["roles"]
    seed(engine, data={"user": [canary]})
    tokens = {}
    with engine.begin() as conn:
        registry.ensure_district(conn, "d1")
        for name, (xml, orgs, _, _) in APPS.items():
            creds = registry.create_app_credentials(conn, "d1", name,
                                                    [*SCOPES, *(PREFIX_V1P1 + scope for scope in SCOPES)])
            if xml:
                registry.set_profile(conn, "d1", creds.client_id, xml, None)
            if orgs:
                registry.set_allowed_orgs(conn, "d1", creds.client_id, orgs)
            tokens[name] = creds
        set_optout(conn, "d1", "s2", None, True)
        set_optout(conn, "d1", "s5", tokens["school-2"].client_id, True)
    headers = {}
    for name, creds in tokens.items():
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(creds.client_id, creds.client_secret))
        headers[name] = {"Authorization": "Bearer " + response.get_json()["access_token"]}
    return headers


def _url(version: str, endpoint, chosen_id: str, params: dict[str, str]) -> str:
    base = DEFINITIONS.v1p1_base if version == "1.1" else DEFINITIONS.services[endpoint.service]["base"]
    path = endpoint.path
    while "{" in path:
        start = path.index("{")
        path = path[:start] + chosen_id + path[path.index("}") + 1:]
    return base + path + ("?" + urlencode(params) if params else "")


def _records(body: dict) -> list[dict]:
    value = next(iter(body.values()))
    return value if isinstance(value, list) else [value]


requests = st.fixed_dictionaries({
    "app": st.sampled_from(sorted(APPS)),
    "endpoint": st.sampled_from(ENDPOINTS),
    "id": st.sampled_from(IDS),
    "fields": st.none() | st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3),
    "filter": st.none() | st.tuples(st.sampled_from(FIELDS), st.sampled_from(["=", "!=", "~"]),
                                    st.sampled_from(["Ann", "s1", T3[2], "2011-03-04", "student"])),
    "sort": st.none() | st.sampled_from(FIELDS),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(request=requests)
def test_every_response_stays_inside_the_apps_profile_orgs_and_opt_outs(client, world, request):
    version, endpoint = request["endpoint"]
    params = {}
    if request["fields"]:
        params["fields"] = ",".join(request["fields"])
    if request["filter"]:
        field, op, value = request["filter"]
        params["filter"] = f"{field}{op}'{value}'"
    if request["sort"]:
        params["sort"] = request["sort"]
    response = client.get(_url(version, endpoint, request["id"], params), headers=world[request["app"]])
    text = response.get_data(as_text=True)
    for secret in T3:
        assert secret not in text
    assert response.status_code in {200, 400, 403, 404}, text
    app, cls, rtype = request["app"], endpoint.collection.cls, endpoint.collection.type
    named = APPS[app][3]
    if "pronouns" not in named:
        assert PRONOUNS not in text
    if response.status_code != 200:
        assert "Ann" not in text  # errors carry no record data
        return
    allowed = allowed_fields(app, cls)
    assert allowed is not None, (app, cls)  # a class outside the profile must have been refused
    if version == "1.1":
        allowed = allowed | {"role", "orgs"}  # 1.1 projects roles[] into role and orgs
    visible = scope_ids(app).get(rtype)
    for record in _records(response.get_json()):
        assert set(record) <= allowed, (app, cls, set(record) - allowed)
        if visible is not None and "sourcedId" in record:  # fields= may leave the id out
            assert record["sourcedId"] in visible, (app, rtype, record["sourcedId"])
        if rtype == "demographics" and "birthDate" not in named:
            assert "birthDate" not in record
    if rtype == "demographics" and "birthDate" not in named:
        assert BIRTH not in text


def test_the_disclosure_log_never_holds_a_canary_value(client, world, engine):
    for headers in world.values():
        for path in ("users", "users/s1", "demographics/s1", "enrollments"):
            client.get(f"/ims/oneroster/rostering/v1p2/{path}", headers=headers)
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM disclosures")).all()
    assert rows
    dump = repr(rows)
    for value in (*T3, PRONOUNS, BIRTH, "Ann"):
        assert value not in dump
