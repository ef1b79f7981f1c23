"""Per-app rate limits and a brute-force guard on the OAuth endpoints (flask-limiter and its ``limits`` library).

API requests are counted per app (its client id, known once :func:`gateway.auth.require` has authenticated the
request), not per IP address: a district's vendors share few addresses, and one app must not exhaust another's
allowance. The limit is the app's own ``apps.rate_limit`` when the district set one, else ``TRELLIS_RATELIMIT_DEFAULT``
(flask-limiter notation, e.g. ``1200/minute`` or ``20/second;1200/minute``). Over the limit, the answer is 429 in the
error format of the standard the request was addressed to, with ``Retry-After`` (seconds until the window resets).
:func:`hit` counts with the fixed-window strategy and storage flask-limiter configured, directly: flask-limiter's
per-request machinery is built for decorated views and costs several times the counting itself on every API call.

The OAuth endpoints (token, revocation, introspection) check client secrets before anyone is authenticated, so they
share one limit per remote address (``TRELLIS_TOKEN_RATELIMIT``), applied by flask-limiter to their blueprint; their
429 has OAuth's JSON error shape. Behind a reverse proxy the remote address is the proxy's unless the deployment sets
up ProxyFix.

Counters live in memory (one process) or in Redis (``TRELLIS_RATELIMIT_STORAGE_URL=redis://...``, shared by every
process and server). When Redis is unreachable the gateway **fails open to per-server limits**: it counts in this
process's memory for a while (flask-limiter's in-memory fallback does the same for the OAuth endpoints), logs a
warning, and then tries Redis again. Rate limits protect availability, not confidentiality: refusing every request
because the counter store is down would turn a Redis outage into a gateway outage.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache
from typing import Any

import orjson
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask_limiter import Limiter
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from limits.strategies import RateLimiter

from gateway.errors import TooManyRequests
from gateway.errors import render

log = logging.getLogger(__name__)

OAUTH_BLUEPRINT = "oauth"
FALLBACK_SECONDS = 30  # how long to count in memory after the shared storage failed, before trying it again


class MemoryCounters(MemoryStorage):
    """``limits``' in-memory storage, without starting a thread for every write.

    ``MemoryStorage`` starts a timer thread to drop expired counters whenever the previous one has finished (10 ms
    after it started): on a busy server that is a new thread per request, and starting one under load can take
    milliseconds. Here expired counters are dropped by the writing thread, at most once a second (reads already
    ignore expired counters).
    """

    STORAGE_SCHEME = ["trellis+memory"]

    def __init__(self, uri: str | None = None, **options: Any) -> None:
        super().__init__(uri, **options)
        self.next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces MemoryStorage's per-write timer
        now = time.time()
        if now >= self.next_sweep:
            self.next_sweep = now + 1
            self._MemoryStorage__expire_events()


@lru_cache(maxsize=256)
def _rates(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(sorted(parse_many(text)))  # the shortest window first, as flask-limiter checks them


class Limits:
    """The app's limiter (the OAuth endpoints' guard) and the per-app counting of authenticated requests."""

    def __init__(self, app: Flask) -> None:
        storage = app.config["TRELLIS_RATELIMIT_STORAGE_URL"]
        if storage.startswith("memory://"):
            storage = "trellis+" + storage
        # A dead Redis must cost a request milliseconds, not the operating system's connect timeout.
        options = {"socket_connect_timeout": 1, "socket_timeout": 1} if storage.startswith("redis") else {}
        self.prefix = app.config.get("RATELIMIT_KEY_PREFIX") or "trellis"
        self.limiter = Limiter(get_remote_address, app=app, storage_uri=storage, storage_options=options,
                               strategy="fixed-window", key_prefix=self.prefix, request_identifier=_identity,
                               in_memory_fallback_enabled=True, headers_enabled=False)
        self.limiter.shared_limit(app.config["TRELLIS_TOKEN_RATELIMIT"], scope="oauth-endpoints",
                                  key_func=get_remote_address)(app.blueprints[OAUTH_BLUEPRINT])
        self.fallback: RateLimiter | None = None
        self.fallback_until = 0.0
        self.guarded: set[str] = set()

    def guard(self, app: Flask, endpoint: str) -> None:
        """Give another credentials endpoint (the admin token endpoint) the same per-address limit."""
        self.guarded.add(endpoint)
        app.view_functions[endpoint] = self.limiter.shared_limit(
            app.config["TRELLIS_TOKEN_RATELIMIT"], scope="credential-endpoints",
            key_func=get_remote_address)(app.view_functions[endpoint])

    def strategy(self) -> RateLimiter:
        if self.fallback is not None and time.monotonic() < self.fallback_until:
            return self.fallback
        return self.limiter.limiter

    def count(self, client_id: str, rate: str) -> tuple[RateLimitItem, int] | None:
        """Count one request of the app; the limit it exceeds and the seconds until that window resets, or None."""
        strategy = self.strategy()
        try:
            return self._count(strategy, client_id, rate)
        except Exception as error:  # the shared storage failed (storages raise their driver's own errors)
            if strategy is self.fallback:
                raise
            log.warning("rate-limit storage unreachable (%s); counting in this process's memory for %d s",
                        type(error).__name__, FALLBACK_SECONDS)
            if self.fallback is None:
                self.fallback = FixedWindowRateLimiter(MemoryCounters())
            self.fallback_until = time.monotonic() + FALLBACK_SECONDS
            return self._count(self.fallback, client_id, rate)

    def _count(self, strategy: RateLimiter, client_id: str, rate: str) -> tuple[RateLimitItem, int] | None:
        keys = (self.prefix, client_id, "app")
        for item in _rates(rate):
            if not strategy.hit(item, *keys):
                reset = strategy.get_window_stats(item, *keys).reset_time
                return item, max(1, math.ceil(reset - time.time()))
        return None

    def retry_after(self) -> int:
        """Seconds until the OAuth endpoints' breached window resets (at least 1)."""
        breached = self.limiter.current_limit
        if breached is None:
            return 1
        try:
            return max(1, math.ceil(breached.window.reset_time - time.time()))
        except Exception:  # the storage failed between the hit and this look-up: a whole window is a safe answer
            return max(1, breached.limit.get_expiry())


