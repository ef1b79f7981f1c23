"""One error hierarchy, rendered in one place per standard.

::

    GatewayError                    status, code_minor, description
    ├── BadRequest                  400 invaliddata
    │   ├── InvalidFilterField      400 invalid_filter_field
    │   ├── InvalidSelectionField   400 invalid_selection_field
    │   └── InvalidSortField        400 invalid_sort_field
    ├── Unauthorized                401 unauthorisedrequest
    ├── Forbidden                   403 forbidden
    ├── UnknownObject               404 unknownobject
    ├── MethodNotAllowed            405 unsupported
    ├── UnprocessableEntity         422 invaliddata
    ├── TooManyRequests             429 server_busy
    └── InternalError               500 internal_server_error

Views raise these; :func:`register_error_handlers` turns them (and any other exception) into the payload of the
standard the request was addressed to: the OneRoster 1.2 ``imsx_StatusInfo`` object, the OneRoster 1.1
``statusInfoSet`` array, or a plain JSON problem for everything else. No request ever gets an HTML page or a trace.
"""

from __future__ import annotations

import logging
import traceback
import uuid

import orjson
from flask import Flask
from flask import Response
from flask import request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class GatewayError(Exception):
    status = 500
    code_minor = "internal_server_error"
    description = "Internal error"

    def __init__(self, description: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(description or self.description)
        self.description = description or self.description
        self.headers = headers or {}


class BadRequest(GatewayError):
    status, code_minor, description = 400, "invaliddata", "Invalid request"


class InvalidFilterField(BadRequest):
    code_minor = "invalid_filter_field"


class InvalidSelectionField(BadRequest):
    code_minor = "invalid_selection_field"


class InvalidSortField(BadRequest):
    code_minor = "invalid_sort_field"


class Unauthorized(GatewayError):
    status, code_minor, description = 401, "unauthorisedrequest", "Unauthorized"


class Forbidden(GatewayError):
    status, code_minor, description = 403, "forbidden", "Forbidden"


class UnknownObject(GatewayError):
    status, code_minor, description = 404, "unknownobject", "Unknown Object"


class MethodNotAllowed(GatewayError):
    status, code_minor, description = 405, "unsupported", "Method not allowed"


class UnprocessableEntity(GatewayError):
    status, code_minor, description = 422, "invaliddata", "Invalid data"


class TooManyRequests(GatewayError):
    status, code_minor, description = 429, "server_busy", "Too many requests"


class InternalError(GatewayError):
    pass


_HTTP_EXCEPTIONS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: UnknownObject, 405: MethodNotAllowed,
                    422: UnprocessableEntity, 429: TooManyRequests}

# 1.1 has no invalid_filter_field code minor; its nearest value is invaliddata.
_V1P1_CODE_MINOR = {"invalid_filter_field": "invaliddata", "forbidden": "unauthorisedrequest",
                    "server_busy": "invaliddata", "internal_server_error": "invaliddata",
                    "unsupported": "unsupportedoperation"}


def status_info(error: GatewayError) -> dict:
    """The OneRoster ``imsx_StatusInfo`` object for an error."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": error.description,
        "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": error.code_minor}]},
    }


def render(error: GatewayError) -> Response:
    """Render an error in the payload of the standard the request path belongs to."""
    path = request.path
    if path.startswith("/ims/oneroster/v1p1"):
        info = status_info(error)
        code = info["imsx_CodeMinor"]["imsx_codeMinorField"][0]
        code["imsx_codeMinorFieldValue"] = _V1P1_CODE_MINOR.get(error.code_minor, error.code_minor)
        info["imsx_messageRefIdentifier"] = str(uuid.uuid4())
        body: dict = {"statusInfoSet": [info]}
    elif path.startswith("/ims/"):
        body = status_info(error)
    else:
        body = {"error": error.code_minor, "status": error.status, "detail": error.description}
    response = Response(orjson.dumps(body), status=error.status, mimetype="application/json")
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GatewayError)
    def _gateway_error(error: GatewayError):
        return render(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        cls = _HTTP_EXCEPTIONS.get(error.code or 500, InternalError)
        description = cls.description if error.code == 404 else (error.description or cls.description)
        return render(cls(description))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.error("unhandled %s on %s %s at %s", type(error).__name__, request.method, request.path, where(error))
        return render(InternalError())


def where(error: BaseException) -> str:
    """The innermost frames of an exception as ``file:line function``, never its message or arguments.

    An exception's text may quote the data being processed (a student's name in a KeyError, a row in a driver
    error), and logs must never hold student values; the frames are enough to find the fault.
    """
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    return " <- ".join(f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {frame.name}" for frame in reversed(frames))
