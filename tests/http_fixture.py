"""A small local HTTP API for tests of the ``http`` source format: routes answered by Python functions, every request
recorded (method, path, query, headers, body) so tests can count them and check what was sent.

    with ApiServer() as api:
        api.route("GET", "/items", lambda req: reply({"items": [...]}))
        api.url + "/items"; api.count("/items"); api.requests[0].headers["Authorization"]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict  # name -> last value
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


def reply(body=None, status: int = 200, headers: dict | None = None) -> tuple:
    """A handler's answer: a JSON-serialisable body (or bytes / str sent as they are), a status and headers."""
    if isinstance(body, (bytes, str)):
        raw = body.encode() if isinstance(body, str) else body
        kind = "text/plain"
    else:
        raw, kind = json.dumps(body).encode(), "application/json"
    return status, raw, {"Content-Type": kind, **(headers or {})}


class ApiServer:
    """ThreadingHTTPServer on 127.0.0.1 with an ephemeral port; stop() (or the with block) shuts it down."""

    def __init__(self):
        self.routes: dict = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                request = Request(self.command, parts.path, query, dict(self.headers.items()), body)
                with api._lock:
                    api.requests.append(request)
                handler = api.routes.get((self.command, parts.path))
                status, raw, headers = handler(request) if handler else reply({"error": "not found"}, 404)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve

            def log_message(self, *_args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_args: None  # a client that gave up (timeout tests) is not an error here
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def route(self, method: str, path: str, handler) -> None:
        self.routes[(method, path)] = handler

    def serve_json(self, path: str, body, method: str = "GET") -> None:
        self.route(method, path, lambda _request: reply(body))

    def count(self, path: str, method: str | None = None) -> int:
        return sum(1 for r in self.requests if r.path == path and (method is None or r.method == method))

    def start(self) -> "ApiServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "ApiServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def oauth_token_route(api: ApiServer, path: str, client_id: str, secret: str, token: str, expires_in: int = 3600):
    """An OAuth 2 client-credentials token endpoint accepting these credentials (Basic header or form body)."""
    import base64

    expected = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def handler(request: Request):
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        ok_basic = request.headers.get("Authorization") == expected
        ok_body = form.get("client_id") == client_id and form.get("client_secret") == secret
        if form.get("grant_type") != "client_credentials" or not (ok_basic or ok_body):
            return reply({"error": "invalid_client"}, 401)
        return reply({"access_token": token, "token_type": "Bearer", "expires_in": expires_in})

    api.route("POST", path, handler)
