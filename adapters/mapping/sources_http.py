"""The ``http`` source format: records read from an HTTP JSON API, page by page, with paging, authentication and
retries (requests + urllib3 ``Retry``).

Why a format and not a file: SIS APIs (PowerSchool ``/ws/v1``, PowerQueries, many vendor REST APIs) are where the
data lives; fetching them into files first would put a copy of every student on disk. The mapping declares the
endpoint and how to walk it; credentials are never written in a mapping, only the names of the environment variables
that hold them. Memory is bounded by one page: a page is fetched, its records are yielded, then the next is fetched.

    sources:
      students:
        format: http
        url: /ws/v1/district/student           # absolute, or relative to the base URL (--source https://host)
        records: students.student              # dotted path to the record list in each page (as the json format)
        columns: {grade_level: school_enrollment.grade_level}
        http:
          method: GET                          # GET (default) or POST (body: a JSON object sent with each page)
          params: {expansions: "school_enrollment"}
          headers: {Accept: application/json}
          pagination: {type: page, param: page, size_param: pagesize, size: 100}
          auth: {type: oauth2_client_credentials, token_url: /oauth/access_token,
                 client_id_env: PS_CLIENT_ID, client_secret_env: PS_CLIENT_SECRET}
          timeout: 30                          # seconds, per request
          max_pages: 10000                     # a run stops with an error beyond this (a paging loop guard)
          retries: 5                           # on 429/500/502/503/504 and connection errors, with backoff
          backoff: 0.5                         # seconds, doubled per retry; Retry-After is honoured (capped)

Pagination (``http.pagination.type``):

* ``none`` (default): one request.
* ``offset``: ``param`` (default ``offset``) = 0, size, 2*size, ...; ``size_param`` (default ``limit``) = ``size``.
* ``page``: ``param`` (default ``page``) = ``start`` (default 1), start+1, ...; ``size_param`` (default ``pagesize``).
  offset and page stop at a page with no records, or with fewer records than ``size`` (set ``size`` no larger than
  the API's maximum page size), or at ``total_path`` (a dotted path to the total count in the body) when given.
* ``cursor``: ``param`` (default ``cursor``) takes the value found at ``cursor_path`` (dotted path in the body) of
  the previous page; stops when it is empty.
* ``link``: follows the ``Link: <...>; rel="next"`` response header.
* ``next_url``: follows the URL found at ``next_path`` (dotted path in the body), relative to the page's URL.

Per-parent endpoints (``/ws/v1/school/{school_id}/section``): ``http.for_each`` lists the values first, from
another endpoint read with the same authentication and options, and then reads the source's URL once per value:
``for_each: {url: /ws/v1/district/school, records: schools.school, value: id, param: school_id}`` (``pagination``
defaults to the source's). Only the listed values are kept in memory.

``optional: true``: a 404 on the first page gives no rows and a warning instead of an error.

A next page must stay on the scheme and host of the first one (credentials are never sent elsewhere). A records
path missing from the first page is an error; missing (or ``null``/``""``) on a later page ends the paging (APIs such
as PowerSchool answer a page past the end with an empty envelope). An object found at the records path is one record.

Authentication (``http.auth.type``): ``oauth2_client_credentials`` (``token_url``, ``client_id_env``,
``client_secret_env``, optional ``scope``, ``client_auth: basic|body``; the token is fetched once per run and
renewed once when it expires or a request gets 401), ``api_key`` (``key_env``, ``header`` default ``X-API-Key``,
optional ``prefix``), ``basic`` (``username_env``, ``password_env``), ``bearer`` (``token_env``). Secrets are read
from the environment when the source is read (``trellis mapping check`` needs none), are sent only over https (or to
a loopback address), and are removed from every message; nothing here logs.

Where the base URL comes from: :class:`UrlInputs` (``--source https://host``, or ``https://host/prefix``: a relative
``url`` or ``token_url``, with or without a leading slash, goes under the base URL's path) carries it;
:func:`open_inputs` picks UrlInputs for an ``http(s)://`` source and :class:`Inputs` otherwise. A mapping whose URLs
are all absolute needs no base URL. Rows are placed as ``<url path> page N record i`` (no query string); the
source's label in messages is its name, so the engine reports
``students:/ws/v1/district/student page 2 record 7: givenName: required field missing``.

A source is fetched once per run: the first complete walk is spooled to a temporary file (one JSON line per row, see
replay.py) and a source used by several record rules and lookups replays it, so memory stays bounded and the API
sees one walk. The spool is deleted when the run's inputs are closed.
"""
from __future__ import annotations

