"""Generate standards/edfi/v5p1/model.json.gz from the Ed-Fi DMS ApiSchema (Data Standard 5.1).

Why: mapping targets, validation and (later) the Ed-Fi API must agree on one definition of every Ed-Fi resource, in
the same ModelDef/ClassDef/FieldDef shape as the OneRoster models, so the mapping compiler and the validator need no
per-resource code. The ApiSchema (MetaEd's output, read by the Ed-Fi Data Management Service) holds per resource the
JSON Schema for insert, the identity JSON paths, references and descriptors; everything here is derived from it.

    python standards/tools/generate_edfi.py [--specs DIR] [--check]

What is produced (see standards/README.md):

* one base class per resource and descriptor (340 in DS 5.1), named by the Ed-Fi resource name (Student, School,
  StudentSchoolAssociation, SexDescriptor); ``identity`` lists the dotted paths of its natural key (descriptors:
  namespace and codeValue), ``recordType`` the store's type (``edfi.<resourceName>``, at most 48 characters);
* one nested class per object member, named ``<Resource>.<member>`` (``School.addresses``,
  ``StudentSchoolAssociation.schoolReference``); a reference member has ``ref`` = the referenced resource, and its
  class's ``identity`` lists its members in the order of the referenced resource's identity paths;
* field types: string, date, datetime, time, integer, number, boolean, descriptor (``ref`` = the descriptor resource),
  object; string lengths, patterns, numeric bounds and minItems are kept; every resource also gets an optional ``id``
  (the Ed-Fi resource id, which Trellis stores as the record key);
* abstract resources (EducationOrganization, GeneralStudentProgramAssociation) as non-base classes with identity only;
* ``equal``: the ApiSchema's equalityConstraints (key unification, e.g. a CourseOffering's school and session school).

Privacy tiers come from standards/edfi/tiers.json (the gateway policy of privacy-security.md section 2.3; its "notes"
give the precedence): every field gets its tier here, and ``prohibited`` lists the value-level tier-3 rules of a class
(``[field, descriptor field, code-value pattern]``: an identification code of an SSN system is rejected by the
validator). An entry naming a class or field that does not exist fails the generation.

Fields on identity paths are marked required even where the JSON Schema leaves them optional (schoolYear inside a
schoolYearTypeReference): without its whole natural key a document has no id.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "standards" / "edfi" / "v5p1" / "model.json.gz"
TIERS = REPO / "standards" / "edfi" / "tiers.json"
SPEC = "ds-5.1-ApiSchema-authoritative_MetaEd-2024-12-18.json"
PROJECT = "ed-fi"
RTYPE_MAX = 48  # records.type is String(48)
PREFIX = "edfi."
FORMATS = {"date": "date", "date-time": "datetime", "time": "time"}
SCALARS = {"integer": "integer", "number": "number", "boolean": "boolean"}
DESCRIPTOR_IDENTITY = ("namespace", "codeValue")
ID_DESCRIPTION = ("The resource id; Trellis stores the record under it. Left out, the id is derived from the "
                  "natural key (UUID v5, as the Ed-Fi DMS derives its referentialId).")


def first_sentence(text: str | None) -> str:
    text = " ".join((text or "").split())
    m = re.search(r"(?<!\b[ie]\.g)(?<!\bi\.e)\.\s+(?=[A-Z])", text)
    sentence = text[: m.start() + 1] if m else text
    return sentence if not sentence or sentence.endswith((".", "?", "!")) else sentence + "."


def record_type(resource: str) -> str:
    """``edfi.`` + the resource name with a lower-case first letter; names too long for the column are cut and
    given a digest of the full name, so they stay unique and stable."""
    name = PREFIX + resource[0].lower() + resource[1:]
    if len(name) <= RTYPE_MAX:
        return name
    digest = hashlib.sha1(resource.encode()).hexdigest()[:6]
    return name[: RTYPE_MAX - len(digest) - 1] + "~" + digest


def _strip(path: str) -> str:
    if not path.startswith("$."):
        raise ValueError(f"unexpected JSON path {path!r}")
    return path[2:]


class _Resource:
    """One resource schema turned into classes (the resource and its nested objects)."""

    def __init__(self, schema: dict, identities: dict[str, list[str]], descriptor_fields: dict[str, dict]):
        self.schema, self.name = schema, schema["resourceName"]
        self.identities, self.descriptor_fields = identities, descriptor_fields
        self.descriptors: dict[str, str] = {}  # JSON path -> descriptor resource
        self.references: dict[str, tuple[str, dict[str, str]]] = {}  # object path -> (target, member -> identity)
        for entry in schema["documentPathsMapping"].values():
            if entry.get("isDescriptor"):
                self.descriptors[entry["path"]] = entry["resourceName"]
            elif entry.get("isReference"):
                members: dict[str, str] = {}  # target identity path -> member (one member may serve two)
                obj = None
                for rp in entry["referenceJsonPaths"]:
                    head, member = rp["referenceJsonPath"].rsplit(".", 1)
                    if obj not in (None, head):
                        raise ValueError(f"{self.name}: reference paths under two objects: {obj}, {head}")
                    obj, members[_strip(rp["identityJsonPath"])] = head, member
                self.references[obj] = (entry["resourceName"], members)
        self.classes: dict[str, dict] = {}

    def build(self) -> dict[str, dict]:
        s = self.schema
        insert = s["jsonSchemaForInsert"]
        fields = self.fields(self.name, "$", insert)
        if not s["isDescriptor"]:
            fields.insert(0, _field("id", "string", False, description=ID_DESCRIPTION))
        if s["isDescriptor"]:
            identity, kind = list(DESCRIPTOR_IDENTITY), "descriptor"
        else:
            identity = [_strip(p) for p in s["identityJsonPaths"]]
            kind = "enumeration" if s["isSchoolYearEnumeration"] else "resource"
        top = {"base": True, "kind": kind, "description": first_sentence(insert.get("description")),
               "identity": identity, "recordType": record_type(self.name), "fields": fields,
               "equal": [[_strip(c["sourceJsonPath"]), _strip(c["targetJsonPath"])]
                         for c in s["equalityConstraints"]]}
        self.require(fields, identity)
        if s.get("isSubclass") and s.get("superclassIdentityJsonPath"):
            top["superclass"] = [s["superclassResourceName"], _strip(s["superclassIdentityJsonPath"])]
        return {self.name: top, **self.classes}

    def require(self, fields: list[dict], identity: list[str]) -> None:
        """Every field on an identity path is required (the school year type reference's schema leaves its schoolYear
        optional): a document without its full natural key has no id."""
        for path in identity:
            members, cls = fields, None
            for part in path.split("."):
                f = next(f for f in members if f["name"] == part)
                f["required"] = True
                cls = f["cls"]
                members = self.classes[cls]["fields"] if cls else []

    def fields(self, cls: str, path: str, schema: dict) -> list[dict]:
        required = set(schema.get("required", ()))
        return [self.field(cls, name, f"{path}.{name}", prop, name in required)
                for name, prop in sorted(schema.get("properties", {}).items())]

    def field(self, cls: str, name: str, path: str, prop: dict, required: bool) -> dict:
        many, min_items = False, None
        if prop.get("type") == "array":
            many, min_items = True, prop.get("minItems") or None
            prop, path = prop["items"], path + "[*]"
        t = prop.get("type")
        description = first_sentence(prop.get("description"))
        if t == "object":
            nested = f"{cls}.{name}"
            ref = None
            extra: dict = {}
            if path in self.references:
                ref, members = self.references[path]
                target_identity = self.identities[ref]
                if sorted(members) != sorted(target_identity):
                    raise ValueError(f"{self.name}: {path} does not carry the identity of {ref}")
                extra = {"identity": [members[p] for p in target_identity]}
            members_ = self.fields(nested, path, prop)
            if ref is not None:  # a descriptor in the target's identity is a descriptor in the reference too
                target_descriptors = self.descriptor_fields.get(ref, {})
                for target_path, member in members.items():
                    f = next(f for f in members_ if f["name"] == member)
                    if f["type"] == "string" and target_path in target_descriptors:
                        f["type"], f["ref"] = "descriptor", target_descriptors[target_path]
            self.classes[nested] = {"base": False, "kind": "reference" if ref else "", "description": "",
                                    "fields": members_, **extra}
            return _field(name, "object", required, many, min_items, ref=ref, cls=nested, description=description)
        if t == "string":
            if path in self.descriptors:
                ftype, ref = "descriptor", self.descriptors[path]
            else:
                ftype, ref = FORMATS.get(prop.get("format"), "string"), None
            return _field(name, ftype, required, many, min_items, ref=ref, description=description,
                          pattern=prop.get("pattern"), max_length=prop.get("maxLength"),
                          min_length=prop.get("minLength"))
        if t in SCALARS:
            return _field(name, SCALARS[t], required, many, min_items, description=description,
                          minimum=prop.get("minimum"), maximum=prop.get("maximum"))
        raise ValueError(f"{self.name}: {path}: unsupported JSON Schema type {t!r}")


def _field(name: str, type_: str, required: bool, many: bool = False, min_items: int | None = None, *,
           ref: str | None = None, cls: str | None = None, description: str = "", **limits) -> dict:
    d = {"name": name, "type": type_, "required": required, "many": many, "min_items": min_items, "enum": None,
         "ext": False, "ref": ref, "cls": cls, "tier": 0, "description": description}
    d.update({k: v for k, v in limits.items() if v is not None})
    return d


def build(spec: Path) -> dict:
    data = json.loads(spec.read_text(encoding="utf-8"))
    project = data["projectSchemas"][PROJECT]
    resources = project["resourceSchemas"]
    identities = {r["resourceName"]: [_strip(p) for p in r["identityJsonPaths"]] for r in resources.values()}
    for name, abstract in project["abstractResources"].items():
        identities[name] = [_strip(p) for p in abstract["identityJsonPaths"]]
    descriptor_fields = {r["resourceName"]: {_strip(e["path"]): e["resourceName"]
                                             for e in r["documentPathsMapping"].values() if e.get("isDescriptor")}
                         for r in resources.values()}
    classes: dict[str, dict] = {}
    for endpoint, schema in sorted(resources.items()):
        built = _Resource(schema, identities, descriptor_fields).build()
        built[schema["resourceName"]]["endpoint"] = endpoint
        clash = set(built) & set(classes)
        if clash:
            raise ValueError(f"class defined twice: {sorted(clash)}")
        classes.update(built)
    for name, abstract in sorted(project["abstractResources"].items()):
        classes[name] = {"base": False, "kind": "abstract", "description": "", "fields": [],
                         "identity": identities[name], "recordType": record_type(name)}
    types = [c["recordType"] for c in classes.values() if c.get("recordType")]
    if len(types) != len(set(types)):
        raise ValueError("two resources share a record type")
    tiers = json.loads(TIERS.read_text(encoding="utf-8"))
    check_tiers(classes, tiers)
    apply_tiers(classes, tiers)
    version = project["projectVersion"]  # "5.1.0"
    return {"standard": "edfi", "version": ".".join(version.split(".")[:2]), "dataStandard": version,
            "source": {"file": SPEC, "apiSchemaVersion": data["apiSchemaVersion"],
                       "origin": "Ed-Fi-Alliance-OSS/MetaEd-js@e057920b9c35a11cb81c753f106f7d94b51af38c"},
            "classes": classes}


def apply_tiers(classes: dict, tiers: dict) -> None:
    """Set every field's tier (precedence in tiers.json "notes"); parents are resolved before their nested classes,
    whose default is the tier of the field that holds them."""
    glob, kinds = tiers.get("fields", {}), tiers.get("kinds", {})
    for name in sorted(classes, key=lambda n: n.count(".")):
        c, ct = classes[name], tiers["classes"].get(name, {})
        if "." in name:
            parent, member = name.rsplit(".", 1)
            inherited = next(f["tier"] for f in classes[parent]["fields"] if f["name"] == member)
        else:
            inherited = kinds.get(c["kind"], tiers["default"])
        default = ct.get("default", inherited)
        for f in c["fields"]:
            f["tier"] = ct.get("fields", {}).get(f["name"], glob.get(f["name"], default))
    for rule in tiers.get("prohibitedValues", ()):
        classes[rule["class"]].setdefault("prohibited", []).append([rule["field"], rule["when"], rule["codeValue"]])


def check_tiers(classes: dict, tiers: dict) -> None:
    """Fail on tier entries that name nothing: a typo there would silently leave a field at its default tier."""
    def tier(where: str, value) -> None:
        if value not in (0, 1, 2, 3):
            raise ValueError(f"tiers.json: bad tier {where}={value!r}")
    tier("default", tiers["default"])
    for kind, value in tiers.get("kinds", {}).items():
        tier(f"kinds.{kind}", value)
    every = {f["name"] for c in classes.values() for f in c["fields"]}
    for fname, value in tiers.get("fields", {}).items():
        if fname not in every:
            raise ValueError(f"tiers.json: no class has a field {fname}")
        tier(f"fields.{fname}", value)
    for cname, ct in tiers["classes"].items():
        if cname not in classes:
            raise ValueError(f"tiers.json: unknown class {cname}")
        if "default" in ct:
            tier(f"{cname}.default", ct["default"])
        names = {f["name"] for f in classes[cname]["fields"]}
        for fname, value in ct.get("fields", {}).items():
            if fname not in names:
                raise ValueError(f"tiers.json: unknown field {cname}.{fname}")
            tier(f"{cname}.{fname}", value)
    for rule in tiers.get("prohibitedValues", ()):
        c = classes.get(rule["class"])
        if c is None:
            raise ValueError(f"tiers.json: prohibitedValues: unknown class {rule['class']}")
        fields = {f["name"]: f for f in c["fields"]}
        for key in ("field", "when"):
            if rule[key] not in fields:
                raise ValueError(f"tiers.json: prohibitedValues: unknown field {rule['class']}.{rule[key]}")
        if fields[rule["when"]]["type"] != "descriptor":
            raise ValueError(f"tiers.json: prohibitedValues: {rule['class']}.{rule['when']} is not a descriptor")
        re.compile(rule["codeValue"])


def dump(model: dict) -> bytes:
    text = json.dumps(model, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)  # mtime 0: reproducible bytes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--specs", type=Path, default=REPO.parent / "shared" / "specs" / "edfi" / "apischema")
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file differs; write nothing")
    args = ap.parse_args(argv)
    spec = args.specs / SPEC if args.specs.is_dir() else args.specs
    blob = dump(build(spec))
    stale = not OUT.exists() or OUT.read_bytes() != blob
    if stale and not args.check:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_bytes(blob)
    label = str(OUT.relative_to(REPO)) if stale else "nothing"
    print(("stale: " if args.check else "written: ") + label, file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
