"""Machine-readable information models (OneRoster 1.2 and 1.1, Ed-Fi Data Standard 5.1) as frozen dataclasses.

Why: validation, privacy tiers, CSV mapping and API serialisation must agree on one definition of every field; the
JSON files under standards/oneroster/ and standards/edfi/ are generated from the official specs
(standards/tools/generate_oneroster.py, generate_edfi.py) and loaded here once per process, in one shape for both
standards so that no consumer needs code per standard or per resource.

Field types: string, date, datetime, time, uri, integer, number, boolean (1.1 and Ed-Fi JSON booleans), boolstring
(1.2 "true"/"false"), ref (GUIDRef; `ref` names the target type), object (nested class named by `cls`; in Ed-Fi a
natural-key reference when `ref` names the referenced resource), descriptor (Ed-Fi descriptor URI
"uri://ed-fi.org/SexDescriptor#Female"; `ref` names the descriptor), metadata (free object).
Ed-Fi classes also carry their natural key (`ClassDef.identity`) and the store's record type (`record_type`).
Every field has a privacy tier (0-3, privacy-security.md section 2.3), set at generation time from
standards/oneroster/tiers.json or standards/edfi/tiers.json; `ClassDef.prohibited` holds value-level tier-3 rules.
"""
from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

_ROOT = Path(__file__).resolve().parent
_FOLDERS = {("oneroster", "1.2"): "oneroster/v1p2", ("oneroster", "1.1"): "oneroster/v1p1",
            ("edfi", "5.1"): "edfi/v5p1"}
_ALIASES = {("edfi", "5"): "5.1", ("edfi", "5.1.0"): "5.1"}  # the newest minor version kept for a major one
_INDEX = re.compile(r"\[\d*\]")
TYPES = frozenset({"string", "date", "datetime", "time", "uri", "integer", "number", "boolean", "boolstring", "ref",
                   "object", "descriptor", "metadata"})


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: str
    required: bool
    many: bool
    min_items: int | None
    enum: tuple[str, ...] | None
    ext: bool
    ref: str | None
    cls: str | None
    tier: int
    description: str
    pattern: str | None = None  # enum: non-ext alternative (LearningObjective*.source); string: must match (Ed-Fi)
    max_length: int | None = None  # string lengths and numeric bounds (Ed-Fi)
    min_length: int | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None


def _ref_subfields(target: str, tier: int) -> Mapping[str, FieldDef]:
    """The three members of a GUIDRef; not classes in the model, so synthesised on demand."""
    return MappingProxyType({
        "href": FieldDef("href", "uri", True, False, None, None, False, None, None, tier,
                         "URI of the referenced object (optional on input)."),
        "sourcedId": FieldDef("sourcedId", "string", True, False, None, None, False, None, None, tier,
                              "sourcedId of the referenced object."),
        "type": FieldDef("type", "string", True, False, None, (target,), False, None, None, tier,
                         "Type of the referenced object."),
    })


@dataclass(frozen=True, eq=False)  # identity semantics: one instance per loaded model
class ClassDef:
    name: str
    base: bool
    fields: Mapping[str, FieldDef]
    open: bool = False  # additionalProperties: true (only Credential in 1.2)
    service: str = ""
    description: str = ""
    # Ed-Fi: kind (resource, descriptor, enumeration, abstract, reference or "" for a nested object), natural key
    # (dotted paths; for a reference, its members in the order of the referenced resource's identity), the store's
    # record type, and key unification (pairs of paths whose values must be equal).
    kind: str = ""
    identity: tuple[str, ...] = ()
    record_type: str = ""
    equal: tuple[tuple[str, str], ...] = ()
    # Value-level tier 3 (standards/edfi/tiers.json "prohibitedValues"): (field, descriptor field, code-value pattern);
    # the field must be absent when the descriptor's code value matches (an identification code of an SSN system).
    prohibited: tuple[tuple[str, str, str], ...] = ()
    _classes: Mapping[str, "ClassDef"] = dc_field(default_factory=lambda: MappingProxyType({}), repr=False,
                                                 compare=False)

    def _walk(self, path: str) -> list[FieldDef]:
        segments = [s for s in _INDEX.sub("", path).split(".") if s]
        if not segments:
            raise KeyError(path)
        chain: list[FieldDef] = []
        fields: Mapping[str, FieldDef] = self.fields
        for seg in segments:
            if chain:
                prev = chain[-1]
                if prev.type == "object":
                    fields = self._classes[prev.cls].fields
                elif prev.type == "ref":
                    fields = _ref_subfields(prev.ref, prev.tier)
                else:
                    raise KeyError(f"{self.name}.{path}: {prev.name} has no sub-fields")
            if seg not in fields:
                raise KeyError(f"{self.name}.{path}: no field {seg!r}")
            chain.append(fields[seg])
        return chain

    def field(self, path: str) -> tuple[FieldDef, bool]:
        """Resolve a dotted path ("roles.org.sourcedId"; "[n]" indexes are ignored) through object and ref fields.

        Returns the leaf FieldDef and whether any segment on the way is an array. Raises KeyError.
        """
        chain = self._walk(path)
        return chain[-1], any(f.many for f in chain)

    def tier(self, path: str) -> int:
        """Effective tier of a path: the highest tier along it (a T1 container makes its members at least T1)."""
        return max(f.tier for f in self._walk(path))

    def has(self, path: str) -> bool:
        try:
            self._walk(path)
        except KeyError:
            return False
        return True