import base64
import ipaddress
import os
import time
from typing import Iterator
from urllib.parse import quote, urljoin, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from urllib3.util.retry import Retry

from .errors import MappingError, SourceError
from .functions import text
from .replay import cached_rows, close_spools
from .sources import Format, Inputs, SourceSpec, register
from .sources_json import _MISSING, _path, check_columns, record_row

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 60.0  # seconds: a server asking for longer is waited on no more than this per retry
MAX_PAGE_BYTES = 256 * 1024 * 1024
PAGINATION = {
    "none": set(),
    "offset": {"param", "size_param", "size", "start", "total_path"},
    "page": {"param", "size_param", "size", "start", "total_path"},
    "cursor": {"param", "cursor_path", "size_param", "size"},
    "link": {"size_param", "size"},
    "next_url": {"next_path", "size_param", "size"},
}
AUTH = {
    "none": (set(), set()),
    "oauth2_client_credentials": ({"token_url", "client_id_env", "client_secret_env"}, {"scope", "client_auth"}),
    "api_key": ({"key_env"}, {"header", "prefix"}),
    "basic": ({"username_env", "password_env"}, set()),
    "bearer": ({"token_env"}, set()),
}
HTTP_OPTIONS = {"method", "params", "headers", "body", "pagination", "auth", "timeout", "max_pages", "retries",
                "backoff", "for_each"}
FOR_EACH = {"url", "records", "value", "param", "pagination"}
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key"}


class UrlInputs:
    """The inputs of a run over HTTP sources: a base URL (``--source https://host``) instead of files.

    Quacks like :class:`Inputs` for the engine (``kind``, ``path``, ``exists``, a context manager); also keeps the
    OAuth tokens of the run so that several sources share one token."""

    kind = "url"

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"{base_url}: not an http(s) URL")
        if parts.query or parts.username or parts.password:
            raise SourceError(f"{parts.scheme}://{parts.hostname}: the base URL takes no query string nor "
                              "credentials (credentials come from environment variables named in the mapping)")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.path = base_url.rstrip("/")
        self.tokens: dict = {}
        self.spools: dict = {}  # source -> its rows of this run, on disk (replay.py)

    def __enter__(self) -> "UrlInputs":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.tokens.clear()
        close_spools(self)

    def exists(self, name: str, only: bool = False) -> bool:
        return False

    def open(self, name: str, member: str | None = None, only: bool = False):
        raise SourceError(f"{name}: not found in {self.path} (a URL serves http sources only)")


def open_inputs(source) -> "Inputs | UrlInputs":
    """The inputs for a command line's ``--source``: a base URL (http sources) or a directory, zip or file."""
    text = str(source)
    if text.lower().startswith(("http://", "https://")):
        return UrlInputs(text)
    return Inputs(source)


class _Retry(Retry):
    """urllib3's Retry with the server's Retry-After capped (a hostile or broken server cannot stall a run)."""

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER)


def _session(retries: int, backoff: float) -> requests.Session:
    retry = _Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                   backoff_factor=backoff, status_forcelist=RETRY_STATUSES,
                   allowed_methods=frozenset({"GET", "POST"}), respect_retry_after_header=True,
                   raise_on_status=False)
    session = requests.Session()  # proxies and CA bundles from the environment apply; .netrc never does (see _Auth)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _Auth(AuthBase):
    """The request's credentials (or none). Always passing an auth object keeps requests from adding .netrc
    credentials behind the mapping's back."""

    def __init__(self, headers: dict):
        self.headers = headers

    def __call__(self, request):
        request.headers.update(self.headers)
        return request


