"""Trellis's own OpenAPI 3.0 documents, generated from the endpoint and model definitions, at the discovery paths.

The documents describe what Trellis actually serves, not the 1EdTech files: the operations of
``standards/oneroster/endpoints.yaml`` (1.2 per service, 1.1 under its single base), response schemas from
``standards.load_model`` without the tier-3 fields, the scopes each operation accepts, and the error payloads of
:mod:`gateway.errors`. Routes (all public, as OneRoster service discovery expects)::

    GET /openapi.json                                              every path of every service and version
    GET <1.2 base>/discovery/<discovery file of endpoints.yaml>    one 1.2 service (also .../discovery/openapi.json)
    GET /ims/oneroster/v1p1/discovery/openapi.json                 1.1

The ``servers`` entry and the absolute token URL come from ``TRELLIS_PUBLIC_URL`` only, never from the request's
Host header, so a client cannot choose what the cached documents say.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app

from gateway.api.openapi_schemas import SchemaBuilder
from gateway.auth import scopes as scope_names
from standards import load_model
from standards.endpoints import Endpoint
from standards.endpoints import load_endpoints

OPENAPI_VERSION = "3.0.3"
V1P1_PREFIX = "v1p1_"  # namespace of the 1.1 schemas, operationIds and tags in the combined document
TOKEN_PATH = "/oauth/token"
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

SCOPE_DESCRIPTIONS = {
    "roster-core.readonly": "Core rostering reads: the collections and single objects (not the relationship "
                            "endpoints, not demographics).",
    "roster.readonly": "All rostering reads except demographics.",
    "roster-demographics.readonly": "Demographics reads (all demographics or a single demographics object).",
    "resource-core.readonly": "Core resources reads: all resources or a single resource.",
    "resource.readonly": "All reads of the resources service.",
}

_QUERY_PARAMETERS: dict[str, dict[str, Any]] = {
    "limit": {"name": "limit", "in": "query", "required": False,
              "description": "Page size: the maximum number of records in the response.",
              "schema": {"type": "integer", "default": 100, "minimum": 1}},
    "offset": {"name": "offset", "in": "query", "required": False,
               "description": "Index of the first record to return.",
               "schema": {"type": "integer", "default": 0, "minimum": 0}},
    "sort": {"name": "sort", "in": "query", "required": False,
             "description": "Field to sort the records on; used with orderBy.", "schema": {"type": "string"}},
    "orderBy": {"name": "orderBy", "in": "query", "required": False, "description": "Sort direction.",
                "schema": {"type": "string", "enum": ["asc", "desc"]}},
    "filter": {"name": "filter", "in": "query", "required": False,
               "description": "Filter expression selecting the records, e.g. status='active'.",
               "schema": {"type": "string"}},
    "fields": {"name": "fields", "in": "query", "required": False,
               "description": "Comma-separated fields to include in each returned record.",
               "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": False},
}
_COLLECTION_PARAMETERS = ("limit", "offset", "sort", "orderBy", "filter", "fields")

# status -> (component name, description, codeMinor)
_ERRORS = {
    "400": ("BadRequest", "Invalid request: an unknown or unreadable field in fields, filter or sort, or a malformed "
                          "parameter.", "invalid_selection_field, invalid_filter_field, invalid_sort_field, "
                                        "invaliddata"),
    "401": ("Unauthorized", "Missing, invalid or expired access token.", "unauthorisedrequest"),
    "403": ("Forbidden", "The access token carries none of the scopes this endpoint accepts.", "forbidden"),
    "404": ("NotFound", "Unknown Object: the record (or a parent named in the path) does not exist or is not "
                        "visible to the caller.", "unknownobject"),
    "429": ("TooManyRequests", "Too many requests; retry later.", "server_busy"),
    "500": ("InternalError", "Internal error.", "internal_server_error"),
}


def _supported() -> set[tuple[str, str]]:
    return {(service, "1.2") for service in load_endpoints().services} | {("all", "1.1")}


def _endpoints(service: str, version: str) -> list[tuple[str, str, Endpoint]]:
    """(full path, operationId, endpoint) of every operation one document describes."""
    definitions = load_endpoints()
    if version == "1.1":
        return [(definitions.v1p1_base + e.path, e.op11, e) for e in definitions.endpoints if e.op11]
    base = definitions.services[service]["base"]
    return [(base + e.path, e.op, e) for e in definitions.endpoints if e.service == service]


def _scopes(endpoint: Endpoint, version: str) -> list[str]:
    """Scope URIs that open an endpoint (any one suffices); 1.1 only has the scopes it defines."""
    names = list(endpoint.scopes)
    if version == "1.1":
        names = [name for name in names if name in scope_names.NAMES_V1P1] or names
    return sorted(scope_names.expand(names, version))


def _words(identifier: str) -> str:
    words = _WORD.findall(identifier)
    return " ".join([words[0].capitalize()] + [w if w.isupper() and len(w) > 1 else w.lower() for w in words[1:]])


def _tag(path: str) -> str:
    first = path.strip("/").split("/")[0]
    return first[:1].upper() + first[1:] + "Management"


def _has_404(endpoint: Endpoint) -> bool:
    """Single reads answer 404; relationship endpoints only where the service checks their parents."""
    unknown_parent = load_endpoints().services[endpoint.service].get("unknown_parent")
    return endpoint.single or (bool(endpoint.parents) and unknown_parent == "404")


def _path_parameter(name: str, endpoint: Endpoint) -> dict[str, Any]:
    target = endpoint.parents.get(name) or endpoint.collection.singular
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
            "description": f"The sourcedId of the {target}."}


def _description(endpoint: Endpoint) -> str:
    collection = endpoint.collection
    if endpoint.single:
        text = (f"Returns one {collection.singular} record in a '{collection.singular}' envelope. Takes only the "
                f"fields parameter.")
    else:
        text = (f"Returns a page of {collection.cls} records in a '{collection.plural}' envelope; X-Total-Count gives "
                f"the number of matching records and Link the first, prev, next and last pages.")
    if collection.where:
        text += " Only records with " + ", ".join(f"{k} = '{v}'" for k, v in collection.where.items()) + "."
    return text + " Fields outside the caller's grant are never returned."


class _Document:
    """Builds one OpenAPI document; ``prefix`` namespaces names so that documents can be merged."""

    def __init__(self, service: str, version: str, server_url: str, prefix: str = ""):
        self.service, self.version, self.prefix = service, version, prefix
        self.server_url = server_url.rstrip("/")
        self.model = load_model("oneroster", version)
        self.schemas = SchemaBuilder(self.model, prefix)
        self.parameters = {prefix + name: param for name, param in _QUERY_PARAMETERS.items()}
        self.responses: dict[str, dict] = {}
        self.scopes: dict[str, str] = {}
        self.tags: dict[str, str] = {}

    def build(self) -> dict[str, Any]:
        paths: dict[str, dict] = {}
        for path, operation_id, endpoint in _endpoints(self.service, self.version):
            paths.setdefault(path, {})["get"] = self.operation(endpoint, operation_id)
        title = (f"Trellis OneRoster {self.service} service" if self.version == "1.2"
                 else "Trellis OneRoster 1.1 service")
        document: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": {"title": title, "version": self.version,
                     "description": "OneRoster read endpoints served by Trellis, generated from its endpoint and "
                                    "model definitions. Records carry only the fields the caller's grant allows."},
        }
        if self.server_url:
            document["servers"] = [{"url": self.server_url}]
        document["tags"] = [{"name": name, "description": text} for name, text in sorted(self.tags.items())]
        document["paths"] = paths
        document["components"] = {
            "schemas": dict(sorted(self.schemas.schemas.items())),
            "parameters": self.parameters,
            "responses": self.responses,
            "securitySchemes": {"OAuth2CC": security_scheme(self.scopes, self.server_url)},
        }
        return document

    def operation(self, endpoint: Endpoint, operation_id: str) -> dict[str, Any]:
        collection = endpoint.collection
        segment = endpoint.path.strip("/").split("/")[0]
        tag = self.prefix + _tag(endpoint.path)
        self.tags.setdefault(tag, f"OneRoster {self.version} endpoints under /{segment}.")
        scopes = _scopes(endpoint, self.version)
        for uri in scopes:
            self.scopes[uri] = SCOPE_DESCRIPTIONS.get(uri.rsplit("/", 1)[-1], uri.rsplit("/", 1)[-1])
        parameters: list[dict[str, Any]] = [_path_parameter(name, endpoint)
                                            for name in _PATH_PARAM.findall(endpoint.path)]
        names = ("fields",) if endpoint.single else _COLLECTION_PARAMETERS
        parameters += [{"$ref": f"#/components/parameters/{self.prefix}{name}"} for name in names]
        class_name = _model_class(collection, self.model)
        if endpoint.single:
            ok = {"description": f"The {collection.singular}.",
                  "content": {"application/json": {
                      "schema": self.schemas.single_envelope(class_name, collection.singular)}}}
        else:
            ok = {"description": f"A page of {collection.plural}; the array may be empty.",
                  "headers": {"X-Total-Count": {"description": "The total number of matching records.",
                                                "schema": {"type": "integer"}},
                              "Link": {"description": "RFC 8288 links to the first, prev, next and last pages.",
                                       "schema": {"type": "string"}}},
                  "content": {"application/json": {
                      "schema": self.schemas.collection_envelope(class_name, collection.plural)}}}
        responses: dict[str, Any] = {"200": ok}
        for status in _ERRORS:
            if status != "404" or _has_404(endpoint):
                responses[status] = {"$ref": f"#/components/responses/{self.error_response(status)}"}
        return {"operationId": self.prefix + operation_id, "tags": [tag], "summary": _words(operation_id),
                "description": _description(endpoint), "parameters": parameters,
                "security": [{"OAuth2CC": scopes}], "responses": responses}

    def error_response(self, status: str) -> str:
        base, description, code_minor = _ERRORS[status]
        name = self.prefix + base
        if name not in self.responses:
            self.responses[name] = {
                "description": f"{description} codeMajor/severity failure/error; codeMinor {code_minor}.",
                "content": {"application/json": {"schema": self.schemas.status_info()}}}
            if status == "401":
                self.responses[name]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        return name


def _model_class(collection: Any, model: Any) -> str:
    """The model class of a collection in one version (both versions use the same class names)."""
    if collection.cls in model.classes:
        return collection.cls
    raise KeyError(f"no class {collection.cls} in OneRoster {model.version}")


def security_scheme(scopes: dict[str, str], server_url: str = "") -> dict[str, Any]:
    return {"type": "oauth2", "description": "OAuth 2.0 client credentials; request a token at tokenUrl with HTTP "
                                             "Basic client authentication and send it as a Bearer token.",
            "flows": {"clientCredentials": {"tokenUrl": server_url.rstrip("/") + TOKEN_PATH,
                                            "scopes": dict(sorted(scopes.items()))}}}


@cache
def _build(service: str, version: str, server_url: str, prefix: str) -> dict[str, Any]:
    if (service, version) not in _supported():
        raise ValueError(f"no OpenAPI document for {service!r} {version!r}; known: {sorted(_supported())}")
    return _Document(service, version, server_url, prefix).build()


@cache
def build_openapi(service: str, version: str, *, server_url: str = "") -> dict[str, Any]:
    """The OpenAPI document of one 1.2 service (``rostering``, ``resources``) or of 1.1 (``"all"``, ``"1.1"``).

    Cached per arguments: treat the returned dict as read-only.
    """
    return _build(service, version, server_url, "")


@cache
def build_combined(server_url: str = "") -> dict[str, Any]:
    """Every path of every service and version in one document (1.1 names carry the ``v1p1_`` prefix)."""
    parts = [_build(service, "1.2", server_url, "") for service in load_endpoints().services]
    parts.append(_build("all", "1.1", server_url, V1P1_PREFIX))
    combined: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Trellis OneRoster services", "version": "1.2",
                 "description": "Every OneRoster endpoint Trellis serves: the 1.2 services and 1.1 (names prefixed "
                                f"'{V1P1_PREFIX}'). Each service also publishes its own document under "
                                "<base>/discovery/."},
    }
    if parts[0].get("servers"):
        combined["servers"] = parts[0]["servers"]
    tags: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    components: dict[str, dict] = {"schemas": {}, "parameters": {}, "responses": {}}
    scopes: dict[str, str] = {}
    for part in parts:
        tags.update({tag["name"]: tag for tag in part["tags"]})
        for path, item in part["paths"].items():
            if path in paths:
                raise ValueError(f"path {path} is in two documents")
            paths[path] = item
        for section, merged in components.items():
            for name, value in part["components"][section].items():
                if merged.setdefault(name, value) != value:
                    raise ValueError(f"components.{section}.{name} differs between documents")
        scopes.update(part["components"]["securitySchemes"]["OAuth2CC"]["flows"]["clientCredentials"]["scopes"])
    combined["tags"] = sorted(tags.values(), key=lambda tag: tag["name"])
    combined["paths"] = dict(sorted(paths.items()))
    combined["components"] = {**{k: dict(sorted(v.items())) for k, v in components.items()},
                              "securitySchemes": {"OAuth2CC": security_scheme(scopes, server_url)}}
    return combined


@cache
def _payload(service: str, version: str, server_url: str) -> bytes:
    if service == "*":
        return orjson.dumps(build_combined(server_url))
    return orjson.dumps(build_openapi(service, version, server_url=server_url))


def _serve(service: str, version: str) -> Response:
    server_url = current_app.config.get("TRELLIS_PUBLIC_URL") or ""
    return Response(_payload(service, version, server_url), mimetype="application/json")


def discovery_paths() -> list[tuple[str, str, str]]:
    """(URL path, service, version) of every discovery route; service ``*`` is the combined document."""
    definitions = load_endpoints()
    routes = [("/openapi.json", "*", "")]
    for service, spec in definitions.services.items():
        base = spec["base"].rstrip("/")
        routes.append((f"{base}/discovery/{spec['discovery']}", service, "1.2"))
        if spec["discovery"] != "openapi.json":
            routes.append((f"{base}/discovery/openapi.json", service, "1.2"))
    routes.append((definitions.v1p1_base.rstrip("/") + "/discovery/openapi.json", "all", "1.1"))
    return routes


def init_app(app: Flask) -> None:
    bp = Blueprint("discovery", __name__)
    for number, (path, service, version) in enumerate(discovery_paths()):
        bp.add_url_rule(path, endpoint=f"document_{number}", methods=["GET"],
                        view_func=lambda service=service, version=version: _serve(service, version))
    app.register_blueprint(bp)