def _credential_endpoint() -> bool:
    return request.blueprint == OAUTH_BLUEPRINT or request.endpoint in current_app.extensions[
        "trellis.ratelimit"].guarded


def _identity() -> str:
    """flask-limiter's name for a request: its endpoint on a credentials endpoint; the API is counted by :func:`hit`."""
    return (request.endpoint or "") if _credential_endpoint() else ""


def hit(token: Any) -> None:
    """Count the authenticated request against its app's limit; :class:`TooManyRequests` when over it."""
    rate = token.rate_limit or current_app.config["TRELLIS_RATELIMIT_DEFAULT"]
    if not rate:
        return
    exceeded = current_app.extensions["trellis.ratelimit"].count(token.client_id, rate)
    if exceeded is not None:
        item, seconds = exceeded
        raise TooManyRequests(f"This app's rate limit ({item}) is exhausted; retry in {seconds} seconds",
                              headers={"Retry-After": str(seconds)})


def _too_many(exceeded: RateLimitExceeded) -> Response:
    """The credentials endpoints' 429, in OAuth's JSON error shape."""
    seconds = current_app.extensions["trellis.ratelimit"].retry_after()
    if not _credential_endpoint():  # no other limit is left to flask-limiter; rendered like any 429
        return render(TooManyRequests(headers={"Retry-After": str(seconds)}))
    body = {"error": "temporarily_unavailable",
            "error_description": f"Too many requests from this address ({exceeded.description}); retry in {seconds} "
                                 "seconds"}
    return Response(orjson.dumps(body), status=429, mimetype="application/json",
                    headers={"Retry-After": str(seconds), "Cache-Control": "no-store", "Pragma": "no-cache"})


def init_app(app: Flask) -> None:
    app.extensions["trellis.ratelimit"] = Limits(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
