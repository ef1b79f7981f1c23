"""The http source format against a local API: every pagination style, OAuth 2 client credentials (one token per run,
renewed on 401), API key and basic authentication, retries on 429/5xx honouring Retry-After, and clear errors that
name the path and page but never a secret."""

from __future__ import annotations

import time

import pytest

from adapters.mapping import MappingError, SourceError
from adapters.mapping.sources import FORMATS, SourceSpec, make_source
from adapters.mapping.sources_http import HttpFormat, UrlInputs, open_inputs
from http_fixture import ApiServer, oauth_token_route, reply

ITEMS = [{"id": n, "name": {"first": f"F{n}"}} for n in range(1, 6)]
SECRET, CLIENT, TOKEN = "s3cr3t-value-xyz", "client-abc", "tok-0123456789"


@pytest.fixture
def api():
    with ApiServer() as server:
        yield server


def source(url: str, records: str | None = "items", **http):
    options = {"url": url, "http": http}
    if records is not None:
        options["records"] = records
    return make_source(SourceSpec("items", None, "http", options, ("m.yaml", 3)))


def read(api: ApiServer, src, inputs=None):
    with inputs or UrlInputs(api.url) as run:
        return list(src.rows(run, set()))


def ids(rows) -> list:
    return [row["id"] for _where, row, _problem in rows]


def paged(key: str, size_key: str, first: int, step):
    """A handler serving ITEMS in pages selected by a query parameter (offset or page number)."""
    def handler(request):
        size = int(request.query.get(size_key, 2))
        start = int(request.query.get(key, first))
        begin = step(start, size)
        return reply({"items": ITEMS[begin:begin + size]})
    return handler


def test_registered_and_placed(api):
    api.serve_json("/v1/items", {"items": ITEMS[:2]})
    assert FORMATS["http"] is HttpFormat
    rows = read(api, source("/v1/items"))
    assert [w for w, _r, _p in rows] == ["/v1/items page 1 record 0", "/v1/items page 1 record 1"]
    assert rows[0][1]["name.first"] == "F1" and rows[0][2] is None
    assert api.count("/v1/items") == 1


def test_offset_pagination_stops_at_a_short_page(api):
    api.route("GET", "/items", paged("offset", "limit", 0, lambda start, _size: start))
    rows = read(api, source("/items", pagination={"type": "offset", "size": 2}))
    assert ids(rows) == [1, 2, 3, 4, 5]
    assert [(r.query["offset"], r.query["limit"]) for r in api.requests] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert rows[-1][0] == "/items page 3 record 0"


def test_offset_pagination_ends_on_an_empty_page_when_the_total_is_a_multiple(api):
    api.route("GET", "/items", paged("skip", "take", 0, lambda start, _size: start))
    rows = read(api, source("/items", pagination={"type": "offset", "param": "skip", "size_param": "take",
                                                  "size": 5}))
    assert ids(rows) == [1, 2, 3, 4, 5] and api.count("/items") == 2


def test_page_pagination_ends_where_a_later_page_has_no_records_path(api):
    def handler(request):
        number = int(request.query["page"])
        if number > 2:
            return reply({"students": {"@expansions": "x"}})  # the envelope PowerSchool answers past the end
        return reply({"students": {"student": ITEMS[(number - 1) * 2:number * 2]}})

    api.route("GET", "/students", handler)
    rows = read(api, source("/students", "students.student", pagination={"type": "page", "size": 2,
                                                                          "size_param": "pagesize"}))
    assert ids(rows) == [1, 2, 3, 4]
    assert [r.query["page"] for r in api.requests] == ["1", "2", "3"]
    assert all(r.query["pagesize"] == "2" for r in api.requests)


def test_page_pagination_with_a_total_count(api):
    def handler(request):
        number = int(request.query["p"])
        return reply({"total": 5, "items": ITEMS[(number - 1) * 3:number * 3]})

    api.route("GET", "/items", handler)
    rows = read(api, source("/items", pagination={"type": "page", "param": "p", "total_path": "total"}))
    assert ids(rows) == [1, 2, 3, 4, 5] and api.count("/items") == 2


