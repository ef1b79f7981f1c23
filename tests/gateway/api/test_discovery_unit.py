"""Unit tests for the generated OpenAPI discovery documents (gateway/api/discovery.py, openapi_schemas.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import flask
import jsonschema
import pytest

from gateway import errors
from gateway.api import discovery
from gateway.api.openapi_schemas import EXT_PATTERN
from standards import load_model
from standards.endpoints import load_endpoints

SPECS = Path("/work/shared/specs/oneroster")
ROSTERING_SPEC = SPECS / "onerosterv1p2rostersservice_openapi3_v1p0.json"
RESOURCES_SPEC = SPECS / "onerosterv1p2resourcesservice_openapi3_v1p0.json"
V1P1_SPEC = SPECS / "oneroster_v1p1_openapi_VENDOR-EDITED_strongmind_copy.json"
V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
ROSTERING = "/ims/oneroster/rostering/v1p2"
RESOURCES = "/ims/oneroster/resources/v1p2"
COMPONENT_NAME = re.compile(r"^[a-zA-Z0-9.\-_]+$")
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

DOCUMENTS = {
    "rostering": lambda: discovery.build_openapi("rostering", "1.2"),
    "resources": lambda: discovery.build_openapi("resources", "1.2"),
    "v1p1": lambda: discovery.build_openapi("all", "1.1"),
    "combined": lambda: discovery.build_combined(""),
    "combined-absolute": lambda: discovery.build_combined("https://trellis.example.org/"),
}


def resolve(document: dict, pointer: str):
    assert pointer.startswith("#/"), f"only local references expected, got {pointer}"
    node = document
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {pointer}"
        node = node[part]
    return node


def deref(document: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(document, node["$ref"])
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def operation(document: dict, path: str) -> dict:
    return document["paths"][path]["get"]


def error_validator(document: dict, path: str, status: str) -> jsonschema.Draft4Validator:
    response = deref(document, operation(document, path)["responses"][status])
    schema = dict(response["content"]["application/json"]["schema"], components=document["components"])
    return jsonschema.Draft4Validator(schema)


def schema_validator(document: dict, name: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator({"$ref": f"#/components/schemas/{name}",
                                       "components": document["components"]})


# --- OpenAPI 3.0 structure -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_structurally_valid_openapi_3_0(name):
    document = DOCUMENTS[name]()
    assert re.fullmatch(r"3\.0\.\d+", document["openapi"])
    assert document["info"]["title"] and document["info"]["version"]
    assert set(document) <= {"openapi", "info", "servers", "paths", "components", "security", "tags", "externalDocs"}
    for pointer in refs(document):
        resolve(document, pointer)
    for section, entries in document["components"].items():
        assert all(COMPONENT_NAME.match(key) for key in entries), section
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft4Validator.check_schema(schema)
    schemes = document["components"]["securitySchemes"]
    tag_names = {tag["name"] for tag in document["tags"]}
    operation_ids = []
    for path, method, op in operations(document):
        assert path.startswith("/")
        operation_ids.append(op["operationId"])
        params = [deref(document, param) for param in op.get("parameters", [])]
        assert len({(p["name"], p["in"]) for p in params}) == len(params), f"duplicate parameter in {path}"
        declared = {p["name"] for p in params if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), path
        assert all(p["required"] is True for p in params if p["in"] == "path")
        for param in params:
            assert param["in"] in {"path", "query", "header", "cookie"}
            assert "schema" in param
        assert op["responses"] and "200" in op["responses"]
        for status, response in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d|default", status)
            assert deref(document, response)["description"]
        assert set(op["tags"]) <= tag_names
        for requirement in op["security"]:
            for scheme, scopes in requirement.items():
                assert scheme in schemes
                assert set(scopes) <= set(schemes[scheme]["flows"]["clientCredentials"]["scopes"])
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


def test_security_scheme_and_servers_follow_the_public_url():
    relative = discovery.build_openapi("rostering", "1.2")
    absolute = discovery.build_openapi("rostering", "1.2", server_url="https://trellis.example.org/")
    flow = lambda doc: doc["components"]["securitySchemes"]["OAuth2CC"]["flows"]["clientCredentials"]  # noqa: E731
    assert relative["components"]["securitySchemes"]["OAuth2CC"]["type"] == "oauth2"
    assert flow(relative)["tokenUrl"] == "/oauth/token"
    assert "servers" not in relative
    assert flow(absolute)["tokenUrl"] == "https://trellis.example.org/oauth/token"
    assert absolute["servers"] == [{"url": "https://trellis.example.org"}]
    assert set(flow(relative)["scopes"]) == {V12 + "roster.readonly", V12 + "roster-core.readonly",
                                             V12 + "roster-demographics.readonly"}
    assert all(flow(relative)["scopes"].values())


def test_documents_are_cached():
    assert discovery.build_openapi("rostering", "1.2") is discovery.build_openapi("rostering", "1.2")
    assert discovery.build_combined("") is discovery.build_combined("")


def test_unknown_service_or_version_is_refused():
    with pytest.raises(ValueError):
        discovery.build_openapi("gradebook", "1.2")
    with pytest.raises(ValueError):
        discovery.build_openapi("rostering", "1.1")


# --- operations ----------------------------------------------------------------------------------------------------


def official_gets(spec: Path, base: str) -> set[tuple[str, str]]:
    if not spec.exists():
        pytest.skip(f"{spec} not available")
    document = json.loads(spec.read_text(encoding="utf-8"))
    return {(base + path, op["operationId"]) for path, item in document["paths"].items()
            for method, op in item.items() if method == "get"}


def test_rostering_has_the_41_official_get_operations():
    official = official_gets(ROSTERING_SPEC, ROSTERING)
    document = discovery.build_openapi("rostering", "1.2")
    ours = {(path, op["operationId"]) for path, method, op in operations(document)}
    assert {method for _, method, _ in operations(document)} == {"get"}
    assert len(ours) == len(official) == 41
    assert ours == official


def test_rostering_parameters_match_the_official_document():
    if not ROSTERING_SPEC.exists():
        pytest.skip(f"{ROSTERING_SPEC} not available")
    official = json.loads(ROSTERING_SPEC.read_text(encoding="utf-8"))
    document = discovery.build_openapi("rostering", "1.2")
    for path, item in official["paths"].items():
        expected = [param["name"] for param in item["get"]["parameters"]]
        ours = [deref(document, param)["name"] for param in operation(document, ROSTERING + path)["parameters"]]
        assert ours == expected, path


def test_resources_has_the_official_get_operations():
    official = official_gets(RESOURCES_SPEC, RESOURCES)
    document = discovery.build_openapi("resources", "1.2")
    assert {(path, op["operationId"]) for path, _, op in operations(document)} == official


def test_v1p1_operations_are_those_of_the_1_1_document():
    official = official_gets(V1P1_SPEC, "/ims/oneroster/v1p1")
    ours = {(path, op["operationId"]) for path, _, op in operations(discovery.build_openapi("all", "1.1"))}
    assert ours <= official
    assert len(ours) == len([e for e in load_endpoints().endpoints if e.op11])
    assert ("/ims/oneroster/v1p1/users/{userSourcedId}/resources", "getResourcesForUser") not in ours


def test_combined_document_holds_every_path_of_every_service():
    combined = discovery.build_combined("")
    parts = [discovery.build_openapi("rostering", "1.2"), discovery.build_openapi("resources", "1.2"),
             discovery.build_openapi("all", "1.1")]
    assert set(combined["paths"]) == {path for part in parts for path in part["paths"]}
    assert len(list(operations(combined))) == sum(len(list(operations(part))) for part in parts)
    assert operation(combined, "/ims/oneroster/v1p1/users")["operationId"] == "v1p1_getUsers"
    assert operation(combined, ROSTERING + "/users")["operationId"] == "getAllUsers"
    user11 = deref(combined, {"$ref": "#/components/schemas/v1p1_User"})
    assert "role" in user11["properties"] and "roles" not in user11["properties"]


def test_collection_and_single_parameters():
    document = discovery.build_openapi("rostering", "1.2")
    declared = operation(document, ROSTERING + "/users")["parameters"]
    params = {p["name"]: p for p in (deref(document, p) for p in declared)}
    assert params["limit"]["schema"] == {"type": "integer", "default": 100, "minimum": 1}
    assert params["offset"]["schema"] == {"type": "integer", "default": 0, "minimum": 0}
    assert params["sort"]["schema"] == {"type": "string"}
    assert params["orderBy"]["schema"] == {"type": "string", "enum": ["asc", "desc"]}
    assert params["filter"]["schema"] == {"type": "string"}
    assert params["fields"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert (params["fields"]["style"], params["fields"]["explode"]) == ("form", False)
    assert all(p["in"] == "query" and not p["required"] for p in params.values())
    single = [deref(document, p) for p in operation(document, ROSTERING + "/users/{sourcedId}")["parameters"]]
    assert [(p["name"], p["in"]) for p in single] == [("sourcedId", "path"), ("fields", "query")]


def test_responses_and_envelopes():
    document = discovery.build_openapi("rostering", "1.2")
    students = operation(document, ROSTERING + "/classes/{classSourcedId}/students")
    ok = students["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UserSet"}
    assert ok["headers"]["X-Total-Count"]["schema"] == {"type": "integer"}
    assert ok["headers"]["Link"]["schema"] == {"type": "string"}
    assert set(students["responses"]) == {"200", "400", "401", "403", "429", "500"}  # rostering: no 404 for parents
    user_set = document["components"]["schemas"]["UserSet"]
    assert user_set["properties"]["users"]["items"] == {"$ref": "#/components/schemas/User"}
    single = operation(document, ROSTERING + "/demographics/{sourcedId}")
    assert set(single["responses"]) == {"200", "400", "401", "403", "404", "429", "500"}
    assert "headers" not in single["responses"]["200"]
    envelope = deref(document, single["responses"]["200"]["content"]["application/json"]["schema"])
    assert envelope["required"] == ["demographics"]
    assert envelope["properties"]["demographics"] == {"$ref": "#/components/schemas/Demographics"}
    schools = operation(document, ROSTERING + "/schools")["responses"]["200"]["content"]["application/json"]
    assert schools["schema"] == {"$ref": "#/components/schemas/OrgSet"}
    resources = discovery.build_openapi("resources", "1.2")
    for path, _, op in operations(resources):
        assert ("404" in op["responses"]) == (path != RESOURCES + "/resources"), path


def test_demographics_requires_the_demographics_scope():
    document = discovery.build_openapi("rostering", "1.2")
    for path in (ROSTERING + "/demographics", ROSTERING + "/demographics/{sourcedId}"):
        assert operation(document, path)["security"] == [{"OAuth2CC": [V12 + "roster-demographics.readonly"]}]
    for path, _, op in operations(document):
        if "/demographics" not in path:
            assert V12 + "roster-demographics.readonly" not in op["security"][0]["OAuth2CC"], path
            assert V12 + "roster.readonly" in op["security"][0]["OAuth2CC"], path
    assert operation(document, ROSTERING + "/users")["security"] == [
        {"OAuth2CC": [V12 + "roster-core.readonly", V12 + "roster.readonly"]}]
    assert operation(document, ROSTERING + "/terms/{termSourcedId}/classes")["security"] == [
        {"OAuth2CC": [V12 + "roster.readonly"]}]


def test_v1p1_scopes_are_the_1_1_scope_uris():
    document = discovery.build_openapi("all", "1.1")
    scopes = document["components"]["securitySchemes"]["OAuth2CC"]["flows"]["clientCredentials"]["scopes"]
    assert scopes and all(uri.startswith(V11) for uri in scopes)
    assert V11 + "resource-core.readonly" not in scopes  # not a 1.1 scope
    assert operation(document, "/ims/oneroster/v1p1/resources")["security"] == [
        {"OAuth2CC": [V11 + "resource.readonly"]}]
    assert operation(document, "/ims/oneroster/v1p1/demographics")["security"] == [
        {"OAuth2CC": [V11 + "roster-demographics.readonly"]}]


# --- schemas -------------------------------------------------------------------------------------------------------


def test_user_schema_has_no_password():
    for document, name in ((discovery.build_openapi("rostering", "1.2"), "User"),
                           (discovery.build_openapi("all", "1.1"), "User"),
                           (discovery.build_combined(""), "v1p1_User")):
        user = document["components"]["schemas"][name]
        assert "password" not in user["properties"]
        assert user["additionalProperties"] is False
    credential = discovery.build_openapi("rostering", "1.2")["components"]["schemas"]["Credential"]
    assert "password" not in credential["properties"]


@pytest.mark.parametrize("service,version", [("rostering", "1.2"), ("resources", "1.2"), ("all", "1.1")])
def test_class_schemas_are_the_served_fields_of_the_model(service, version):
    document = discovery.build_openapi(service, version)
    model = load_model("oneroster", version)
    for name, schema in document["components"]["schemas"].items():
        if name not in model.classes:
            continue
        fields = model.classes[name].fields
        assert set(schema["properties"]) == {f for f, d in fields.items() if d.tier < 3}, name
        assert schema.get("required", []) == [f for f, d in fields.items() if d.required and d.tier < 3], name


def test_field_type_mappings():
    schemas = discovery.build_openapi("rostering", "1.2")["components"]["schemas"]
    user = schemas["User"]["properties"]
    assert user["enabledUser"]["type"] == "string" and user["enabledUser"]["enum"] == ["true", "false"]
    assert user["dateLastModified"]["format"] == "date-time"
    assert user["roles"]["type"] == "array" and user["roles"]["minItems"] == 1
    assert user["agents"]["items"] == {"$ref": "#/components/schemas/UserGUIDRef"}
    assert user["primaryOrg"]["allOf"] == [{"$ref": "#/components/schemas/OrgGUIDRef"}]
    assert user["metadata"]["type"] == "object"
    org_ref = schemas["OrgGUIDRef"]
    assert org_ref["properties"]["href"] == {"type": "string", "format": "uri",
                                             "description": "URI of the referenced object."}
    assert org_ref["properties"]["type"]["enum"] == ["org"]
    assert org_ref["required"] == ["href", "sourcedId", "type"]
    role = schemas["Role"]["properties"]["role"]
    assert role["anyOf"][0]["enum"][:2] == ["aide", "counselor"]
    assert role["anyOf"][1] == {"type": "string", "pattern": EXT_PATTERN}
    assert EXT_PATTERN == "(ext:)[a-zA-Z0-9\\.\\-_]+"
    assert schemas["Role"]["properties"]["roleType"] == {
        "type": "string", "enum": ["primary", "secondary"], "description": schemas["Role"]["properties"]["roleType"][
            "description"]}
    assert schemas["AcademicSession"]["properties"]["startDate"]["format"] == "date"
    resource_roles = discovery.build_openapi("resources", "1.2")["components"]["schemas"]["Resource"]["properties"]
    assert "anyOf" in resource_roles["roles"]["items"]
    demographics = discovery.build_openapi("all", "1.1")["components"]["schemas"]["Demographics"]["properties"]
    assert demographics["asian"]["type"] == "boolean"


def test_sample_records_validate_against_the_envelopes():
    document = discovery.build_openapi("rostering", "1.2")
    record = {"sourcedId": "u1", "status": "active", "dateLastModified": "2023-05-01T18:25:43.511Z",
              "enabledUser": "true", "givenName": "Ann", "familyName": "Lee",
              "roles": [{"roleType": "primary", "role": "student",
                         "org": {"href": "https://host/ims/oneroster/rostering/v1p2/orgs/s1", "sourcedId": "s1",
                                 "type": "org"}}]}
    validator = schema_validator(document, "UserSet")
    validator.validate({"users": [record]})
    validator.validate({"users": []})
    extended = {**record, "roles": [{**record["roles"][0], "role": "ext:mentor"}]}
    validator.validate({"users": [extended]})
    assert not validator.is_valid({"users": [{**record, "password": "secret"}]})
    assert not validator.is_valid({"users": [{**record, "enabledUser": True}]})
    assert not validator.is_valid({"users": [{**record, "roles": [{**record["roles"][0], "role": "mentor"}]}]})
    schema_validator(document, "SingleUser").validate({"user": record})


# --- errors match what gateway/errors.py renders -------------------------------------------------------------------


@pytest.mark.parametrize("error_class", [errors.BadRequest, errors.InvalidFilterField, errors.InvalidSelectionField,
                                         errors.InvalidSortField, errors.Unauthorized, errors.Forbidden,
                                         errors.UnknownObject, errors.TooManyRequests, errors.InternalError])
def test_rendered_errors_validate_against_the_error_schemas(error_class):
    app = flask.Flask(__name__)
    cases = [(discovery.build_openapi("rostering", "1.2"), ROSTERING + "/users/{sourcedId}", ROSTERING + "/users/x"),
             (discovery.build_openapi("resources", "1.2"), RESOURCES + "/resources/{sourcedId}",
              RESOURCES + "/resources/x"),
             (discovery.build_openapi("all", "1.1"), "/ims/oneroster/v1p1/users/{sourcedId}",
              "/ims/oneroster/v1p1/users/x")]
    error = error_class()
    for document, template, url in cases:
        with app.test_request_context(url):
            body = json.loads(errors.render(error).get_data())
        error_validator(document, template, str(error.status)).validate(body)
    assert "statusInfoSet" in body
    info = cases[2][0]["components"]["schemas"]["imsx_StatusInfo"]
    assert "imsx_messageRefIdentifier" in info["required"]


# --- routes --------------------------------------------------------------------------------------------------------


def test_discovery_routes_serve_the_documents_without_auth():
    app = flask.Flask(__name__)
    app.config["TRELLIS_PUBLIC_URL"] = ""
    discovery.init_app(app)
    client = app.test_client()
    expected = {
        "/openapi.json": discovery.build_combined(""),
        ROSTERING + "/discovery/onerosterv1p2rostersservice_openapi3_v1p0.json":
            discovery.build_openapi("rostering", "1.2"),
        ROSTERING + "/discovery/openapi.json": discovery.build_openapi("rostering", "1.2"),
        RESOURCES + "/discovery/onerosterv1p2resourcesservice_openapi3_v1p0.json":
            discovery.build_openapi("resources", "1.2"),
        RESOURCES + "/discovery/openapi.json": discovery.build_openapi("resources", "1.2"),
        "/ims/oneroster/v1p1/discovery/openapi.json": discovery.build_openapi("all", "1.1"),
    }
    for url, document in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "application/json"
        assert response.get_json() == json.loads(json.dumps(document)), url
    assert client.post("/openapi.json").status_code == 405


def test_discovery_routes_use_the_configured_public_url():
    app = flask.Flask(__name__)
    app.config["TRELLIS_PUBLIC_URL"] = "https://trellis.example.org"
    discovery.init_app(app)
    body = app.test_client().get(ROSTERING + "/discovery/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert body["servers"] == [{"url": "https://trellis.example.org"}]
    flow = body["components"]["securitySchemes"]["OAuth2CC"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "https://trellis.example.org/oauth/token"
