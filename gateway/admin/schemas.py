"""Request boundaries of the admin API: marshmallow schemas, and their JSON Schema for the OpenAPI document.

Why strict schemas: an admin request changes what vendors may read, so a misspelt field must not be ignored
silently. Unknown fields are refused, booleans must be JSON booleans and numbers JSON numbers, and every error names
its field (:class:`gateway.admin.errors.InvalidBody`). Field names are the API's (camelCase); :data:`APP_FIELDS` maps
them to the registry's.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from gateway.admin.errors import InvalidBody
from gateway.auth.credentials import MAX_GRACE
from gateway.auth.registry import DETAILS

# API name -> registry name of every app field an admin may set.
APP_FIELDS = {"name": "name", "vendor": "vendor", "purpose": "purpose", "dpaReference": "dpa_reference",
              "dpaExpires": "dpa_expires", "contact": "contact", "scopes": "scopes", "pairwise": "pairwise",
              "oauth1": "oauth1", "rateLimit": "rate_limit"}
FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_:-]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_:-]*(\[\])?)*$"


def _text(key: str, description: str, minimum: int | None = None, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=minimum, max=DETAILS[key]), metadata={"description": description},
                         **kwargs)


def _flag(description: str) -> fields.Boolean:
    return fields.Boolean(truthy={True}, falsy={False}, metadata={"description": description})


def _instant(value: str) -> None:
    try:
        date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("Not an ISO date (YYYY-MM-DD) or date-time.") from None


class Strict(Schema):
    class Meta:
        unknown = RAISE


class AppDetails(Strict):
    vendor = _text("vendor", "the company behind the app", allow_none=True)
    purpose = _text("purpose", "the legitimate educational interest (cited by the disclosure log)", allow_none=True)
    dpaReference = _text("dpa_reference", "reference of the data-privacy agreement", allow_none=True)
    dpaExpires = fields.Date(allow_none=True, metadata={
        "description": "last day of the agreement (YYYY-MM-DD); the app is refused from the day after"})
    contact = _text("contact", "who to call about the app", allow_none=True)
    pairwise = _flag("send per-app pairwise user ids instead of sourcedIds (turning it on changes the ids)")
    oauth1 = _flag("let the app sign OneRoster 1.1 requests with OAuth 1.0a (needs TRELLIS_CREDENTIAL_KEY)")
    rateLimit = fields.String(allow_none=True, validate=validate.Length(max=64),
                              metadata={"description": "e.g. 600/minute; null: the gateway default"})


class AppCreate(AppDetails):
    name = _text("name", "display name", minimum=1, required=True)
    scopes = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                         validate=validate.Length(min=1),
                         metadata={"description": "OneRoster scope URIs or 1.2 short names (roster-core.readonly)"})


class AppUpdate(AppDetails):
    name = _text("name", "display name", minimum=1)
    scopes = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(min=1),
                         metadata={"description": "replaces the app's scopes"})

    @validates_schema
    def _not_empty(self, data: dict, **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one field to change.")


class AllowedOrgs(Strict):
    orgs = fields.List(fields.String(validate=validate.Length(min=1, max=255)), required=True, allow_none=True,
                       metadata={"description": "org sourcedIds (and everything below them); null or []: the district"})


class Rotate(Strict):
    graceSeconds = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=MAX_GRACE),
                                  metadata={"description": "how long the current secrets keep working (0: at once)"})


class AccessCodeIssue(Strict):
    days = fields.Integer(strict=True, load_default=30, validate=validate.Range(min=1, max=365),
                          metadata={"description": "days until the code expires"})


class Page(Strict):
    limit = fields.Integer(validate=validate.Range(min=1, max=1000), load_default=100)
    after = fields.Integer(validate=validate.Range(min=0), metadata={"description": "the last seq of the previous page"})


class DisclosureSummaryQuery(Strict):
    since = fields.String(validate=_instant, metadata={"description": "date or date-time, inclusive"})
    until = fields.String(validate=_instant, metadata={"description": "date (inclusive) or date-time (exclusive)"})
    field = fields.String(validate=validate.Regexp(FIELD_NAME, error="Not a field name."),
                          metadata={"description": "entries that disclosed this field"})
    student = fields.String(validate=validate.Length(min=1, max=255), metadata={"description": "student sourcedId"})


class DisclosureQuery(DisclosureSummaryQuery, Page):
    app = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "client id"})


def load(schema: Schema, data: Any, what: str = "request body") -> dict[str, Any]:
    """Validate ``data``; a 400 naming every bad field otherwise."""
    if not isinstance(data, dict):
        raise InvalidBody(f"the {what} must be a JSON object")
    try:
        return schema.load(data)
    except ValidationError as error:
        messages = error.normalized_messages()
        if not isinstance(messages, dict):
            messages = {"_schema": messages}
        summary = "; ".join(f"{name}: {' '.join(_flat(text))}" for name, text in messages.items())
        raise InvalidBody(f"invalid {what}: {summary}", messages) from None


def _flat(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [f"[{key}] {text}" for key, value in messages.items() for text in _flat(value)]
    return [str(text) for text in messages] if isinstance(messages, list) else [str(messages)]


# --- JSON Schema (OpenAPI 3.0) -----------------------------------------------------------------------------------------

def _field_schema(field: fields.Field) -> dict[str, Any]:
    if isinstance(field, fields.List):
        schema: dict[str, Any] = {"type": "array", "items": _field_schema(field.inner)}
    elif isinstance(field, fields.Boolean):
        schema = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        schema = {"type": "integer"}
    elif isinstance(field, fields.Date):
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string"}
    for validator in field.validators:
        if isinstance(validator, validate.Length):
            prefix = "Items" if schema["type"] == "array" else "Length"
            if validator.min is not None:
                schema[f"min{prefix}"] = validator.min
            if validator.max is not None:
                schema[f"max{prefix}"] = validator.max
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                schema["minimum"] = validator.min
            if validator.max is not None:
                schema["maximum"] = validator.max
        elif isinstance(validator, validate.Regexp):
            schema["pattern"] = validator.regex.pattern
    if field.allow_none:
        schema["nullable"] = True
    if field.metadata.get("description"):
        schema["description"] = field.metadata["description"]
    if field.load_default is not None and not callable(field.load_default) and field.load_default is not fields.missing_:
        schema["default"] = field.load_default
    return schema


def json_schema(schema: Schema) -> dict[str, Any]:
    """An OpenAPI 3.0 schema object for a request body schema (unknown fields refused: additionalProperties false)."""
    properties = {name: _field_schema(field) for name, field in schema.fields.items()}
    required = sorted(name for name, field in schema.fields.items() if field.required)
    result: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        result["required"] = required
    return result


def parameters(schema: Schema) -> list[dict[str, Any]]:
    """OpenAPI query parameters for a query schema."""
    return [{"name": name, "in": "query", "required": field.required, "schema": _field_schema(field)}
            for name, field in schema.fields.items()]