def test_cursor_pagination(api):
    def handler(request):
        begin = int(request.query.get("after") or 0)
        nxt = begin + 2 if begin + 2 < len(ITEMS) else None
        return reply({"items": ITEMS[begin:begin + 2], "meta": {"next": None if nxt is None else str(nxt)}})

    api.route("GET", "/items", handler)
    rows = read(api, source("/items", params={"fields": "all"},
                            pagination={"type": "cursor", "param": "after", "cursor_path": "meta.next"}))
    assert ids(rows) == [1, 2, 3, 4, 5]
    assert [r.query.get("after") for r in api.requests] == [None, "2", "4"]
    assert all(r.query["fields"] == "all" for r in api.requests)


def test_link_header_pagination(api):
    def handler(request):
        begin = int(request.query.get("from", 0))
        headers = {}
        if begin + 2 < len(ITEMS):
            headers["Link"] = f'<{api.url}/items?from={begin + 2}>; rel="next", <{api.url}/items>; rel="first"'
        return reply({"items": ITEMS[begin:begin + 2]}, headers=headers)

    api.route("GET", "/items", handler)
    rows = read(api, source("/items", pagination={"type": "link"}))
    assert ids(rows) == [1, 2, 3, 4, 5] and api.count("/items") == 3


def test_next_url_pagination_relative_to_the_page(api):
    def handler(request):
        begin = int(request.query.get("from", 0))
        nxt = f"items?from={begin + 2}" if begin + 2 < len(ITEMS) else ""
        return reply({"data": ITEMS[begin:begin + 2], "links": {"next": nxt}})

    api.route("GET", "/v2/items", handler)
    rows = read(api, source(api.url + "/v2/items", "data", pagination={"type": "next_url", "next_path": "links.next"}),
                inputs=UrlInputs("https://unused.invalid"))
    assert ids(rows) == [1, 2, 3, 4, 5] and api.count("/v2/items") == 3


def test_a_next_url_on_another_host_is_refused(api):
    api.serve_json("/items", {"items": ITEMS[:1], "next": "https://elsewhere.invalid/items?page=2"})
    src = source("/items", pagination={"type": "next_url", "next_path": "next"})
    with pytest.raises(SourceError, match=r"^items: /items page 2: the next page is on another host "
                                          r"\(elsewhere.invalid\); refused$"):
        read(api, src)


def test_max_pages_guards_a_paging_loop(api):
    api.serve_json("/items", {"items": ITEMS[:1], "next": "/items"})
    src = source("/items", pagination={"type": "next_url", "next_path": "next"}, max_pages=3)
    with pytest.raises(SourceError, match=r"/items page 4: more than 3 pages \(http.max_pages\)"):
        read(api, src)


def test_oauth2_client_credentials_token_fetched_once_and_sent_as_bearer(api, monkeypatch):
    monkeypatch.setenv("T_CLIENT_ID", CLIENT)
    monkeypatch.setenv("T_CLIENT_SECRET", SECRET)
    oauth_token_route(api, "/oauth/access_token", CLIENT, SECRET, TOKEN)

    def handler(request):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return reply({"error": "unauthorized"}, 401)
        number = int(request.query["page"])
        return reply({"items": ITEMS[(number - 1) * 2:number * 2]})

    api.route("GET", "/items", handler)
    auth = {"type": "oauth2_client_credentials", "token_url": "/oauth/access_token",
            "client_id_env": "T_CLIENT_ID", "client_secret_env": "T_CLIENT_SECRET", "scope": "read"}
    with UrlInputs(api.url) as inputs:
        first = list(source("/items", pagination={"type": "page", "size": 2}, auth=auth).rows(inputs, set()))
        second = list(source("/items", pagination={"type": "page", "size": 2}, auth=auth).rows(inputs, set()))
    assert ids(first) == ids(second) == [1, 2, 3, 4, 5]
    assert api.count("/oauth/access_token") == 1  # one token for the whole run, shared by the sources
    token_call = api.requests[0]
    assert token_call.method == "POST" and b"grant_type=client_credentials" in token_call.body
    assert b"scope=read" in token_call.body and token_call.headers["Authorization"].startswith("Basic ")
    assert api.count("/items") == 6


