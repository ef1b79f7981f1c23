"""The authorization matrix: every endpoint against every credential state an app can be in.

Each state is set up once and then driven through every OneRoster endpoint (1.2 rostering and resources, 1.1); a
generic sweep over the application's URL map checks that no route outside a short public list answers anything but
401 without credentials, so an endpoint added later without protection fails here.
"""

from __future__ import annotations

import time
from datetime import date
from datetime import timedelta

import pytest
from werkzeug.routing import PathConverter
from factories import seed
from helpers import V11
from helpers import basic
from helpers import profile

from gateway.auth import credentials
from gateway.auth import registry
from gateway.auth.scopes import PREFIX_V1P1
from gateway.storage.tables import tokens
from standards.endpoints import load_endpoints

DEFINITIONS = load_endpoints()
IDS = {"classSourcedId": "cls1", "courseSourcedId": "c-math", "schoolSourcedId": "sch1", "studentSourcedId": "s1",
       "teacherSourcedId": "t-a", "termSourcedId": "t1", "userSourcedId": "s1"}
SINGLE = {"academicSessions": "sy", "classes": "cls1", "courses": "c-math", "demographics": "s1",
          "enrollments": "e1", "gradingPeriods": "gp1", "orgs": "dist", "schools": "sch1", "students": "s1",
          "teachers": "t-a", "terms": "t1", "users": "s1"}
UNSEEDED = {"resource"}  # record types the seeded district has none of: their single reads are 404
NAMES = ("roster.readonly", "roster-core.readonly", "roster-demographics.readonly", "resource.readonly")


def both_versions(names) -> tuple[str, ...]:
    """Short names are 1.2 scopes; a 1.1 client is granted the 1.1 URIs of the same names."""
    return (*names, *(PREFIX_V1P1 + name for name in names))


ALL_SCOPES = both_versions(NAMES)


def _fill(endpoint, value=None) -> str:
    path = endpoint.path
    for name, default in IDS.items():
        path = path.replace("{" + name + "}", value or default)
    for name in endpoint.parents:
        path = path.replace("{" + name + "}", value or "x")
    return path.replace("{sourcedId}", value or SINGLE.get(endpoint.path.split("/")[1], "x"))


def _urls(value=None) -> list[tuple[str, object]]:
    """(URL, endpoint) of every OneRoster GET endpoint, 1.2 under its service base and 1.1 where it exists."""
    urls = []
    for endpoint in DEFINITIONS.endpoints:
        urls.append((DEFINITIONS.services[endpoint.service]["base"] + _fill(endpoint, value), endpoint))
        if endpoint.op11:
            urls.append((DEFINITIONS.v1p1_base + _fill(endpoint, value), endpoint))
    return urls


URLS = _urls()


def _code(response) -> str:
    body = response.get_json()
    info = body["statusInfoSet"][0] if "statusInfoSet" in body else body
    return info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


@pytest.fixture
def district(app, engine):
    seed(engine)
    with engine.begin() as conn:
        registry.ensure_district(conn, "d1")
        registry.ensure_district(conn, "d2")
    return app