@dataclass(frozen=True, eq=False)  # identity semantics: one instance per loaded model
class ModelDef:
    standard: str
    version: str
    classes: Mapping[str, ClassDef]
    ref_aliases: Mapping[str, tuple[str, ...]] = dc_field(default_factory=lambda: MappingProxyType({}))  # 1.1
    corrections: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> ClassDef:
        return self.classes[name]

    def ref_types(self, target: str) -> tuple[str, ...]:
        """GUIDRef `type` values accepted for a reference to `target` (1.1 also allows e.g. student for user)."""
        return self.ref_aliases.get(target, (target,))


def _field(d: dict) -> FieldDef:
    if d["type"] not in TYPES:
        raise ValueError(f"unknown field type {d['type']!r} for {d['name']}")
    return FieldDef(
        name=d["name"], type=d["type"], required=d["required"], many=d["many"], min_items=d["min_items"],
        enum=tuple(d["enum"]) if d["enum"] is not None else None, ext=d["ext"], ref=d["ref"], cls=d["cls"],
        tier=d["tier"], description=d["description"], pattern=d.get("pattern"), max_length=d.get("max_length"),
        min_length=d.get("min_length"), minimum=d.get("minimum"), maximum=d.get("maximum"),
    )


def model_from_dict(data: dict) -> ModelDef:
    """Build a ModelDef from the model.json structure (exposed for tests and tools)."""
    registry: dict[str, ClassDef] = {}
    view = MappingProxyType(registry)
    for name, c in data["classes"].items():
        fields = MappingProxyType({f["name"]: _field(f) for f in c["fields"]})
        registry[name] = ClassDef(name, c["base"], fields, c.get("open", False), c.get("service", ""),
                                  c.get("description", ""), kind=c.get("kind", ""),
                                  identity=tuple(c.get("identity", ())), record_type=c.get("recordType", ""),
                                  equal=tuple(tuple(pair) for pair in c.get("equal", ())),
                                  prohibited=tuple(tuple(rule) for rule in c.get("prohibited", ())), _classes=view)
    for c in registry.values():
        for f in c.fields.values():
            if f.type == "object" and f.cls not in registry:
                raise ValueError(f"{c.name}.{f.name}: unknown class {f.cls}")
    aliases = {k: tuple(v) for k, v in data.get("refAliases", {}).items()}
    return ModelDef(data["standard"], data["version"], view, MappingProxyType(aliases),
                    tuple(data.get("corrections", ())))


def load_model(standard: str, version: str) -> ModelDef:
    """Load standards/<standard>/v<x>p<y>/model.json (or model.json.gz) once per process; "edfi" "5" is 5.1."""
    version = _ALIASES.get((standard, version), version)
    if (standard, version) not in _FOLDERS:
        known = ", ".join(f"{s} {v}" for s, v in sorted({*_FOLDERS, *_ALIASES}))
        raise ValueError(f"no model for {standard} {version}; known: {known}")
    return _load(standard, version)


@functools.cache
def _load(standard: str, version: str) -> ModelDef:
    folder = _ROOT / _FOLDERS[(standard, version)]
    plain = folder / "model.json"
    raw = plain.read_bytes() if plain.exists() else gzip.decompress((folder / "model.json.gz").read_bytes())
    return model_from_dict(json.loads(raw))