def test_oauth2_credentials_in_the_body_and_a_token_renewed_once_on_401(api, monkeypatch):
    monkeypatch.setenv("T_CLIENT_ID", CLIENT)
    monkeypatch.setenv("T_CLIENT_SECRET", SECRET)
    tokens = iter(["old-token-1", "new-token-2"])

    def token(request):
        assert b"client_secret=" + SECRET.encode() in request.body and "Authorization" not in request.headers
        return reply({"access_token": next(tokens), "expires_in": 3600})

    api.route("POST", "/token", token)
    api.route("GET", "/items", lambda r: reply({"items": ITEMS[:1]}) if r.headers.get("Authorization") ==
              "Bearer new-token-2" else reply({"error": "expired"}, 401))
    rows = read(api, source("/items", auth={"type": "oauth2_client_credentials", "token_url": "/token",
                                            "client_id_env": "T_CLIENT_ID", "client_secret_env": "T_CLIENT_SECRET",
                                            "client_auth": "body"}))
    assert ids(rows) == [1] and api.count("/token") == 2 and api.count("/items") == 2


def test_api_key_header(api, monkeypatch):
    monkeypatch.setenv("T_KEY", SECRET)
    api.route("GET", "/items", lambda r: reply({"items": ITEMS[:1]}) if r.headers.get("X-Auth-Key") ==
              f"Key {SECRET}" else reply({"error": "no"}, 403))
    src = source("/items", auth={"type": "api_key", "key_env": "T_KEY", "header": "X-Auth-Key", "prefix": "Key "})
    assert ids(read(api, src)) == [1]


def test_basic_auth(api, monkeypatch):
    import base64

    monkeypatch.setenv("T_USER", "svc")
    monkeypatch.setenv("T_PASS", SECRET)
    expected = "Basic " + base64.b64encode(f"svc:{SECRET}".encode()).decode()
    api.route("GET", "/items", lambda r: reply({"items": ITEMS[:2]}) if r.headers.get("Authorization") == expected
              else reply({"error": "no"}, 401))
    assert ids(read(api, source("/items", auth={"type": "basic", "username_env": "T_USER",
                                                "password_env": "T_PASS"}))) == [1, 2]


def test_429_with_retry_after_is_retried(api):
    calls = []

    def handler(_request):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return reply({"error": "slow down"}, 429, {"Retry-After": "1"})
        return reply({"items": ITEMS[:1]})

    api.route("GET", "/items", handler)
    assert ids(read(api, source("/items", backoff=0))) == [1]
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.9  # Retry-After was honoured


def test_503_exhausted_gives_a_clear_error(api):
    api.route("GET", "/items", lambda _r: reply("unavailable", 503))
    with pytest.raises(SourceError) as caught:
        read(api, source("/items", retries=2, backoff=0))
    assert str(caught.value) == ("items: /items page 1: HTTP 503 Service Unavailable, still failing after "
                                 "2 retries")
    assert api.count("/items") == 3


def test_a_later_page_failing_names_its_page(api):
    api.route("GET", "/items", lambda r: reply({"items": ITEMS[:2]}) if r.query["page"] == "1"
              else reply({"error": "gone"}, 404))
    rows = []
    with pytest.raises(SourceError, match=r"^items: /items page 2: HTTP 404 Not Found$"):
        with UrlInputs(api.url) as inputs:
            for row in source("/items", pagination={"type": "page", "size": 2}).rows(inputs, set()):
                rows.append(row)  # the first page streams out before the second is fetched
    assert ids(rows) == [1, 2]


