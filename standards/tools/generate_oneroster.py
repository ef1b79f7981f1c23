"""Generate standards/oneroster/v1p2/model.json and v1p1/model.json from the OneRoster OpenAPI files.

Why: validation, privacy filtering and CSV mapping all read one machine-readable model; deriving it mechanically
from the official specs (plus the project's tier policy in tiers.json) keeps it from drifting, and
tests/standards/test_model_drift.py checks the committed output against the specs again.

    python standards/tools/generate_oneroster.py [--specs DIR] [--check]

1.2 merges the rostering, gradebook and resources files. 1.1 comes from a vendor-edited copy: its descriptions are
placeholders (borrowed from 1.2 where the field exists), its GUIDRef is untyped (targets taken from the same 1.2
field), and its enumerations are checked against the standard lists in ENUMS_11. Envelopes (Single*/…Set/plural
wrappers), GUIDRef and Metadata schemas are not classes here: they become `ref` and `metadata` field types.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "standards" / "oneroster"
SPECS_12 = {
    "rostering": "onerosterv1p2rostersservice_openapi3_v1p0.json",
    "gradebook": "onerosterv1p2gradebookservice_openapi3_v1p0.json",
    "resources": "onerosterv1p2resourcesservice_openapi3_v1p0.json",
}
SPEC_11 = "oneroster_v1p1_openapi_VENDOR-EDITED_strongmind_copy.json"
EXT_PATTERN = r"(ext:)[a-zA-Z0-9\.\-_]+"
BASE_FIELDS = ("sourcedId", "status", "dateLastModified")
RENAME_11 = {"Demographic": "Demographics"}  # same class as 1.2 Demographics; one name keeps tiers and mappings shared
REF_11_EXTRA = {("User", "orgs"): "org"}  # 1.1-only GUIDRef fields (no 1.2 counterpart to copy the target from)
# 1.1 GUIDRef.type values that name a subtype of the expected target.
REF_ALIASES_11 = {"user": ["student", "teacher", "user"], "academicSession": ["academicSession", "gradingPeriod", "term"]}
# Standard 1.1 enumerations (oneroster.md §3.4/§3.5); the vendor copy is checked against them and corrected.
ENUMS_11 = {
    ("AcademicSession", "type"): ["gradingPeriod", "semester", "schoolYear", "term"],
    ("Class", "classType"): ["homeroom", "scheduled"],
    ("Demographics", "sex"): ["male", "female"],
    ("Enrollment", "role"): ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"],
    ("Org", "type"): ["department", "district", "local", "national", "school", "state"],
    ("Resource", "importance"): ["primary", "secondary"],
    ("Resource", "role"): ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"],
    ("Result", "scoreStatus"): ["exempt", "fully graded", "not submitted", "partially graded", "submitted"],
    ("User", "role"): ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"],
}
# The 1.2 files give $ref properties no description of their own (JSON Schema ignores siblings of $ref).
DESCRIPTIONS_REF = {
    ("*", "metadata"): "Container for proprietary extensions; content of unknown sensitivity.",
    ("AcademicSession", "parent"): "The parent academic session in the hierarchy.",
    ("AssessmentLineItem", "class"): "The class the assessment belongs to, if any.",
    ("AssessmentLineItem", "parentAssessmentLineItem"): "The parent assessment line item, for nested assessments.",
    ("AssessmentLineItem", "scoreScale"): "The score scale that applies.",
    ("AssessmentResult", "assessmentLineItem"): "The assessment line item that was scored.",
    ("AssessmentResult", "student"): "The student the result belongs to.",
    ("AssessmentResult", "scoreScale"): "The score scale that applies.",
    ("Class", "course"): "The course this class is an instance of.",
    ("Class", "school"): "The school org that runs the class.",
    ("Course", "schoolYear"): "The schoolYear academic session of the course.",
    ("Course", "org"): "The org that owns the course.",
    ("Enrollment", "user"): "The enrolled user.",
    ("Enrollment", "class"): "The class of the enrollment.",
    ("Enrollment", "school"): "The school org of the enrollment.",
    ("LineItem", "class"): "The class the line item belongs to.",
    ("LineItem", "school"): "The school of the class.",
    ("LineItem", "category"): "The category the line item belongs to.",
    ("LineItem", "gradingPeriod"): "The grading period (an academic session).",
    ("LineItem", "academicSession"): "The academic session of the line item (CSV academicSessionSourcedId).",
    ("LineItem", "scoreScale"): "The score scale that applies.",
    ("Org", "parent"): "The parent org in the hierarchy.",
    ("Result", "lineItem"): "The line item scored.",
    ("Result", "student"): "The student the result belongs to.",
    ("Result", "class"): "The class of the result.",
    ("Result", "scoreScale"): "The score scale that applies.",
    ("Role", "org"): "The org in which the role is held.",
    ("ScoreScale", "course"): "The course the scale is used in.",
    ("ScoreScale", "class"): "The class the scale is used in.",
    ("User", "primaryOrg"): "The user's main org.",
    ("imsx_StatusInfo", "imsx_CodeMinor"): "The minor status codes.",
}
DESCRIPTIONS_11 = {  # 1.1-only fields whose vendor-copy description is a placeholder
    ("User", "role"): "The user's single role (1.1; replaced by roles[] in 1.2).",
    ("User", "orgs"): "The orgs the user belongs to (1.1; replaced by roles[] in 1.2).",
    ("Resource", "role"): "The kind of user expected to use the resource (1.1; the array roles[] in 1.2).",
    ("imsx_StatusInfo", "imsx_messageRefIdentifier"): "Identifier of the request message the status refers to.",
    ("imsx_StatusInfo", "imsx_operationRefIdentifier"): "Identifiers of the operations the status refers to.",
}


def first_sentence(text: str | None) -> str:
    """Shortest useful description: drop the 'Model Primitive Datatype = X.' prefix and placeholders."""
    text = " ".join((text or "").split())
    text = re.sub(r"^Model Primitive Datatype = \w+\.?\s*", "", text)
    if not text or text.startswith("...tbd"):
        return ""
    m = re.search(r"(?<!\b[ie]\.g)(?<!\bi\.e)\.\s+(?=[A-Z\[('\"])", text)
    sentence = text[: m.start() + 1] if m else text
    return sentence if sentence.endswith((".", "?", "!")) else sentence + "."


def _refname(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def class_name(schema_name: str) -> str:
    name = re.sub(r"(DType|\.Type)$", "", schema_name)
    return RENAME_11.get(name, name)


def is_envelope(name: str, schema: dict) -> bool:
    """A wrapper with one property holding one or many instances of another class (Single*, *Set, plurals)."""
    props = schema.get("properties") or {}
    if name.startswith("imsx_") or "allOf" in schema or len(props) != 1:
        return False
    (prop,) = props.values()
    target = prop.get("items", prop).get("$ref")
    return bool(target) and "GUIDRef" not in target


def skip_schema(name: str, schema: dict) -> bool:
    if "GUIDRef" in name or name.startswith(("Metadata", "Base.")) or name.endswith("_Type_allOf"):
        return True
    if schema.get("type") == "string":  # 1.1 primitive aliases GUID.Type, Identifier.Type
        return True
    return is_envelope(name, schema)


class Builder:
    """Turns OpenAPI schemas of one version into {class name: class dict}."""

    def __init__(self, version: str, schemas: dict, ref12: dict | None = None):
        self.version, self.schemas, self.ref12 = version, schemas, ref12 or {}

    def properties(self, schema: dict) -> tuple[dict, list]:
        if "allOf" not in schema:
            return schema.get("properties") or {}, list(schema.get("required") or [])
        props, req = {}, []
        for part in schema["allOf"]:
            sub = self.schemas[_refname(part["$ref"])] if "$ref" in part else part
            p, r = self.properties(sub)
            props.update(p)
            req += r
        return props, req

    def field(self, cls: str, name: str, prop: dict, required: bool) -> dict:
        out = {"name": name, "required": required, "many": False, "min_items": None, "enum": None, "ext": False,
               "pattern": None, "ref": None, "cls": None, "description": first_sentence(prop.get("description"))}
        if prop.get("type") == "array":
            out["many"], out["min_items"] = True, prop.get("minItems", 0)
            prop = prop["items"]
            out["description"] = out["description"] or first_sentence(prop.get("description"))
        out.update(self.item(cls, name, prop))
        if not out["description"]:
            out["description"] = DESCRIPTIONS_REF.get((cls, name)) or DESCRIPTIONS_REF.get(("*", name), "")
        return out

    def item(self, cls: str, name: str, p: dict) -> dict:
        if "$ref" in p:
            target = _refname(p["$ref"])
            if "GUIDRef" in target:
                return {"type": "ref", "ref": self.ref_target(cls, name, target)}
            if target.startswith("Metadata"):
                return {"type": "metadata"}
            return {"type": "object", "cls": class_name(target)}
        if "anyOf" in p:
            out = {"type": "string"}
            for alt in p["anyOf"]:
                if "enum" in alt:
                    out["enum"] = list(alt["enum"])
                elif alt.get("pattern") == EXT_PATTERN:
                    out["ext"] = True
                elif "pattern" in alt:
                    out["pattern"] = alt["pattern"]
                else:
                    raise ValueError(f"{cls}.{name}: unexpected anyOf branch {alt}")
            return out
        t, fmt = p.get("type"), p.get("format")
        if t == "string":
            if sorted(p.get("enum") or []) == ["false", "true"]:
                return {"type": "boolstring", "enum": ["true", "false"]}
            kind = {"date": "date", "date-time": "datetime", "uri": "uri", None: "string"}[fmt]
            return {"type": kind, "enum": list(p["enum"]) if "enum" in p else None}
        if t in ("boolean", "integer", "number"):
            return {"type": t}
        if t == "object" and name == "metadata":
            return {"type": "metadata"}
        raise ValueError(f"{cls}.{name}: unsupported schema {p}")

    def ref_target(self, cls: str, name: str, guidref: str) -> str:
        if self.version == "1.2":
            return self.schemas[guidref]["properties"]["type"]["enum"][0]
        target = REF_11_EXTRA.get((cls, name)) or self.ref12.get((cls, name))
        if not target:
            raise ValueError(f"1.1 {cls}.{name}: no GUIDRef target known")
        return target

    def build(self, service_of) -> dict:
        classes = {}
        for sname, schema in self.schemas.items():
            if skip_schema(sname, schema):
                continue
            cname = class_name(sname)
            props, req = self.properties(schema)
            fields = [self.field(cname, n, p, n in req) for n, p in props.items()]
            classes[cname] = {
                "base": all(b in props for b in BASE_FIELDS),
                "open": schema.get("additionalProperties") is True,
                "service": service_of(cname, sname),
                "spec": [sname],
                "description": first_sentence(schema.get("description")),
                "fields": fields,
            }
        return classes


def merge_services(per_service: dict[str, dict]) -> dict:
    """Union of the three 1.2 services; classes shared by several (imsx_*) get the union of their enumerations."""
    merged: dict = {}
    for service, classes in per_service.items():
        for name, c in classes.items():
            if name not in merged:
                merged[name] = c
                continue
            m = merged[name]
            m["service"], m["spec"] = "common", sorted(set(m["spec"]) | set(c["spec"]))
            for mf, cf in zip(m["fields"], c["fields"]):
                assert mf["name"] == cf["name"], (name, mf["name"], cf["name"])
                if cf["enum"]:
                    mf["enum"] = mf["enum"] + [v for v in cf["enum"] if v not in mf["enum"]]
    return merged


def apply_tiers(classes: dict, tiers: dict) -> None:
    glob = tiers.get("fields", {})
    for cname, c in classes.items():
        ct = tiers["classes"].get(cname, {})
        default = ct.get("default", tiers["default"])
        for f in c["fields"]:
            f["tier"] = ct.get("fields", {}).get(f["name"], glob.get(f["name"], default))


def check_tiers(tiers: dict, models: list[dict]) -> None:
    """Fail on tier entries that name nothing: a typo there would silently leave a field at the default tier."""
    for cname, ct in tiers["classes"].items():
        known = [m["classes"][cname] for m in models if cname in m["classes"]]
        if not known:
            raise ValueError(f"tiers.json: unknown class {cname}")
        names = {f["name"] for c in known for f in c["fields"]}
        for fname, tier in ct.get("fields", {}).items():
            if fname not in names:
                raise ValueError(f"tiers.json: unknown field {cname}.{fname}")
            if tier not in (0, 1, 2, 3):
                raise ValueError(f"tiers.json: bad tier {cname}.{fname}={tier}")


def build_12(specs: Path) -> dict:
    per_service = {}
    for service, fname in SPECS_12.items():
        schemas = json.loads((specs / fname).read_text())["components"]["schemas"]
        per_service[service] = Builder("1.2", schemas).build(lambda c, s, sv=service: sv)
    classes = merge_services(per_service)
    return {"standard": "oneroster", "version": "1.2", "sources": SPECS_12, "refAliases": {},
            "corrections": [], "classes": dict(sorted(classes.items()))}


def build_11(specs: Path, m12: dict) -> dict:
    schemas = json.loads((specs / SPEC_11).read_text())["components"]["schemas"]
    c12 = m12["classes"]
    ref12 = {(cn, f["name"]): f["ref"] for cn, c in c12.items() for f in c["fields"] if f["ref"]}
    classes = Builder("1.1", schemas, ref12).build(lambda c, s: c12[c]["service"] if c in c12 else "common")
    corrections = []
    for cname, c in classes.items():
        d12 = {f["name"]: f["description"] for f in c12.get(cname, {}).get("fields", [])}
        c["open"] = False  # the copy omits additionalProperties everywhere; records are closed as in 1.2
        c["description"] = c["description"] or c12.get(cname, {}).get("description", "")
        for f in c["fields"]:
            f["description"] = DESCRIPTIONS_11.get((cname, f["name"])) or d12.get(f["name"]) or f["description"]
            std = ENUMS_11.get((cname, f["name"]))
            if std is not None and f["enum"] != std:
                corrections.append(f"{cname}.{f['name']}: enum {f['enum']} -> {std}")
                f["enum"] = std
    return {"standard": "oneroster", "version": "1.1", "sources": {"all": SPEC_11}, "refAliases": REF_ALIASES_11,
            "corrections": corrections, "classes": dict(sorted(classes.items()))}


def build(specs: Path) -> dict[str, dict]:
    m12 = build_12(specs)
    m11 = build_11(specs, m12)
    tiers = json.loads((OUT / "tiers.json").read_text())
    check_tiers(tiers, [m12, m11])
    for m in (m12, m11):
        apply_tiers(m["classes"], tiers)
        missing = [f"{cn}.{f['name']}" for cn, c in m["classes"].items() for f in c["fields"] if not f["description"]]
        if missing:
            raise ValueError(f"{m['version']}: fields without description: {missing}")
    return {"v1p2": m12, "v1p1": m11}


def dump(model: dict) -> str:
    return json.dumps(model, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--specs", type=Path, default=REPO.parent / "shared" / "specs" / "oneroster")
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed files differ; write nothing")
    args = ap.parse_args(argv)
    stale = []
    for folder, model in build(args.specs).items():
        path, text = OUT / folder / "model.json", dump(model)
        if path.exists() and path.read_text() == text:
            continue
        stale.append(str(path.relative_to(REPO)))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    print(("stale: " if args.check else "written: ") + (", ".join(stale) or "nothing"), file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
