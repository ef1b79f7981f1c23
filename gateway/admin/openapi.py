"""The OpenAPI 3.0 document of the admin API (``GET /admin/v1/openapi.json``).

Why generated: request bodies come from the same marshmallow schemas that validate them
(:func:`gateway.admin.schemas.json_schema`), so the document cannot drift from what the server accepts. Responses
are described here by hand; they are small and change with the views next door.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gateway.admin import schemas

_NULLABLE_TEXT = {"type": "string", "nullable": True}
_TEXT = {"type": "string"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_RESPONSES = {
    "App": _object({
        "clientId": _TEXT, "district": _TEXT, "name": _TEXT, "vendor": _NULLABLE_TEXT, "purpose": _NULLABLE_TEXT,
        "dpaReference": _NULLABLE_TEXT, "dpaExpires": {"type": "string", "format": "date", "nullable": True},
        "contact": _NULLABLE_TEXT, "scopes": _array(_TEXT), "status": {"type": "string", "enum": ["active", "suspended"]},
        "createdAt": {"type": "string", "format": "date-time"}, "allowedOrgs": {**_array(_TEXT), "nullable": True},
        "profileName": _NULLABLE_TEXT, "hasProfile": {"type": "boolean"}, "pairwise": {"type": "boolean"},
        "oauth1": {"type": "boolean"}, "rateLimit": _NULLABLE_TEXT}),
    "AppEnvelope": _object({"app": ref("App")}, ["app"]),
    "AppList": _object({"apps": _array(ref("App"))}, ["apps"]),
    "AppCreated": _object({"app": ref("App"), "clientId": _TEXT, "credentialId": _TEXT, "clientSecret": {
        "type": "string", "description": "shown only in this response; store it safely"}},
        ["app", "clientId", "clientSecret", "credentialId"]),
    "Credential": _object({"credentialId": _TEXT, "createdAt": _TEXT, "expiresAt": _NULLABLE_TEXT,
                           "oauth1": {"type": "boolean"},
                           "state": {"type": "string", "enum": ["active", "expired", "revoked"]}}),
    "CredentialList": _object({"credentials": _array(ref("Credential"))}),
    "Rotated": _object({"clientId": _TEXT, "credentialId": _TEXT, "clientSecret": {
        "type": "string", "description": "shown only in this response"}, "previousCredentialsExpireAt": _TEXT}),
    "Revoked": _object({"revoked": {"type": "integer", "description": "how many credentials were revoked"}}),
    "District": _object({"district": _object({"id": _TEXT, "name": _TEXT, "createdAt": _TEXT,
                                              "apps": {"type": "integer"}})}),
    "OptOut": _object({"studentId": _TEXT, "app": {"type": "string", "description": "client id or 'directory'"},
                       "optedOut": {"type": "boolean"}}),
    "IssuedCode": _object({"codeId": _TEXT, "code": {"type": "string", "description": "shown only in this response"},
                           "studentId": _TEXT, "expiresAt": _TEXT}),
    "AccessCodeList": _object({"accessCodes": _array(_object({
        "codeId": _TEXT, "studentId": _TEXT, "createdAt": _TEXT, "createdBy": _TEXT, "expiresAt": _TEXT,
        "revoked": {"type": "boolean"}}))}),
    "RevokedCode": _object({"codeId": _TEXT, "studentId": _TEXT, "revoked": {"type": "boolean"}}),
    "Disclosures": _object({"disclosures": _array(_object({
        "seq": {"type": "integer"}, "occurredAt": _TEXT, "app": _TEXT, "endpoint": _TEXT, "purpose": _TEXT,
        "recordType": _TEXT, "recordIds": _array(_TEXT), "fields": _array(_TEXT), "studentIds": _array(_TEXT)})),
        "next": {"type": "integer", "nullable": True, "description": "pass as ?after= for the next page"}}),
    "Verified": _object({"ok": {"type": "boolean"}, "firstBadSeq": {"type": "integer", "nullable": True}}),
    "DisclosureApps": _object({"apps": _array(_object({
        "app": _TEXT, "entries": {"type": "integer"}, "firstAt": _TEXT, "lastAt": _TEXT}))}),
    "Changes": _object({"changes": _array(_object({
        "seq": {"type": "integer"}, "actor": {"type": "string", "description": "admin:<id> or cli:<os user>"},
        "occurredAt": _TEXT, "action": _TEXT, "target": _TEXT,
        "details": {"type": "object", "additionalProperties": True,
                    "description": "changed fields as {old, new}; never secrets or profile bodies"}})),
        "next": {"type": "integer", "nullable": True}}),
    "Token": _object({"access_token": _TEXT, "token_type": {"type": "string", "enum": ["Bearer"]},
                      "expires_in": {"type": "integer"}, "scope": _TEXT}),
    "Problem": _object({"error": _TEXT, "status": {"type": "integer"}, "detail": _TEXT, "message": _TEXT,
                        "fields": {"type": "object", "additionalProperties": _array(_TEXT),
                                   "description": "each invalid field with its messages"}},
                       ["error", "status", "message"]),
}

_REQUESTS = {"AppCreate": schemas.AppCreate(), "AppUpdate": schemas.AppUpdate(),
             "AllowedOrgs": schemas.AllowedOrgs(), "Rotate": schemas.Rotate(),
             "AccessCodeIssue": schemas.AccessCodeIssue()}


def _json(schema_name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": ref(schema_name)}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, **_json("Problem")}


def _operation(summary: str, response: str, status: str = "200", body: str | None = None,
               params: list[dict] | None = None, errors: tuple[str, ...] = ("401", "404")) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {status: {"description": "OK", **_json(response)}}}
    texts = {"400": "invalid body or parameter (fields names each bad field)", "401": "missing or invalid admin token",
             "404": "unknown here (or of another district)", "409": "conflicts with the current state"}
    for code in errors:
        operation["responses"][code] = _problem(texts[code])
    if body:
        operation["requestBody"] = {"required": True, **_json(body)}
        operation["responses"].setdefault("400", _problem(texts["400"]))
    if params:
        operation["parameters"] = params
    return operation


def _path(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]


def _paths() -> dict[str, Any]:
    app, cred = _path("clientId"), _path("clientId", "credentialId")
    return {
        "/admin/v1/token": {"post": {
            "summary": "Get an admin access token (client credentials, HTTP Basic: admin id and secret)",
            "security": [{"adminBasic": []}],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _object(
                {"grant_type": {"type": "string", "enum": ["client_credentials"]}}, ["grant_type"])}}},
            "responses": {"200": {"description": "token", **_json("Token")},
                          "400": {"description": "OAuth error"}, "401": {"description": "invalid_client"}}}},
        "/admin/v1/district": {"get": _operation("The admin's district", "District")},
        "/admin/v1/apps": {
            "get": _operation("The district's apps", "AppList", errors=("401",)),
            "post": _operation("Register an app; the secret is shown once", "AppCreated", "201", "AppCreate")},
        "/admin/v1/apps/{clientId}": {
            "parameters": app,
            "get": _operation("One app", "AppEnvelope"),
            "patch": _operation("Change metadata, scopes, pairwise, oauth1 or rateLimit", "AppEnvelope",
                                body="AppUpdate")},
        "/admin/v1/apps/{clientId}/suspend": {"parameters": app, "post": _operation(
            "Suspend: refused from its next request", "AppEnvelope")},
        "/admin/v1/apps/{clientId}/activate": {"parameters": app, "post": _operation("Re-activate", "AppEnvelope")},
        "/admin/v1/apps/{clientId}/profile": {
            "parameters": app,
            "put": {**_operation("Set the field profile (Ed-Fi API Profile XML); errors name the line", "AppEnvelope",
                                 params=[{"name": "profileName", "in": "query", "required": False,
                                          "schema": {"type": "string"}}], errors=("400", "401", "404")),
                    "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}},
            "delete": _operation("Remove the profile (tier-0 fields only)", "AppEnvelope")},
        "/admin/v1/apps/{clientId}/orgs": {"parameters": app, "put": _operation(
            "Limit the app to some orgs", "AppEnvelope", body="AllowedOrgs")},
        "/admin/v1/apps/{clientId}/credentials": {"parameters": app, "get": _operation(
            "The app's credentials (never secrets)", "CredentialList")},
        "/admin/v1/apps/{clientId}/credentials/rotate": {"parameters": app, "post": _operation(
            "New secret (shown once); the current ones work for graceSeconds more", "Rotated", "201", "Rotate")},
        "/admin/v1/apps/{clientId}/credentials/revoke": {"parameters": app, "post": _operation(
            "Revoke every credential and its tokens at once", "Revoked")},
        "/admin/v1/apps/{clientId}/credentials/{credentialId}/revoke": {"parameters": cred, "post": _operation(
            "Revoke one credential and its tokens at once", "Revoked", errors=("401", "404", "409"))},
        "/admin/v1/students/{studentId}/opt-outs/{target}": {
            "parameters": _path("studentId", "target"),
            "put": _operation("Opt the student out of one app (client id) or every app ('directory')", "OptOut"),
            "delete": _operation("Withdraw the opt-out", "OptOut")},
        "/admin/v1/students/{studentId}/access-codes": {
            "parameters": _path("studentId"),
            "post": _operation("Issue a parent / eligible-student access code (shown once)", "IssuedCode", "201",
                               "AccessCodeIssue"),
            "get": _operation("The student's access codes (never the codes)", "AccessCodeList")},
        "/admin/v1/access-codes/{codeId}/revoke": {"parameters": _path("codeId"), "post": _operation(
            "Revoke an access code", "RevokedCode", errors=("401", "404", "409"))},
        "/admin/v1/disclosures": {"get": _operation(
            "The district's disclosure log: what an app received, when; which apps received a field",
            "Disclosures", params=schemas.parameters(schemas.DisclosureQuery()), errors=("400", "401"))},
        "/admin/v1/disclosures/apps": {"get": _operation(
            "Which apps received matching disclosures (e.g. a field): entries and first / last time per app",
            "DisclosureApps", params=schemas.parameters(schemas.DisclosureSummaryQuery()), errors=("400", "401"))},
        "/admin/v1/disclosures/verify": {"get": _operation(
            "Check the disclosure log's hash chain (global): ok, or the first bad seq", "Verified",
            errors=("401",))},
        "/admin/v1/changes": {"get": _operation(
            "The district's admin change log: who, when, what changed", "Changes",
            params=schemas.parameters(schemas.Page()), errors=("400", "401"))},
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    components = {name: schemas.json_schema(schema) for name, schema in _REQUESTS.items()}
    components.update(_RESPONSES)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Trellis district admin API", "version": "1",
                 "description": "Manage one district's apps, credentials, students' privacy choices, and read its "
                                "disclosure and change logs. Every call acts on the admin token's district only."},
        "servers": [{"url": "/"}],
        "security": [{"adminToken": []}],
        "paths": _paths(),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "adminToken": {"type": "oauth2", "description": "admin bearer token (not an app token)",
                               "flows": {"clientCredentials": {"tokenUrl": "/admin/v1/token",
                                                               "scopes": {"admin": "manage the admin's district"}}}},
                "adminBasic": {"type": "http", "scheme": "basic", "description": "admin id and secret"},
            },
        },
    }