def test_non_json_body_gives_a_clear_error(api):
    api.route("GET", "/items", lambda _r: reply("<html>login</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(SourceError, match=r"^items: /items page 1: the response is not JSON \(text/html, 18 bytes\)$"):
        read(api, source("/items"))


def test_missing_records_path_on_the_first_page(api):
    api.serve_json("/items", {"data": []})
    with pytest.raises(SourceError, match=r"^items: /items page 1: no 'items' in the response \(records path\)$"):
        read(api, source("/items"))


def test_records_that_are_not_objects_reject_their_row_only(api):
    api.serve_json("/items", {"items": [{"id": 1}, 7]})
    rows = read(api, source("/items"))
    assert rows[1] == ("/items page 1 record 1", {}, "record: not an object (int)")


def test_post_with_a_json_body_and_a_single_object(api):
    api.route("POST", "/query", lambda r: reply({"record": {"id": r.json()["n"]}}))
    rows = read(api, source("/query", "record", method="POST", body={"n": 9}))
    assert ids(rows) == [9] and api.requests[0].headers["Content-Type"] == "application/json"


def test_secrets_never_appear_in_errors(api, monkeypatch):
    monkeypatch.setenv("T_CLIENT_ID", CLIENT)
    monkeypatch.setenv("T_CLIENT_SECRET", SECRET)
    api.route("POST", "/token", lambda r: reply({"access_token": TOKEN}))
    api.route("GET", "/items", lambda r: reply(f"token {TOKEN} secret {SECRET} refused", 403))
    auth = {"type": "oauth2_client_credentials", "token_url": "/token", "client_id_env": "T_CLIENT_ID",
            "client_secret_env": "T_CLIENT_SECRET"}
    with pytest.raises(SourceError) as caught:
        read(api, source("/items", params={"q": "x"}, auth=auth))
    message = str(caught.value)
    assert message == "items: /items page 1: HTTP 403 Forbidden (check the credentials and their permissions)"
    assert SECRET not in message and TOKEN not in message and "?" not in message

    api.route("POST", "/token", lambda r: reply({"error": "invalid_client", "detail": SECRET}, 401))
    with pytest.raises(SourceError) as caught:
        read(api, source("/items", auth=auth))
    assert str(caught.value) == "items: token endpoint /token: HTTP 401 Unauthorized (invalid_client)"


def test_a_missing_environment_variable_is_named(api, monkeypatch):
    monkeypatch.delenv("T_NOT_SET", raising=False)
    with pytest.raises(SourceError, match=r"^items: environment variable T_NOT_SET is not set \(http.auth.key_env\)$"):
        read(api, source("/items", auth={"type": "api_key", "key_env": "T_NOT_SET"}))
    assert api.requests == []


def test_credentials_are_never_sent_over_plain_http_to_another_host(monkeypatch):
    monkeypatch.setenv("T_KEY", SECRET)
    src = source("http://example.invalid/items", auth={"type": "api_key", "key_env": "T_KEY"})
    with pytest.raises(SourceError, match=r"refusing to send credentials over plain http to example.invalid"):
        list(src.rows(UrlInputs("https://unused.invalid"), set()))


def test_relative_url_needs_a_base_url(tmp_path):
    from adapters.mapping import Inputs

    with pytest.raises(SourceError, match=r"url /items is relative: give the base URL as --source https://host"):
        list(source("/items").rows(Inputs(tmp_path), set()))


@pytest.mark.parametrize(("http", "message"), [
    ({"auth": {"type": "basic", "username_env": "U", "password": "hunter2"}},
     r"http.auth.password: unknown option \(secrets are never written in a mapping"),
    ({"headers": {"Authorization": "Bearer x"}}, r"http.headers.Authorization: credentials are not written"),
    ({"pagination": {"type": "pages"}}, r"http.pagination.type: 'pages' is not one of"),
    ({"pagination": {"type": "cursor"}}, r"http.pagination.cursor_path: required"),
    ({"auth": {"type": "oauth2_client_credentials", "token_url": "/t", "client_id_env": "A"}},
     r"http.auth.client_secret_env: required"),
    ({"timeout": "soon"}, r"http.timeout: a number"),
    ({"verify": False}, r"http.verify: unknown option"),
])
def test_mapping_errors_are_placed_at_the_source(http, message):
    with pytest.raises(MappingError, match=r"^m.yaml:3: sources.items: " + message):
        source("/items", **http)


def test_open_inputs_picks_urls():
    assert isinstance(open_inputs("https://ps.example.org"), UrlInputs)
    with pytest.raises(SourceError, match="no query string nor credentials"):
        UrlInputs("https://user:pw@ps.example.org/?key=1")


def test_for_each_reads_one_endpoint_per_listed_value(api):
    api.serve_json("/schools", {"schools": {"school": [{"id": 3}, {"id": 5}, {"id": 3}, {"name": "no id"}]}})
    api.serve_json("/school/3/section", {"sections": {"section": [{"id": 1}, {"id": 2}]}})
    api.serve_json("/school/5/section", {"sections": {"section": {"id": 9}}})  # one record: an object
    src = source("/school/{school_id}/section", "sections.section",
                 for_each={"url": "/schools", "records": "schools.school", "value": "id", "param": "school_id"})
    rows = read(api, src)
    assert ids(rows) == [1, 2, 9] and rows[2][0] == "/school/5/section page 1 record 0"
    assert api.count("/schools") == 1 and api.count("/school/3/section") == 1


def test_for_each_needs_its_placeholder():
    with pytest.raises(MappingError, match=r"sources.items: url: no \{school_id\} to fill from http.for_each"):
        source("/sections", for_each={"url": "/schools", "value": "id", "param": "school_id"})


def test_optional_source_answering_404_gives_no_rows(api):
    src = make_source(SourceSpec("items", None, "http", {"url": "/absent", "records": "items", "optional": True},
                                 ("m.yaml", 3)))
    assert read(api, src) == []
    assert src.notes == ["items: /absent answered 404 (optional source): no rows"]


def test_a_slow_server_times_out_with_a_clear_error(api):
    api.route("GET", "/items", lambda _r: (time.sleep(1), reply({"items": []}))[1])
    with pytest.raises(SourceError, match=r"^items: /items page 1: timed out$"):
        read(api, source("/items", timeout=0.2, retries=1, backoff=0))
    assert api.count("/items") == 2  # the timeout was retried once


def test_an_unreachable_server_gives_a_clear_error():
    with ApiServer() as gone:
        url = gone.url
    with pytest.raises(SourceError, match=r"^items: /items page 1: cannot connect$"):
        list(source(url + "/items", retries=0).rows(UrlInputs(url), set()))


def test_relative_urls_go_under_the_base_url_path(api):
    api.serve_json("/proxy/ps/items", {"items": ITEMS[:1]})
    with UrlInputs(api.url + "/proxy/ps") as inputs:
        assert ids(list(source("/items").rows(inputs, set()))) == [1]
        assert ids(list(source("items").rows(inputs, set()))) == [1]


def test_a_page_larger_than_the_limit_stops_the_run(api, monkeypatch):
    from adapters.mapping import sources_http

    monkeypatch.setattr(sources_http, "MAX_PAGE_BYTES", 100)
    api.serve_json("/items", {"items": ITEMS})
    with pytest.raises(SourceError, match=r"^items: /items page 1: page larger than 100 bytes; use a smaller page"):
        read(api, source("/items"))


def test_a_source_is_fetched_once_per_run_and_replayed(api, tmp_path):
    """A source used by a lookup and two rules: one walk of the API per run, the later reads replay a spool on disk
    (deleted with the run's inputs); a read that stops early leaves no spool behind."""
    from adapters.mapping import Engine, load_plan

    api.serve_json("/items", {"items": ITEMS})
    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\nname: t\nsources:\n  items: {format: http, url: /items, records: items}\n"
                       "lookups:\n  names: {source: items, key: =id, columns: [name.first]}\n"
                       "records:\n"
                       "  orgs:\n    source: items\n    class: Org\n    fields: {sourcedId: \"=text(id)\", "
                       "name: \"=lookup('names', id, 'name.first')\", type: school, identifier: \"=text(id)\"}\n"
                       "  users:\n    source: items\n    class: User\n    fields: {sourcedId: \"=concat('u', id)\", "
                       "enabledUser: true, givenName: \"=row['name.first']\", familyName: x, "
                       "roles: [{roleType: primary, role: student, org: \"=text(id)\"}]}\n", encoding="utf-8")
    plan = load_plan(mapping)
    with UrlInputs(api.url) as inputs:
        outcomes = list(Engine(plan, inputs).run())
        spool = inputs.spools[plan.sources["items"]]
        assert spool.complete and spool.rows == 5
    assert spool.file.closed
    assert api.count("/items") == 1
    assert sum(len(o.records) for o in outcomes) == 10 and not any(o.errors for o in outcomes)
    assert outcomes[0].records[0][2]["name"] == "F1"
    with UrlInputs(api.url) as inputs:  # a new run fetches again
        src = plan.sources["items"]
        partial = src.rows(inputs, set())
        next(partial)
        partial.close()  # stopped early: not kept
        assert inputs.spools == {}
        assert ids(list(src.rows(inputs, set()))) == [1, 2, 3, 4, 5]
        assert ids(list(src.rows(inputs, set()))) == [1, 2, 3, 4, 5]
    assert api.count("/items") == 3