class Vendor:
    """One registered app and its token, with the operations that change its state."""

    def __init__(self, app, client, district="d1", scopes=ALL_SCOPES, profile_xml=None):
        self.app, self.client, self.engine = app, client, app.extensions["trellis.engine"]
        with self.engine.begin() as conn:
            self.creds = registry.create_app_credentials(conn, district, "vendor", list(scopes))
            if profile_xml:
                registry.set_profile(conn, district, self.creds.client_id, profile_xml, None)
        self.district = district
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(self.creds.client_id, self.creds.client_secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        self.token = response.get_json()["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.token}

    def change(self, action, *args, **kwargs):
        with self.engine.begin() as conn:
            return action(conn, self.district, self.creds.client_id, *args, **kwargs)


def _expire(vendor):
    with vendor.engine.begin() as conn:
        conn.execute(tokens.update().values(expires_at=int(time.time()) - 1))


def _revoke_token(vendor):
    response = vendor.client.post("/oauth/revoke", data={"token": vendor.token},
                                  headers=basic(vendor.creds.client_id, vendor.creds.client_secret))
    assert response.status_code == 200


REFUSED = {
    "no token": (None, 401),
    "malformed token": ("garbage", 401),
    "expired token": (_expire, 401),
    "revoked token": (_revoke_token, 401),
    "revoked credential": (lambda v: v.change(credentials.revoke), 401),
    "credential rotated without grace": (lambda v: v.change(credentials.rotate, 0), 401),
    "suspended app": (lambda v: v.change(registry.set_status, "suspended"), 401),
    "expired agreement": (lambda v: v.change(registry.update_app, dpa_expires=str(date.today() - timedelta(days=2))),
                          403),
}


@pytest.mark.parametrize("state", list(REFUSED))
def test_every_endpoint_refuses_an_app_in_a_refused_state(district, client, state):
    setup, status = REFUSED[state]
    vendor = Vendor(district, client)
    headers = vendor.headers
    if setup is None:
        headers = {}
    elif setup == "garbage":
        headers = {"Authorization": "Bearer not-a-token"}
    else:
        setup(vendor)
    for url, _ in URLS:
        response = client.get(url, headers=headers)
        assert response.status_code == status, (state, url, response.get_data(as_text=True))
        assert _code(response) in {"unauthorisedrequest", "forbidden"}, url
        assert b"Ann" not in response.data and b"Springfield" not in response.data
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_agreement_is_refused_with_a_message_that_says_so(district, client):
    vendor = Vendor(district, client)
    expiry = str(date.today() - timedelta(days=1))
    vendor.change(registry.update_app, dpa_expires=expiry)
    response = client.get(URLS[0][0], headers=vendor.headers)
    assert response.status_code == 403 and expiry in response.get_json()["imsx_description"]
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(vendor.creds.client_id, vendor.creds.client_secret))
    assert token.status_code == 400 and token.get_json()["error"] == "unauthorized_client"
    assert "agreement" in token.get_json()["error_description"]
    vendor.change(registry.update_app, dpa_expires=str(date.today()))  # valid through its last day
    assert client.get(URLS[0][0], headers=vendor.headers).status_code == 200


def test_every_endpoint_answers_an_app_in_good_standing(district, client):
    vendor = Vendor(district, client)
    for url, endpoint in URLS:
        response = client.get(url, headers=vendor.headers)
        expected = 404 if endpoint.collection.type in UNSEEDED and endpoint.single else 200
        assert response.status_code == expected, (url, response.get_data(as_text=True))


@pytest.mark.parametrize("scopes", [("resource.readonly",), ("roster-core.readonly",)])
def test_every_endpoint_checks_the_scope(district, client, scopes):
    vendor = Vendor(district, client, scopes=both_versions(scopes))
    for url, endpoint in URLS:
        allowed = bool(set(endpoint.scopes) & set(scopes))
        response = client.get(url, headers=vendor.headers)
        found = 404 if endpoint.collection.type in UNSEEDED and endpoint.single else 200
        assert response.status_code == (found if allowed else 403), (url, endpoint.scopes)


def test_a_token_of_another_district_finds_nothing_of_this_one(district, client):
    vendor = Vendor(district, client, district="d2")
    for url, endpoint in URLS:
        response = client.get(url, headers=vendor.headers)
        if endpoint.single:
            assert response.status_code == 404, url
        else:
            assert response.status_code in {200, 404}, url
            if response.status_code == 200:
                assert response.get_json()[next(iter(response.get_json()))] == [], url
        assert b"Ann" not in response.data and b"Springfield" not in response.data


PROFILE_MODES = {
    "IncludeOnly": ('<ReadContentType memberSelection="IncludeOnly"><Property name="givenName"/>'
                    '</ReadContentType>', {"sourcedId", "status", "dateLastModified", "givenName"}),
    "ExcludeOnly": ('<ReadContentType memberSelection="ExcludeOnly"><Property name="email"/>'
                    '<Property name="username"/></ReadContentType>', None),
    "IncludeAll": ('<ReadContentType memberSelection="IncludeAll"/>', None),
    "ExcludeAll": ('<ReadContentType memberSelection="ExcludeAll"/>', {"sourcedId", "status", "dateLastModified"}),
}


@pytest.mark.parametrize("mode", list(PROFILE_MODES))
def test_each_profile_mode_bounds_every_user_endpoint(district, client, mode):
    content, exact = PROFILE_MODES[mode]
    xml = f'<Profile name="p"><Resource name="User">{content}</Resource></Profile>'
    vendor = Vendor(district, client, profile_xml=xml)
    everything = Vendor(district, client, profile_xml=profile("User"))
    for url, endpoint in URLS:
        response = client.get(url, headers=vendor.headers)
        if endpoint.collection.cls != "User":
            assert response.status_code == 403, url  # a class the profile leaves out
            continue
        assert response.status_code == 200, (url, response.get_data(as_text=True))
        full = client.get(url, headers=everything.headers).get_json()
        body = response.get_json()
        records = [body["user"]] if "user" in body else next(iter(body.values()))
        baseline = [full["user"]] if "user" in full else next(iter(full.values()))
        assert len(records) == len(baseline) > 0, url
        for record, reference in zip(records, baseline):
            if exact is not None and url.startswith(V11) is False:
                assert set(record) == exact, (url, record)
            if mode == "ExcludeOnly":
                assert not {"email", "username"} & set(record), url
                assert set(record) == set(reference) - {"email", "username"}, url
            if mode == "IncludeAll":
                assert set(record) == set(reference), url


PUBLIC = ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/openapi.json", "/static/")


def _public(rule) -> bool:
    """Token endpoints, API descriptions, and catch-all routes that only answer "no such endpoint"."""
    path = rule.rule
    catch_all = any(isinstance(converter, PathConverter) for converter in rule._converters.values())
    return (path.startswith(PUBLIC) or "/discovery/" in path or path.endswith(("/openapi.json", "/token"))
            or catch_all or path.rstrip("/") in {"/admin/v1", "/privacy/v1"})


def test_no_route_answers_without_credentials(district, client):
    """Every route of the application, whatever its method, is refused without credentials."""
    checked = 0
    for rule in district.url_map.iter_rules():
        if _public(rule):
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "s1").replace(f"<path:{argument}>", "s1")
            url = url.replace(f"<string:{argument}>", "s1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={} if method in {"POST", "PUT", "PATCH"} else None)
            assert response.status_code == 401, (method, rule.rule, response.status_code)
            checked += 1
    assert checked >= len(URLS)


def test_an_app_token_is_no_admin_or_parent_credential(district, client):
    vendor = Vendor(district, client)
    for rule in district.url_map.iter_rules():
        if not rule.rule.startswith(("/admin/", "/privacy/")) or _public(rule) or "GET" not in rule.methods:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "s1")
        response = client.get(url, headers=vendor.headers)
        assert response.status_code == 401, (rule.rule, response.get_data(as_text=True))
