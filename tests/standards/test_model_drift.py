"""The committed OneRoster model.json files must match the spec files field by field.

Why: the model is generated once and then read by everything; if someone edits it by hand or the specs are updated,
this test names every field that no longer agrees. The comparison reads the specs with its own small interpreter,
so a bug in the generator cannot hide itself.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXT = r"(ext:)[a-zA-Z0-9\.\-_]+"
FILES_12 = ["onerosterv1p2rostersservice_openapi3_v1p0.json", "onerosterv1p2gradebookservice_openapi3_v1p0.json",
            "onerosterv1p2resourcesservice_openapi3_v1p0.json"]
FILE_11 = "oneroster_v1p1_openapi_VENDOR-EDITED_strongmind_copy.json"
NOT_CLASSES_12 = re.compile(r"GUIDRefDType$|^MetadataDType$|^Single\w+DType$|^(?!LearningObjective)\w+SetDType$")
NOT_CLASSES_11 = re.compile(r"^(GUIDRef|GUID|Identifier|Metadata|Base)\.Type$|_Type_allOf$|^(Single|Multiple)\w+\.Type$"
                            r"|^(Categories|Classes|Courses|Demographics|Enrollments|LineItems|Orgs|Resources|Results"
                            r"|Users)\.Type$")


def _specs_dir() -> Path:
    # shared/ sits beside the repository (CI) or at /work/shared (development machines)
    roots = [Path(os.environ["TRELLIS_SPECS_DIR"])] if os.environ.get("TRELLIS_SPECS_DIR") else [
        REPO.parent / "shared" / "specs", Path("/work/shared/specs")]
    for root in roots:
        for d in (root / "oneroster", root):
            if (d / FILE_11).is_file() and all((d / f).is_file() for f in FILES_12):
                return d
    pytest.skip(f"OneRoster spec files not found under {', '.join(map(str, roots))} (set TRELLIS_SPECS_DIR)")


@pytest.fixture(scope="module")
def specs() -> Path:
    return _specs_dir()


def _schemas(path: Path) -> dict:
    return json.loads(path.read_text())["components"]["schemas"]


def _model(folder: str) -> dict:
    return json.loads((REPO / "standards" / "oneroster" / folder / "model.json").read_text())


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _class(schema_name: str) -> str:
    """Model class name: no DType/.Type suffix; 1.1 Demographic is named Demographics as in 1.2."""
    name = re.sub(r"(DType|\.Type)$", "", schema_name)
    return "Demographics" if name == "Demographic" else name


def expected_field(prop: dict, schemas: dict, version: str) -> dict:
    """What the model must say about one spec property (ref targets for 1.1 are checked separately)."""
    out = {"many": prop.get("type") == "array", "min_items": prop.get("minItems", 0) if prop.get("type") == "array"
           else None, "enum": None, "ext": False, "ref": None, "cls": None}
    p = prop["items"] if out["many"] else prop
    if "$ref" in p:
        target = _name(p["$ref"])
        if "GUIDRef" in target:
            out["type"] = "ref"
            out["ref"] = schemas[target]["properties"]["type"]["enum"][0] if version == "1.2" else "*"
        elif target.startswith("Metadata"):
            out["type"] = "metadata"
        else:
            out["type"], out["cls"] = "object", _class(target)
    elif "anyOf" in p:
        out["type"] = "string"
        out["enum"] = next(a["enum"] for a in p["anyOf"] if "enum" in a)
        out["ext"] = any(a.get("pattern") == EXT for a in p["anyOf"])
    elif p.get("type") == "string" and sorted(p.get("enum", [])) == ["false", "true"]:
        out["type"], out["enum"] = "boolstring", p["enum"]
    elif p.get("type") == "string":
        out["type"] = {"date": "date", "date-time": "datetime", "uri": "uri"}.get(p.get("format"), "string")
        out["enum"] = p.get("enum")
    elif p.get("type") == "object":
        out["type"] = "metadata"
    else:
        out["type"] = p["type"]
    return out


def _flatten(schema: dict, schemas: dict) -> tuple[dict, set]:
    if "allOf" not in schema:
        return schema.get("properties", {}), set(schema.get("required", []))
    props, req = {}, set()
    for part in schema["allOf"]:
        p, r = _flatten(schemas[_name(part["$ref"])], schemas)
        props.update(p)
        req |= r
    return props, req


def drift(model: dict, spec_sets: list[dict], version: str) -> list[str]:
    """Every disagreement between a model.json dict and the spec schemas, as readable lines."""
    problems: list[str] = []
    skip = NOT_CLASSES_12 if version == "1.2" else NOT_CLASSES_11
    seen: set[str] = set()
    union_enums: dict[tuple[str, str], set] = {}
    for schemas in spec_sets:
        for sname, schema in schemas.items():
            if skip.search(sname):
                continue
            cname = _class(sname)
            seen.add(cname)
            mc = model["classes"].get(cname)
            if mc is None:
                problems.append(f"{cname}: in spec ({sname}) but not in model")
                continue
            props, required = _flatten(schema, schemas)
            mfields = {f["name"]: f for f in mc["fields"]}
            if list(props) != [f["name"] for f in mc["fields"]]:
                problems.append(f"{cname}: fields {list(mfields)} != spec {list(props)}")
            if version == "1.2" and mc["open"] != (schema.get("additionalProperties") is True):
                problems.append(f"{cname}: open flag differs")
            for fname, prop in props.items():
                mf = mfields.get(fname)
                if mf is None:
                    continue
                if mf["required"] != (fname in required):
                    problems.append(f"{cname}.{fname}: required {mf['required']} != spec {fname in required}")
                exp = expected_field(prop, schemas, version)
                for key in ("type", "many", "min_items", "ext", "cls"):
                    if mf[key] != exp[key]:
                        problems.append(f"{cname}.{fname}: {key} {mf[key]!r} != spec {exp[key]!r}")
                if exp["ref"] == "*":
                    guid_types = schemas["GUIDRef.Type"]["properties"]["type"]["enum"]
                    if mf["ref"] not in guid_types:
                        problems.append(f"{cname}.{fname}: ref target {mf['ref']!r} not a 1.1 GUIDRef type")
                elif mf["ref"] != exp["ref"]:
                    problems.append(f"{cname}.{fname}: ref {mf['ref']!r} != spec {exp['ref']!r}")
                if exp["enum"] is not None:
                    union_enums.setdefault((cname, fname), set()).update(exp["enum"])
                    corrected = any(c.startswith(f"{cname}.{fname}:") for c in model.get("corrections", []))
                    if not set(exp["enum"]) <= set(mf["enum"] or []) and not corrected:
                        problems.append(f"{cname}.{fname}: enum {mf['enum']} lacks spec values {exp['enum']}")
                elif mf["enum"] is not None:
                    problems.append(f"{cname}.{fname}: enum {mf['enum']} but spec has none")
    for (cname, fname), values in union_enums.items():
        mf = next(f for f in model["classes"][cname]["fields"] if f["name"] == fname)
        corrected = any(c.startswith(f"{cname}.{fname}:") for c in model.get("corrections", []))
        if set(mf["enum"]) != values and not corrected:
            problems.append(f"{cname}.{fname}: enum {sorted(mf['enum'])} != spec {sorted(values)}")
    for cname in set(model["classes"]) - seen:
        problems.append(f"{cname}: in model but in no spec")
    return problems


@pytest.fixture(scope="module")
def spec12(specs):
    return [_schemas(specs / f) for f in FILES_12]


@pytest.fixture(scope="module")
def spec11(specs):
    return [_schemas(specs / FILE_11)]


def test_v1p2_matches_spec(spec12):
    assert drift(_model("v1p2"), spec12, "1.2") == []


def test_v1p1_matches_spec(spec11):
    assert drift(_model("v1p1"), spec11, "1.1") == []


def test_expected_classes_present():
    m12, m11 = _model("v1p2")["classes"], _model("v1p1")["classes"]
    for c in ["AcademicSession", "Class", "Course", "Demographics", "Enrollment", "Org", "User", "Role", "UserId",
              "UserProfile", "Credential", "Category", "LineItem", "Result", "ScoreScale", "ScoreScaleValue",
              "AssessmentLineItem", "AssessmentResult", "LearningObjectiveSet", "LearningObjectiveScoreSet",
              "LearningObjectiveResults", "Resource", "GUIDPair"]:
        assert c in m12, c
    assert {"AcademicSession", "Category", "Class", "Course", "Demographics", "Enrollment", "LineItem", "Org",
            "Resource", "Result", "User", "UserId"} <= set(m11)


def test_drift_detects_changes(spec12, spec11):
    """The comparison must fail on the kinds of edits it exists to catch."""
    m = _model("v1p2")
    fields = {f["name"]: f for f in m["classes"]["User"]["fields"]}
    fields["givenName"]["required"] = False
    fields["roles"]["min_items"] = 0
    fields["grades"]["many"] = False
    fields["enabledUser"]["type"] = "boolean"
    next(f for f in m["classes"]["Org"]["fields"] if f["name"] == "type")["enum"].remove("school")
    next(f for f in m["classes"]["Enrollment"]["fields"] if f["name"] == "role")["ext"] = False
    next(f for f in m["classes"]["Result"]["fields"] if f["name"] == "student")["ref"] = "org"
    del m["classes"]["ScoreScaleValue"]
    m["classes"]["Invented"] = copy.deepcopy(m["classes"]["Role"])
    found = "\n".join(drift(m, spec12, "1.2"))
    for needle in ["User.givenName: required", "User.roles: min_items", "User.grades: many", "User.enabledUser: type",
                   "Org.type: enum", "Enrollment.role: ext", "Result.student: ref", "ScoreScaleValue: in spec",
                   "Invented: in model"]:
        assert needle in found
    m11 = _model("v1p1")
    next(f for f in m11["classes"]["User"]["fields"] if f["name"] == "orgs")["ref"] = "nonsense"
    m11["classes"]["User"]["fields"].pop()  # password
    found = "\n".join(drift(m11, spec11, "1.1"))
    assert "User.orgs: ref target" in found and "User: fields" in found


def test_v1p1_corrections_and_booleans():
    m11 = _model("v1p1")
    demo = {f["name"]: f for f in m11["classes"]["Demographics"]["fields"]}
    assert demo["asian"]["type"] == "boolean" and demo["sex"]["enum"] == ["male", "female"]
    user = {f["name"]: f for f in m11["classes"]["User"]["fields"]}
    assert user["role"]["enum"] == ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student",
                                    "teacher"]
    assert user["orgs"]["ref"] == "org" and m11["refAliases"]["user"] == ["student", "teacher", "user"]


def test_committed_files_are_generator_output(specs):
    """model.json must be exactly what the generator writes today (regenerate with standards/tools/...)."""
    path = REPO / "standards" / "tools" / "generate_oneroster.py"
    spec = importlib.util.spec_from_file_location("_generate_oneroster", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for folder, model in gen.build(specs).items():
        committed = (REPO / "standards" / "oneroster" / folder / "model.json").read_text()
        assert committed == gen.dump(model), f"{folder}/model.json is stale: run {path.relative_to(REPO)}"
