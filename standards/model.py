"""Machine-readable OneRoster information models (1.2 and 1.1) as frozen dataclasses.

Why: validation, privacy tiers, CSV mapping and API serialisation must agree on one definition of every field; the
JSON files under standards/oneroster/ are generated from the official specs (standards/tools/generate_oneroster.py)
and loaded here once per process.

Field types: string, date, datetime, uri, integer, number, boolean (1.1 JSON booleans), boolstring (1.2 "true"/"false"),
ref (GUIDRef; `ref` names the target type), object (nested class named by `cls`), metadata (free object).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

_ROOT = Path(__file__).resolve().parent
_FOLDERS = {("oneroster", "1.2"): "oneroster/v1p2", ("oneroster", "1.1"): "oneroster/v1p1"}
_INDEX = re.compile(r"\[\d*\]")
TYPES = frozenset({"string", "date", "datetime", "uri", "integer", "number", "boolean", "boolstring", "ref",
                   "object", "metadata"})


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
    pattern: str | None = None  # non-ext alternative pattern (LearningObjective*.source)


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
        tier=d["tier"], description=d["description"], pattern=d.get("pattern"),
    )


def model_from_dict(data: dict) -> ModelDef:
    """Build a ModelDef from the model.json structure (exposed for tests and tools)."""
    registry: dict[str, ClassDef] = {}
    view = MappingProxyType(registry)
    for name, c in data["classes"].items():
        fields = MappingProxyType({f["name"]: _field(f) for f in c["fields"]})
        registry[name] = ClassDef(name, c["base"], fields, c.get("open", False), c.get("service", ""),
                                  c.get("description", ""), view)
    for c in registry.values():
        for f in c.fields.values():
            if f.type == "object" and f.cls not in registry:
                raise ValueError(f"{c.name}.{f.name}: unknown class {f.cls}")
    aliases = {k: tuple(v) for k, v in data.get("refAliases", {}).items()}
    return ModelDef(data["standard"], data["version"], view, MappingProxyType(aliases),
                    tuple(data.get("corrections", ())))


@functools.cache
def load_model(standard: str, version: str) -> ModelDef:
    """Load standards/<standard>/v<x>p<y>/model.json once per process."""
    folder = _FOLDERS.get((standard, version))
    if folder is None:
        raise ValueError(f"no model for {standard} {version}; known: {sorted(_FOLDERS)}")
    data = json.loads((_ROOT / folder / "model.json").read_text(encoding="utf-8"))
    return model_from_dict(data)
