"""Per-app rate limits (429 with Retry-After in each standard's format), the OAuth endpoints' guard, Redis storage."""

import logging
import os
import uuid

import pytest
from factories import seed
from helpers import V11
from helpers import V12
from helpers import Apps
from helpers import basic

from gateway import create_app
from gateway.auth.registry import update_app
from gateway.config import ConfigError
from gateway.config import load

REDIS = os.environ.get("TRELLIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
V11_SCOPES = ["https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"]


@pytest.fixture
def make(app, database_url):
    """Build gateways with given settings on the (emptied, seeded) test database; several share its counters' store."""
    seed(app.extensions["trellis.engine"])
    made = []

    def build(**settings):
        gateway = create_app({"TRELLIS_DATABASE_URL": database_url, "TESTING": True, **settings})
        made.append(gateway)
        return gateway

    yield build
    for gateway in made:
        gateway.extensions["trellis.engine"].dispose()


def bearer(gateway, scopes=("roster-core.readonly",)):
    return Apps(gateway, gateway.test_client()).headers(scopes=scopes)


def code_minor(info):
    return info["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


def retry_after(response):
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    return seconds


def test_429_after_the_limit_in_the_1_2_format_with_retry_after(make):
    gateway = make(TRELLIS_RATELIMIT_DEFAULT="3/minute")
    client, headers = gateway.test_client(), bearer(gateway)
    assert [client.get(f"{V12}/orgs", headers=headers).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(f"{V12}/orgs", headers=headers)
    assert response.status_code == 429
    retry_after(response)
    body = response.get_json()
    assert body["imsx_codeMajor"] == "failure" and code_minor(body) == "server_busy"
    assert "3 per 1 minute" in body["imsx_description"]


def test_429_in_the_1_1_format(make):
    gateway = make(TRELLIS_RATELIMIT_DEFAULT="2/minute")
    client, headers = gateway.test_client(), bearer(gateway, scopes=V11_SCOPES)
    assert [client.get(f"{V11}/orgs", headers=headers).status_code for _ in range(2)] == [200, 200]
    response = client.get(f"{V11}/orgs", headers=headers)
    assert response.status_code == 429
    retry_after(response)
    info = response.get_json()["statusInfoSet"][0]
    assert info["imsx_codeMajor"] == "failure" and code_minor(info) == "invaliddata"


def test_limits_are_per_app_not_per_address(make):
    gateway = make(TRELLIS_RATELIMIT_DEFAULT="2/minute")
    client, first, second = gateway.test_client(), bearer(gateway), bearer(gateway)
    for _ in range(2):
        client.get(f"{V12}/orgs", headers=first)
    assert client.get(f"{V12}/orgs", headers=first).status_code == 429
    assert client.get(f"{V12}/orgs", headers=second).status_code == 200


def test_an_apps_own_limit_overrides_the_default(make):
    gateway = make(TRELLIS_RATELIMIT_DEFAULT="2/minute")
    apps = Apps(gateway, gateway.test_client())
    roomy = apps.register(["roster-core.readonly"])
    with gateway.extensions["trellis.engine"].begin() as conn:
        update_app(conn, "d1", roomy.client_id, rate_limit="1/second;5/minute")
    client = gateway.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(roomy.client_id, roomy.client_secret)).get_json()["access_token"]
    headers = {"Authorization": "Bearer " + token}
    assert client.get(f"{V12}/orgs", headers=headers).status_code == 200
    response = client.get(f"{V12}/orgs", headers=headers)  # the same second: 1/second is the tighter limit
    assert response.status_code == 429
    assert "1 per 1 second" in response.get_json()["imsx_description"]
    assert int(response.headers["Retry-After"]) <= 2


def test_empty_default_means_no_limit(make):
    gateway = make(TRELLIS_RATELIMIT_DEFAULT="")
    client, headers = gateway.test_client(), bearer(gateway)
    assert {client.get(f"{V12}/orgs", headers=headers).status_code for _ in range(5)} == {200}


def test_oauth_endpoints_are_limited_per_remote_address_in_oauth_json(make):
    gateway = make(TRELLIS_TOKEN_RATELIMIT="2/minute")
    client = gateway.test_client()
    wrong = basic("nobody", "guess")
    codes = [client.post(path, data={"grant_type": "client_credentials", "token": "x"}, headers=wrong).status_code
             for path in ("/oauth/token", "/oauth/introspect")]
    assert codes == [401, 401]
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=wrong)
    assert response.status_code == 429
    retry_after(response)
    body = response.get_json()
    assert body["error"] == "temporarily_unavailable" and "2 per 1 minute" in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    elsewhere = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=wrong,
                            environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 401


def test_the_admin_token_endpoint_is_limited_per_remote_address_too(make):
    gateway = make(TRELLIS_TOKEN_RATELIMIT="2/minute")
    client = gateway.test_client()
    wrong = basic("adm-nobody", "guess")
    codes = [client.post("/admin/v1/token", data={"grant_type": "client_credentials"}, headers=wrong).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
    response = client.post("/admin/v1/token", data={"grant_type": "client_credentials"}, headers=wrong)
    assert response.get_json()["error"] == "temporarily_unavailable"
    retry_after(response)
    assert client.get("/admin/v1/openapi.json").status_code == 200  # only the token endpoint is braked


def test_api_requests_do_not_count_against_the_token_endpoint(make):
    gateway = make(TRELLIS_TOKEN_RATELIMIT="2/minute")
    client, headers = gateway.test_client(), bearer(gateway)  # one token request
    for _ in range(3):
        assert client.get(f"{V12}/orgs", headers=headers).status_code == 200
    assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=basic("nobody", "guess")).status_code == 401


@pytest.fixture(scope="module")
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception as error:  # any driver or network failure means "not reachable"
        reason = f"Redis not reachable at {REDIS}: {type(error).__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI=true requires Redis)")
        pytest.skip(reason)
    return REDIS


