"""OneRoster CSV bindings (1.2 and 1.1): manifest keys, files, exact column order and the column -> JSON mapping.

Why: CSV import and export must produce and accept the same records as the REST API, so every column states where it
lands in the JSON model (standards/model.py); readers and writers are then generic loops over this table.

Column `required`: true, false, or "delta" (status and dateLastModified: filled in delta mode, blank in bulk mode).
Column `format`: GUID, GUIDRef, GUIDRefList, String, StringList, Date, DateTime, Year, Boolean, Enumeration, Integer,
Float, UserIds, ScoreScaleValues. Boolean covers every true/false column (the spec prints some as Enumeration); the
model field type says whether it becomes "true"/"false" (1.2 boolstring) or a JSON boolean (1.1).

Column `field` descriptors; paths are dotted and resolved from the file's root class (`nest.into` when the file is
nested, else `cls`); a path through an array of objects fills one element per row:
  "title"                              value copied to the field of the same name
  {"to": "preferredFirstName"}         value copied to another field (CSV preferredGivenName)
  {"ref": "org", "to": "org"}          one GUIDRef {"sourcedId": value, "type": "org"}; href is the server's business
  {"reflist": "academicSession", "to": "terms"}   comma list -> GUIDRefs
  {"list": "grades"}                   comma list -> strings
  {"pairs": "userIds", "keys": ["type", "identifier"]}   "{a:b},{c:d}" -> [{"type": "a", "identifier": "b"}, ...]
  {"meta": "sourcedId"}                no place in the JSON model: a nested row's own sourcedId/status/
                                       dateLastModified, the nest key ("key"), link-file titles, userResources'
                                       org/class context, scoreScales.orgSourcedId (ScoreScale JSON has no org)
File `nest` ({"into": "User", "key": "userSourcedId", "as": "roles", "group": [...]}): rows are not records but
parts of the record of class `into` whose sourcedId is in column `key`; each row adds one element to the array
`as` (or sets it, when `as` is a single field: at most one row per parent). With `group`, rows sharing the key and
these columns form one element (learning-objective files: one set per source). Used by roles, userProfiles
(sourcedId -> profileId), the *Resources files, the *ScoreScales files and the *LearningObjectiveIds files.

1.1 users.csv has `role` and `orgSourcedIds` instead of roles.csv. They map to the 1.1 model (User.role, User.orgs)
and carry "role11": "role" / "role11": "org". To build 1.2 roles[], emit one Role per org in orgSourcedIds:
{"roleType": binding.role11["roleType"], "role": binding.role11["map"].get(role, role), "org": <org ref>}.
1.1 "administrator" has no 1.2 Role.role value: the map says siteAdministrator (use districtAdministrator when the
reader knows the org is a district).

Other deliberate mappings: lineItems assignDate/dueDate are Date in CSV but datetime in JSON (widen to midnight
UTC); users.csv grades is printed as String in the spec but is a list; 1.1 classes.csv periods stays one String
(1.1 JSON periods is a string); 1.1 resources.csv `roles` maps to the single 1.1 Resource.role.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

_ROOT = Path(__file__).resolve().parent / "oneroster"
_FOLDERS = {"1.2": "v1p2", "1.1": "v1p1"}
FORMATS = frozenset({"GUID", "GUIDRef", "GUIDRefList", "String", "StringList", "Date", "DateTime", "Year", "Boolean",
                     "Enumeration", "Integer", "Float", "UserIds", "ScoreScaleValues"})
KINDS = ("value", "ref", "reflist", "list", "pairs", "meta")


@dataclass(frozen=True)
class CsvColumn:
    name: str
    required: bool | str  # True, False or "delta"
    format: str
    field: str | Mapping  # the raw descriptor from csv.json
    kind: str  # value | ref | reflist | list | pairs | meta
    path: str | None  # model path from the file's root class (None for meta)
    ref: str | None = None  # GUIDRef target type for ref / reflist
    keys: tuple[str, str] | None = None  # member names for pairs
    role11: str | None = None  # 1.1 users.csv: "role" or "org" (see module docstring)

    @property
    def meta(self) -> str | None:
        return self.field["meta"] if self.kind == "meta" else None


@dataclass(frozen=True)
class CsvFile:
    name: str
    manifest_key: str
    cls: str
    columns: tuple[CsvColumn, ...]
    nest: Mapping | None = None
    note: str = ""

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def root(self) -> str:
        """Class from which column paths resolve: the parent record for nested files."""
        return self.nest["into"] if self.nest else self.cls

    def column(self, name: str) -> CsvColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class CsvBinding:
    version: str
    manifest_keys: Mapping[str, bool]  # key -> required, in spec order
    files: Mapping[str, CsvFile]  # file name -> CsvFile, in spec order
    file_modes: tuple[str, ...] = ("absent", "bulk", "delta")
    role11: Mapping | None = None

    def by_manifest_key(self, key: str) -> CsvFile:
        for f in self.files.values():
            if f.manifest_key == key:
                return f
        raise KeyError(key)


def _column(d: dict, where: str) -> CsvColumn:
    f = d["field"]
    if d["format"] not in FORMATS:
        raise ValueError(f"{where}: unknown format {d['format']!r}")
    if d["required"] not in (True, False, "delta"):
        raise ValueError(f"{where}: bad required flag {d['required']!r}")
    kw: dict = {}
    if isinstance(f, str):
        kind, path = "value", f
    elif "meta" in f:
        kind, path = "meta", None
    elif "ref" in f:
        kind, path, kw["ref"] = "ref", f["to"], f["ref"]
    elif "reflist" in f:
        kind, path, kw["ref"] = "reflist", f["to"], f["reflist"]
    elif "list" in f:
        kind, path = "list", f["list"]
    elif "pairs" in f:
        kind, path, kw["keys"] = "pairs", f["pairs"], tuple(f["keys"])
    elif "to" in f:
        kind, path = "value", f["to"]
    else:
        raise ValueError(f"{where}: unknown field descriptor {f!r}")
    if isinstance(f, dict):
        kw["role11"] = f.get("role11")
        f = MappingProxyType(dict(f))
    return CsvColumn(d["name"], d["required"], d["format"], f, kind, path, **kw)


def binding_from_dict(data: dict) -> CsvBinding:
    """Build a CsvBinding from the csv.json structure (exposed for tests and tools)."""
    files: dict[str, CsvFile] = {}
    for fd in data["files"]:
        cols = tuple(_column(c, f"{fd['name']}.{c['name']}") for c in fd["columns"])
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise ValueError(f"{fd['name']}: duplicate column names")
        nest = MappingProxyType(dict(fd["nest"])) if fd.get("nest") else None
        if nest is not None and nest["key"] not in names:
            raise ValueError(f"{fd['name']}: nest key {nest['key']} is not a column")
        files[fd["name"]] = CsvFile(fd["name"], fd["manifestKey"], fd["cls"], cols, nest, fd.get("note", ""))
    manifest = MappingProxyType({m["key"]: m["required"] for m in data["manifest"]})
    role11 = MappingProxyType(data["role11"]) if data.get("role11") else None
    return CsvBinding(data["version"], manifest, MappingProxyType(files), tuple(data["fileModes"]), role11)


@functools.cache
def load_csv_binding(version: str) -> CsvBinding:
    """Load standards/oneroster/v1p2|v1p1/csv.json once per process."""
    folder = _FOLDERS.get(version)
    if folder is None:
        raise ValueError(f"no CSV binding for OneRoster {version}; known: {sorted(_FOLDERS)}")
    return binding_from_dict(json.loads((_ROOT / folder / "csv.json").read_text(encoding="utf-8")))


def split_list(value: str) -> list[str]:
    """A List of GUID References / List of Strings cell ("t1,t2") -> items; blank -> []."""
    return [s.strip() for s in value.split(",") if s.strip()] if value else []


def parse_pairs(value: str) -> list[tuple[str, str]]:
    """A userIds / scoreScaleValue cell ("{LDAP:12},{LTI:15}") -> [("LDAP", "12"), ("LTI", "15")].

    Splits each pair at its first colon, so right-hand values may contain colons (URNs). Raises ValueError.
    """
    out: list[tuple[str, str]] = []
    text = value.strip()
    while text:
        if not text.startswith("{") or "}" not in text:
            raise ValueError(f"not a {{key:value}} list: {value!r}")
        inner, _, text = text[1:].partition("}")
        left, sep, right = inner.partition(":")
        if not sep:
            raise ValueError(f"pair without ':' in {value!r}")
        out.append((left.strip(), right.strip()))
        text = text.lstrip()
        if text.startswith(","):
            text = text[1:].lstrip()
        elif text:
            raise ValueError(f"expected ',' between pairs in {value!r}")
    return out
