"""The admin API's blueprint and the plumbing its views share: authentication, bodies, responses, errors.

Why here and not in each view: every ``/admin/v1`` route except the token endpoint and the OpenAPI document requires
an admin token, and the district a request acts on is always the token's (``g.admin``), never a URL or body value.
Doing that once, before any view runs, means a new view cannot forget it. Every admin response is ``no-store``:
they carry secrets (create, rotate, access codes) or student ids.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request
from marshmallow import Schema
from werkzeug.exceptions import HTTPException

from gateway.admin.auth import Admin
from gateway.admin.auth import require_admin
from gateway.admin.auth import token_response
from gateway.admin.errors import InvalidBody
from gateway.admin.errors import render_admin
from gateway.admin.schemas import load
from gateway.errors import GatewayError
from gateway.errors import MethodNotAllowed
from gateway.errors import UnknownObject

PREFIX = "/admin/v1"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

bp = Blueprint("admin", __name__, url_prefix=PREFIX)
_PUBLIC = frozenset({"admin.token", "admin.openapi", "admin.unknown"})


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in _PUBLIC:
        g.admin = require_admin()


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.errorhandler(GatewayError)
def _gateway_error(error: GatewayError) -> Response:
    return render_admin(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    problem = GatewayError(error.description)
    problem.status = error.code or 500
    problem.code_minor = "invaliddata" if problem.status < 500 else "internal_server_error"
    return render_admin(problem)


def admin() -> Admin:
    """The authenticated admin of this request (its ``tenant`` is the only district the request may touch)."""
    return g.admin


def json_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON object, validated by ``schema``; a 400 naming the fields otherwise."""
    if not request.is_json:
        raise InvalidBody("send a JSON object with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidBody("the request body is not valid JSON")
    return load(schema, data)


def query_args(schema: Schema) -> dict[str, Any]:
    return load(schema, request.args.to_dict(flat=True), "query parameters")


def respond(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(orjson.dumps(payload), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.post("/token")
def token():
    """OAuth 2.0 client credentials for admins (HTTP Basic: admin id and secret)."""
    return token_response()


@bp.get("/openapi.json")
def openapi():
    from gateway.admin.openapi import document

    return respond(document())


@bp.route("/", defaults={"rest": ""}, methods=list(METHODS))
@bp.route("/<path:rest>", methods=list(METHODS))
def unknown(rest: str):
    """Anything else under /admin/v1: a JSON 404 (or 405 with Allow when the path exists for other methods)."""
    adapter = current_app.url_map.bind("localhost")
    allowed = set()
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "admin.unknown":
            allowed.add(method)
    if allowed:
        raise MethodNotAllowed(f"{request.method} is not allowed here; allowed: {', '.join(sorted(allowed))}",
                               headers={"Allow": ", ".join(sorted(allowed))})
    raise UnknownObject("No such admin endpoint (see /admin/v1/openapi.json)")
