"""The OpenAPI 3.0 document of the parent / eligible-student API (:mod:`gateway.api.privacy_me`).

Written out as data rather than generated: two endpoints with hand-made payloads, described for the people and
tools that integrate a district's parent portal. Served at ``GET /privacy/v1/openapi.json``; like the OneRoster
documents (:mod:`gateway.api.discovery`), ``servers`` comes from ``TRELLIS_PUBLIC_URL`` only, never from the request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from gateway.privacy.disclosures import MAX_LIMIT

OPENAPI_VERSION = "3.0.3"
_REF = "#/components/schemas/"


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


_SCHEMAS: dict[str, Any] = {
    "AppRef": {"type": "object", "required": ["clientId", "name", "vendor"], "properties": {
        "clientId": _string("The app's client id."),
        "name": _string("The app's name as registered by the district.", nullable=True),
        "vendor": _string("The company or organisation behind the app.", nullable=True)}},
    "Disclosure": {"type": "object",
                   "required": ["seq", "occurredAt", "app", "endpoint", "recordType", "fields", "purpose"],
                   "properties": {
                       "seq": {"type": "integer", "description": "Position in the district's disclosure log; pass "
                                                                 "the last one seen as 'after' for the next page."},
                       "occurredAt": _string("When the app received the data (UTC).", format="date-time"),
                       "app": {"$ref": _REF + "AppRef"},
                       "endpoint": _string("The API route the app called, e.g. "
                                           "/ims/oneroster/rostering/v1p2/users/{sourcedId}."),
                       "recordType": _string("The kind of record sent: user, enrollment, demographics, result."),
                       "records": _strings("The ids of this student's own records in the response (never another "
                                           "student's). Absent when they cannot be told apart."),
                       "fields": _strings("The names of the fields sent (never their values)."),
                       "purpose": _string("The purpose recorded with the disclosure (else the purpose the district "
                                          "states for the app).", nullable=True)}},
    "Disclosures": {"type": "object", "required": ["disclosures"], "properties": {
        "disclosures": {"type": "array", "items": {"$ref": _REF + "Disclosure"}},
        "next": _string("Relative URL of the next page; absent on the last page.")}},
    "App": {"type": "object",
            "required": ["clientId", "name", "vendor", "purpose", "dpaExpires", "pairwise", "fields"],
            "properties": {
                "clientId": _string("The app's client id."),
                "name": _string("The app's name as registered by the district."),
                "vendor": _string("The company or organisation behind the app.", nullable=True),
                "purpose": _string("Why the district lets the app see student data.", nullable=True),
                "dpaExpires": _string("Last day of the district's data-privacy agreement with the app; null: no "
                                      "expiry recorded.", format="date", nullable=True),
                "pairwise": {"type": "boolean", "description": "True: the app receives a pseudonymous id of its own "
                                                               "for the student, not the district's id."},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                           "description": "OneRoster class (User, Enrollment, Demographics, Result) → the fields of "
                                          "it the app may read, as dotted paths. A class the app may not read is "
                                          "absent."}}},
    "Apps": {"type": "object", "required": ["apps", "optedOut"], "properties": {
        "apps": {"type": "array", "items": {"$ref": _REF + "App"},
                 "description": "Every app of the district that may see the student now: active, agreement in "
                                "force, the student within its schools, and not opted out."},
        "optedOut": {"type": "array", "items": {"$ref": _REF + "AppRef"},
                     "description": "Active apps that would see the student but for the student's opt-out."}}},
    "Error": {"type": "object", "required": ["error", "status", "detail"], "properties": {
        "error": _string("Error code, e.g. unauthorisedrequest or invaliddata."),
        "status": {"type": "integer", "description": "The HTTP status."},
        "detail": _string("What went wrong; for a bad parameter, names it.")}},
}


def _error(description: str, challenge: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}}}
    if challenge:
        response["headers"] = {"WWW-Authenticate": {"description": "AccessCode realm=\"trellis-privacy\"",
                                                    "schema": {"type": "string"}}}
    return response


_RESPONSES = {
    "BadRequest": _error("A bad or unknown query parameter (the message names it), or an access code put in the URL."),
    "Unauthorized": _error("No access code in the Authorization header, or one that is unknown, expired or revoked.",
                           challenge=True),
}

_PARAMETERS = [
    {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "Only disclosures on or after this day (UTC)."},
    {"name": "until", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "Only disclosures on or before this day (UTC)."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
     "description": "Page size."},
    {"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
     "description": "Only entries after this seq (the last seq of the previous page)."},
]


def _operation(operation_id: str, summary: str, description: str, schema: str,
               parameters: list | None = None) -> dict[str, Any]:
    return {"operationId": operation_id, "tags": ["Me"], "summary": summary, "description": description,
            "parameters": parameters or [], "security": [{"AccessCode": []}, {"BearerCode": []}],
            "responses": {"200": {"description": "OK. Sent with Cache-Control: no-store.",
                                  "content": {"application/json": {"schema": {"$ref": _REF + schema}}}},
                          "400": {"$ref": "#/components/responses/BadRequest"},
                          "401": {"$ref": "#/components/responses/Unauthorized"}}}


def build_document(server_url: str = "") -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Trellis privacy API for parents and eligible students", "version": "1",
                 "description": "Which apps received a student's data and which apps may see it. A district "
                                "administrator issues an access code for one student; it expires and can be revoked. "
                                "Send it in the Authorization header, never in the URL. The answers concern that "
                                "student only."},
    }
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/")}]
    document["tags"] = [{"name": "Me", "description": "The student the access code stands for."}]
    document["paths"] = {
        "/privacy/v1/me/disclosures": {"get": _operation(
            "getMyDisclosures", "Disclosures of the student's data",
            "Entries of the district's disclosure log that concern the student, oldest first: which app, when, "
            "through which endpoint, which fields and for what purpose.", "Disclosures", _PARAMETERS)},
        "/privacy/v1/me/apps": {"get": _operation(
            "getMyApps", "Apps that may see the student",
            "Every app of the student's district that may currently see the student, and the fields of each "
            "OneRoster class holding student data that it may read.", "Apps")},
    }
    document["components"] = {
        "schemas": _SCHEMAS,
        "responses": _RESPONSES,
        "securitySchemes": {
            "AccessCode": {"type": "apiKey", "in": "header", "name": "Authorization",
                           "description": "The header value 'AccessCode <code>', with the code the district issued "
                                          "(groups of letters and digits; case, spaces and hyphens do not matter)."},
            "BearerCode": {"type": "http", "scheme": "bearer",
                           "description": "The same access code sent as a Bearer token."}},
    }
    return document


@cache
def document_bytes(server_url: str = "") -> bytes:
    return orjson.dumps(build_document(server_url))