def _under(base: str, url: str) -> str:
    """A mapping's relative URL under the base URL, whose path it keeps (``https://host/ps`` + ``/ws/v1/x``)."""
    return base.rstrip("/") + "/" + url.lstrip("/")


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register
class HttpFormat(Format):
    """An HTTP JSON API, page by page (see the module docstring for the options)."""

    name = "http"
    options = frozenset({"url", "http", "records", "columns"})

    def __init__(self, spec: SourceSpec):
        super().__init__(spec)
        self.label = spec.name
        check_columns(spec)
        options, http = spec.options, spec.options.get("http") or {}
        self.url = options.get("url")
        if not isinstance(self.url, str) or not self.url.strip():
            raise self._error("url: required for format http (absolute, or relative to --source https://host)")
        if not isinstance(http, dict):
            raise self._error("http: must be a mapping of options")
        unknown = sorted(set(http) - HTTP_OPTIONS)
        if unknown:
            raise self._error(f"http.{', http.'.join(unknown)}: unknown option "
                              f"(known: {', '.join(sorted(HTTP_OPTIONS))})")
        self.method = str(http.get("method", "GET")).upper()
        if self.method not in ("GET", "POST"):
            raise self._error(f"http.method: {self.method} is not GET or POST")
        self.params = self._dict(http, "params")
        self.headers = {str(k): str(v) for k, v in self._dict(http, "headers").items()}
        refused = sorted(h for h in self.headers if h.lower() in CREDENTIAL_HEADERS)
        if refused:
            raise self._error(f"http.headers.{refused[0]}: credentials are not written in a mapping; use http.auth "
                              "with the name of an environment variable")
        self.body = http.get("body")
        if self.body is not None and (self.method != "POST" or not isinstance(self.body, dict)):
            raise self._error("http.body: a JSON object, with method POST only")
        self.timeout = self._number(http, "timeout", 30.0, 0.1, 600)
        self.max_pages = int(self._number(http, "max_pages", 10000, 1, 10_000_000))
        self.retries = int(self._number(http, "retries", 5, 0, 20))
        self.backoff = self._number(http, "backoff", 0.5, 0, 60)
        self.paging = self._dict(http, "pagination")
        self.paging_type = self.paging.get("type", "none")
        if self.paging_type not in PAGINATION:
            raise self._error(f"http.pagination.type: '{self.paging_type}' is not one of {', '.join(PAGINATION)}")
        self._check_keys("http.pagination", self.paging, set(), PAGINATION[self.paging_type] | {"type"})
        if self.paging_type == "cursor" and not self.paging.get("cursor_path"):
            raise self._error("http.pagination.cursor_path: required for cursor pagination (where the next cursor "
                              "is in each page)")
        if self.paging_type == "next_url" and not self.paging.get("next_path"):
            raise self._error("http.pagination.next_path: required for next_url pagination (where the next URL is "
                              "in each page)")
        size = self.paging.get("size")
        if size is not None and (type(size) is not int or size < 1):
            raise self._error("http.pagination.size: a whole number of at least 1")
        self.auth = self._dict(http, "auth")
        self.auth_type = self.auth.get("type", "none")
        if self.auth_type not in AUTH:
            raise self._error(f"http.auth.type: '{self.auth_type}' is not one of {', '.join(AUTH)}")
        required, optional = AUTH[self.auth_type]
        self._check_keys("http.auth", self.auth, required, required | optional | {"type"})
        if self.auth.get("client_auth", "basic") not in ("basic", "body"):
            raise self._error("http.auth.client_auth: basic or body")
        self._secrets: list[str] = []
        self._tokens: dict = {}
        self.for_each, self.listing = self._dict(http, "for_each"), None
        if self.for_each:
            self._check_keys("http.for_each", self.for_each, {"url", "value", "param"}, FOR_EACH)
            if "{" + str(self.for_each["param"]) + "}" not in self.url:
                raise self._error(f"url: no {{{self.for_each['param']}}} to fill from http.for_each")
            listing_http = {k: v for k, v in http.items() if k not in ("for_each", "pagination", "method", "body")}
            listing_http["pagination"] = self.for_each.get("pagination", self.paging)
            listing = {"url": self.for_each["url"], "http": listing_http}
            if self.for_each.get("records"):
                listing["records"] = self.for_each["records"]
            try:
                self.listing = HttpFormat(SourceSpec(f"{spec.name}.for_each", None, "http", listing, spec.declared))
            except MappingError as error:
                raise self._error(f"http.for_each: {error.message.split(': ', 1)[1]}") from None
            self.listing._tokens, self.listing._secrets = self._tokens, self._secrets

    # -- checks at compile time (MappingError placed at the source's declaration)
    def _error(self, message: str) -> MappingError:
        return MappingError(f"sources.{self.spec.name}: {message}", *self.spec.declared)

    def _dict(self, http: dict, key: str) -> dict:
        value = http.get(key) or {}
        if not isinstance(value, dict):
            raise self._error(f"http.{key}: must be a mapping")
        return value

    def _number(self, http: dict, key: str, default, low, high):
        value = http.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise self._error(f"http.{key}: a number from {low} to {high}")
        return value

    def _check_keys(self, where: str, given: dict, required: set, allowed: set) -> None:
        unknown = sorted(set(given) - allowed)
        if unknown:
            hint = " (secrets are never written in a mapping: name environment variables with *_env)" \
                if where.endswith("auth") else ""
            raise self._error(f"{where}.{unknown[0]}: unknown option{hint}; allowed: {', '.join(sorted(allowed))}")
        missing = sorted(required - set(given))
        if missing:
            raise self._error(f"{where}.{missing[0]}: required for {given.get('type', 'this type')}")
        for key in given:
            if key.endswith("_env") and (not isinstance(given[key], str) or not given[key]):
                raise self._error(f"{where}.{key}: the name of an environment variable")

    # -- reading
    def _redact(self, message: str) -> str:
        for secret in self._secrets:
            if secret and len(secret) >= 3:
                message = message.replace(secret, "***")
        return message

    def _fail(self, message: str) -> SourceError:
        return SourceError(self._redact(f"{self.label}: {message}"))

    def _env(self, key: str) -> str:
        name = self.auth[key]
        value = os.environ.get(name)
        if not value:
            raise self._fail(f"environment variable {name} is not set (http.auth.{key})")
        if value not in self._secrets:
            self._secrets.append(value)
        return value

    def _resolve(self, inputs, url: str | None = None) -> str:
        url = (url or self.url).strip()
        if urlsplit(url).scheme:
            resolved = url
        else:
            base = getattr(inputs, "base_url", None)
            if not base:
                raise self._fail(f"url {url} is relative: give the base URL as --source https://host")
            resolved = _under(base, url)
        parts = urlsplit(resolved)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self._fail(f"url {parts.scheme}://{parts.hostname}{parts.path}: not an http(s) URL")
        if parts.username or parts.password:
            raise self._fail(f"url {parts.path}: credentials in the URL are refused; use http.auth")
        return resolved

    def _check_transport(self, url: str) -> None:
        parts = urlsplit(url)
        if self.auth_type != "none" and parts.scheme != "https" and not _loopback(parts.hostname):
            raise self._fail(f"{parts.path}: refusing to send credentials over plain http to {parts.hostname}; "
                             "use https")

    def _token(self, session: requests.Session, inputs, renew: bool = False) -> str:
        token_url = self._resolve_token_url(inputs)
        client_id, secret = self._env("client_id_env"), self._env("client_secret_env")
        cache = getattr(inputs, "tokens", None)
        cache = self._tokens if cache is None else cache
        key = (token_url, client_id, self.auth.get("scope"))
        cached = cache.get(key)
        if cached and not renew and cached[1] > time.monotonic():
            if cached[0] not in self._secrets:
                self._secrets.append(cached[0])  # fetched by another source of the run: redacted here too
            return cached[0]
        self._check_transport(token_url)
        data = {"grant_type": "client_credentials"}
        if self.auth.get("scope"):
            data["scope"] = str(self.auth["scope"])
        auth = _Auth({})
        if self.auth.get("client_auth", "basic") == "basic":
            auth = HTTPBasicAuth(client_id, secret)
        else:
            data.update(client_id=client_id, client_secret=secret)
        path = urlsplit(token_url).path
        try:
            response = session.post(token_url, data=data, auth=auth, timeout=self.timeout,
                                    headers={"Accept": "application/json"}, allow_redirects=False)
        except requests.RequestException as error:
            raise self._fail(f"token endpoint {path}: {self._network_reason(error)}") from None
        if response.status_code != 200:
            raise self._fail(f"token endpoint {path}: HTTP {response.status_code} {response.reason or ''}".rstrip()
                             + self._oauth_error(response) + self._exhausted(response))
        try:
            body = orjson.loads(response.content)
            token = body["access_token"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise self._fail(f"token endpoint {path}: the response has no access_token") from None
        if not isinstance(token, str) or not token:
            raise self._fail(f"token endpoint {path}: the response has no access_token")
        if token not in self._secrets:
            self._secrets.append(token)
        expires = body.get("expires_in")
        lifetime = float(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) else 3600.0
        cache[key] = (token, time.monotonic() + max(lifetime - 30, 1))
        return token

    def _resolve_token_url(self, inputs) -> str:
        token_url = str(self.auth["token_url"])
        if urlsplit(token_url).scheme:
            return token_url
        base = getattr(inputs, "base_url", None)
        if not base:
            raise self._fail(f"http.auth.token_url {token_url} is relative: give the base URL as --source "
                             "https://host")
        return _under(base, token_url)

    @staticmethod
    def _oauth_error(response) -> str:
        try:
            code = orjson.loads(response.content).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            return ""
        return f" ({code})" if isinstance(code, str) and len(code) <= 60 and code.replace("_", "").isalnum() else ""

    def _exhausted(self, response) -> str:
        if response.status_code in RETRY_STATUSES:
            return f", still failing after {self.retries} retr{'y' if self.retries == 1 else 'ies'}"
        return ""

    @staticmethod
    def _network_reason(error: Exception) -> str:
        reason = getattr(error.args[0], "reason", None) if error.args else None  # urllib3's MaxRetryError
        if isinstance(error, requests.Timeout) or isinstance(reason, TimeoutError) or \
                type(reason).__name__.endswith("TimeoutError"):
            return "timed out"
        if isinstance(error, requests.exceptions.RetryError):
            return "too many retries"
        if isinstance(error, requests.exceptions.TooManyRedirects):
            return "too many redirects"
        if isinstance(error, requests.ConnectionError):
            return "cannot connect"
        return type(error).__name__

    def _auth_headers(self, session, inputs, renew: bool = False) -> dict:
        kind = self.auth_type
        if kind == "oauth2_client_credentials":
            return {"Authorization": f"Bearer {self._token(session, inputs, renew)}"}
        if kind == "bearer":
            return {"Authorization": f"Bearer {self._env('token_env')}"}
        if kind == "api_key":
            return {self.auth.get("header", "X-API-Key"): f"{self.auth.get('prefix', '')}{self._env('key_env')}"}
        if kind == "basic":
            username, password = self._env("username_env"), self._env("password_env")
            pair = base64.b64encode(f"{username}:{password}".encode()).decode()
            if pair not in self._secrets:
                self._secrets.append(pair)
            return {"Authorization": f"Basic {pair}"}
        return {}

    def _fetch(self, session, inputs, url: str, params: dict | None, number: int, origin: tuple):
        """One page: its parsed JSON body and the response; SourceError naming the path and page."""
        parts = urlsplit(url)
        path = parts.path or "/"
        if (parts.scheme, parts.netloc) != origin:
            raise self._fail(f"{path} page {number}: the next page is on another host ({parts.hostname}); refused")
        self._check_transport(url)
        headers = {"Accept": "application/json", **self.headers}
        for attempt in (1, 2):
            auth = _Auth(self._auth_headers(session, inputs, renew=attempt == 2))
            try:
                response = session.request(self.method, url, params=params, headers=headers, auth=auth,
                                           timeout=self.timeout, json=self.body if self.method == "POST" else None,
                                           allow_redirects=False, stream=True)
            except requests.RequestException as error:
                raise self._fail(f"{path} page {number}: {self._network_reason(error)}") from None
            if response.status_code == 401 and attempt == 1 and self.auth_type == "oauth2_client_credentials":
                response.close()
                continue  # the token may have expired: renew it once
            break
        with response:
            content = self._content(response, path, number)
        status = response.status_code
        if status == 404 and number == 1 and self.spec.options.get("optional"):
            return _MISSING, response
        if status >= 300:
            reason = f"HTTP {status} {response.reason or ''}".rstrip()
            if 300 <= status < 400:
                reason += " (redirects are not followed)"
            elif status in (401, 403):
                reason += " (check the credentials and their permissions)"
            raise self._fail(f"{path} page {number}: {reason}{self._exhausted(response)}")
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
            raise self._fail(f"{path} page {number}: the response is not JSON ({kind}, {len(content):,} bytes)") \
                from None
        return body, response

    def _content(self, response, path: str, number: int) -> bytes:
        """The body, read in chunks: a page larger than MAX_PAGE_BYTES stops the run before it fills memory."""
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > MAX_PAGE_BYTES:
                    raise self._fail(f"{path} page {number}: page larger than {MAX_PAGE_BYTES:,} bytes; "
                                     "use a smaller page size")
                chunks.append(chunk)
        except requests.RequestException as error:
            raise self._fail(f"{path} page {number}: {self._network_reason(error)}") from None
        return b"".join(chunks)

    def _records(self, body, path: str, number: int) -> list | None:
        """The records of a page; None when a later page has none (the end)."""
        records_path = self.spec.options.get("records")
        found = _path(body, records_path) if isinstance(body, dict) or not records_path else _MISSING
        if found is _MISSING or found is None or found == "":
            if number == 1 and found is _MISSING:
                raise self._fail(f"{path} page 1: no '{records_path}' in the response (records path)")
            return None
        if isinstance(found, dict):
            return [found]
        if not isinstance(found, list):
            raise self._fail(f"{path} page {number}: '{records_path or '(top)'}' holds {type(found).__name__}, "
                             "not records")
        return found

    def rows(self, inputs, wanted: set) -> Iterator[tuple]:
        """Every record of the endpoint, fetched the first time in a run and replayed afterwards."""
        return cached_rows(inputs, self, lambda: self._fetch_all(inputs))

    def _fetch_all(self, inputs) -> Iterator[tuple]:
        session = _session(self.retries, self.backoff)
        try:
            if self.listing is None:
                yield from self._walk(session, inputs, self._resolve(inputs))
                return
            for value in self._listed(inputs):
                url = self.url.replace("{" + self.for_each["param"] + "}", quote(value, safe=""))
                yield from self._walk(session, inputs, self._resolve(inputs, url))
        finally:
            session.close()

    def _listed(self, inputs) -> list[str]:
        """The values of ``for_each``: one text per listed record (in order, each once)."""
        member = self.for_each["value"]
        values: dict[str, None] = {}
        for _where, row, problem in self.listing.rows(inputs, set()):
            value = None if problem else row.get(member)
            if value is not None and value != "" and not isinstance(value, (dict, list)):
                values[text(value)] = None
        return list(values)

    def _walk(self, session, inputs, start_url: str) -> Iterator[tuple]:
        """Every page from one start URL, streamed record by record."""
        parts = urlsplit(start_url)
        origin = (parts.scheme, parts.netloc)
        kind, paging = self.paging_type, self.paging
        size = paging.get("size")
        params = dict(self.params)
        if size is not None and kind != "none":
            params[paging.get("size_param", "limit" if kind == "offset" else "pagesize")] = size
        position = paging.get("start", 0 if kind == "offset" else 1)
        url: str | None = start_url
        columns = self.spec.options.get("columns") or {}
        number, seen = 0, 0
        while url is not None:
            number += 1
            if number > self.max_pages:
                raise self._fail(f"{urlsplit(url).path} page {number}: more than {self.max_pages:,} pages "
                                 "(http.max_pages)")
            page_params = params
            if kind in ("offset", "page"):
                page_params = {**params, paging.get("param", kind): position}
            body, response = self._fetch(session, inputs, url, page_params, number, origin)
            path = urlsplit(response.url).path or "/"
            if body is _MISSING:
                self.notes.append(f"{self.label}: {path} answered 404 (optional source): no rows")
                return
            records = self._records(body, path, number)
            for index, record in enumerate(records or ()):
                where, row, problem = record_row(record, columns, f"{path} page {number} record {index}")
                if problem is None:
                    self._check_required(row, f"{self.label}:{where}")
                yield where, row, problem
            count = len(records or ())
            seen += count
            url, params = self._next(kind, body, response, url, params, count, seen, number)
            if kind == "page":
                position += 1
            elif kind == "offset":
                position += count  # the next offset is the number of records read so far

    def _next(self, kind, body, response, url, params, count, seen, number):
        """The URL (and query parameters) of the next page, or None at the end."""
        paging = self.paging
        if kind == "none" or count == 0:
            return None, params
        if kind in ("offset", "page"):
            size = paging.get("size")
            if size and count < size:
                return None, params
            total_path = paging.get("total_path")
            if total_path:
                total = _path(body, total_path) if isinstance(body, dict) else _MISSING
                try:
                    if seen >= int(total):
                        return None, params
                except (TypeError, ValueError):
                    raise self._fail(f"{urlsplit(url).path} page {number}: no total count at '{total_path}'") \
                        from None
            return url, params
        if kind == "cursor":
            cursor = _path(body, paging["cursor_path"]) if isinstance(body, dict) else None
            if cursor is _MISSING or cursor in (None, ""):
                return None, params
            return url, {**params, paging.get("param", "cursor"): cursor}
        if kind == "link":
            link = (response.links or {}).get("next", {}).get("url")
            return (urljoin(response.url, link), {}) if link else (None, params)
        found = _path(body, paging["next_path"]) if isinstance(body, dict) else None
        if found is _MISSING or found in (None, ""):
            return None, params
        if not isinstance(found, str):
            raise self._fail(f"{urlsplit(url).path} page {number}: '{paging['next_path']}' is not a URL")
        return urljoin(response.url, found), {}