@pytest.fixture
def redis_prefix(redis_url):
    import redis

    prefix = f"trellis-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_redis_counters_are_shared_by_every_server(make, redis_url, redis_prefix):
    settings = {"TRELLIS_RATELIMIT_STORAGE_URL": redis_url, "TRELLIS_RATELIMIT_DEFAULT": "3/minute",
                "RATELIMIT_KEY_PREFIX": redis_prefix}
    one, two = make(**settings), make(**settings)
    headers = bearer(one)
    statuses = [server.test_client().get(f"{V12}/orgs", headers=headers).status_code for server in (one, two, one, two)]
    assert statuses == [200, 200, 200, 429]
    import redis

    assert list(redis.Redis.from_url(redis_url).scan_iter(match=f"*{redis_prefix}*"))


def test_unreachable_redis_fails_open_to_per_server_limits(make, caplog):
    gateway = make(TRELLIS_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0", TRELLIS_RATELIMIT_DEFAULT="2/minute",
                   TRELLIS_TOKEN_RATELIMIT="")
    client, headers = gateway.test_client(), bearer(gateway)
    with caplog.at_level(logging.WARNING):
        assert [client.get(f"{V12}/orgs", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    assert "rate-limit storage unreachable (ConnectionError)" in caplog.text


def test_unreachable_redis_leaves_the_oauth_endpoints_limited_per_server(make, caplog):
    gateway = make(TRELLIS_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0", TRELLIS_TOKEN_RATELIMIT="2/minute")
    client, wrong = gateway.test_client(), basic("nobody", "guess")
    with caplog.at_level(logging.WARNING):
        assert [client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=wrong).status_code
                for _ in range(3)] == [401, 401, 429]
    assert "falling back to in-memory" in caplog.text


def test_memory_counters_start_no_thread_per_request(make, monkeypatch):
    import limits.storage.memory

    gateway = make(TRELLIS_RATELIMIT_DEFAULT="1000/minute")
    client, headers = gateway.test_client(), bearer(gateway)
    started = []
    monkeypatch.setattr(limits.storage.memory.threading, "Timer", lambda *args: started.append(args))
    for _ in range(3):
        assert client.get(f"{V12}/orgs", headers=headers).status_code == 200
    assert started == []


@pytest.mark.parametrize("key, value, message", [
    ("RATELIMIT_STORAGE_URL", "mysql://db/limits", "memory://"),
    ("RATELIMIT_STORAGE_URL", "redis-cache:6379", "redis://"),
    ("RATELIMIT_DEFAULT", "lots", "TRELLIS_RATELIMIT_DEFAULT"),
    ("RATELIMIT_DEFAULT", "10/fortnight", "fortnight"),
    ("TOKEN_RATELIMIT", "60 a minute", "TRELLIS_TOKEN_RATELIMIT"),
])
def test_bad_settings_stop_the_start(tmp_path, key, value, message):
    with pytest.raises(ConfigError, match=message):
        load(str(tmp_path), {"TRELLIS_" + key: value})


def test_good_settings_are_accepted(tmp_path):
    config = load(str(tmp_path), {"TRELLIS_RATELIMIT_STORAGE_URL": "rediss://:pw@cache:6380/1",
                                  "TRELLIS_RATELIMIT_DEFAULT": "20/second;1200/minute",
                                  "TRELLIS_TOKEN_RATELIMIT": ""})
    assert config["TRELLIS_RATELIMIT_STORAGE_URL"] == "rediss://:pw@cache:6380/1"
    assert config["TRELLIS_RATELIMIT_DEFAULT"] == "20/second;1200/minute"
    assert config["TRELLIS_TOKEN_RATELIMIT"] == ""
    defaults = load(str(tmp_path))
    assert (defaults["TRELLIS_RATELIMIT_STORAGE_URL"], defaults["TRELLIS_RATELIMIT_DEFAULT"],
            defaults["TRELLIS_TOKEN_RATELIMIT"]) == ("memory://", "1200/minute", "60/minute")
