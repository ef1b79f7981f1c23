"""Admin API errors: the gateway's one hierarchy (:mod:`gateway.errors`), plus a field map for invalid bodies.

Why a field map: an admin tool must be able to point at the offending input, so a 400 names each bad field (``fields``:
``{"dpaExpires": ["Not a valid date."]}``). The body is the gateway's plain JSON problem (``error``, ``status``,
``detail``) with ``message`` (the same text) and ``fields`` added, so every admin error has one shape.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response

from gateway.errors import BadRequest
from gateway.errors import GatewayError
from gateway.errors import render


class Conflict(GatewayError):
    """The request contradicts the object's current state (e.g. revoking a credential that is already revoked)."""

    status, code_minor, description = 409, "conflict", "Conflict"


class InvalidBody(BadRequest):
    """A request body or parameter failed validation; ``fields`` maps each bad field to its messages."""

    def __init__(self, description: str | None = None, fields: dict[str, Any] | None = None):
        super().__init__(description)
        self.fields = fields or {}


def invalid(field: str, message: str) -> InvalidBody:
    return InvalidBody(f"{field}: {message}", {field: [message]})


def render_admin(error: GatewayError) -> Response:
    """The gateway's JSON problem for ``error`` with ``message`` and ``fields`` added."""
    response = render(error)
    body = orjson.loads(response.get_data())
    body["message"] = error.description
    body["fields"] = getattr(error, "fields", {})
    response.set_data(orjson.dumps(body))
    return response
