"""The privacy decisions behind field profiles: which names are legal where, and what each memberSelection grants.

Why apart from the XML code in ``profiles.py``: this is the part a reviewer must be able to check against the tier
policy (privacy-security.md §2.3) without reading parser code. The rules, in short:

* T3 fields can never be granted, and a profile that so much as names one (include or exclude list, any depth) is
  refused, so nobody can believe a credential is shared or governed by a profile.
* T2 fields are granted only by naming them in an IncludeOnly list; IncludeAll and ExcludeOnly grant T0 and T1 only.
* ``sourcedId``, ``status`` and ``dateLastModified`` are always part of a granted resource (an app cannot use a
  record without its id), and cannot be excluded.
* ExcludeOnly drops a named Object or Collection as a whole (Ed-Fi ODS semantics); IncludeOnly and IncludeAll use a
  named Object or Collection to refine that member with its own memberSelection.
* A GUIDRef, an array of GUIDRefs and an array of strings are readable only as a whole.
* A nested subtree is never empty (renderers read an empty subtree as "whole object"): ExcludeAll leaves the member
  out, and an Object or Collection that would keep no field is an error.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from standards.endpoints import load_endpoints

BASE_FIELDS = ("sourcedId", "status", "dateLastModified")
FILTER_KEY = "__filter__"
SENSITIVE_TIER = 2
PROHIBITED_TIER = 3
MEMBER_TAGS = ("Property", "Object", "Collection", "Extension")
_EXT = re.compile(r"ext:[a-zA-Z0-9.\-_]+")
_DROP = object()  # a member that grants nothing: leave it out of the parent
_MAX_DEPTH = 8
_STANDARD_NAMES = {"oneroster": "OneRoster", "edfi": "Ed-Fi"}


class ProfileError(ValueError):
    """A profile that cannot be used; ``str()`` names ``source:line`` and the offending element."""

    def __init__(self, source: str, line: int | None, message: str):
        self.source, self.line, self.detail = source, line or 1, message
        super().__init__(f"{source}:{self.line}: {message}")


@dataclass(frozen=True)
class Filter:
    property: str
    mode: str
    values: tuple[str, ...]
    line: int
    value_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Member:
    """One element of a content type: a ``ReadContentType``/``WriteContentType`` or a Property/Object/Collection."""

    kind: str
    name: str | None
    mode: str | None  # memberSelection; None for Property
    line: int
    members: tuple["Member", ...] = ()
    filter: Filter | None = None


def _plural(class_name: str) -> str:
    stem = class_name[0].lower() + class_name[1:]
    if stem.endswith("ss"):
        return stem + "es"
    if stem.endswith("s"):
        return stem
    if stem.endswith("y"):
        return stem[:-1] + "ies"
    return stem + "s"


def resource_names(model: Any) -> dict[str, str]:
    """Lower-cased accepted Resource names → class: every resource class by its name and its collection name."""
    names: dict[str, str] = {}
    for name, cls in model.classes.items():
        if cls.base:
            names[name.lower()] = name
            names[_plural(name).lower()] = name
    return names


def _subtype_names(model: Any) -> dict[str, str]:
    """Collections that show part of a class (students, schools, terms…): refused, a profile covers a whole class."""
    out = {}
    for name, coll in load_endpoints().collections.items():
        if coll.where and coll.cls in model.classes:
            out[name.lower()] = coll.cls
            out[name.lower().rstrip("s")] = coll.cls
    return out


def _hint(name: str, candidates: Any) -> str:
    names = list(candidates)
    same_case = [c for c in names if c.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(f: Any) -> str:
    if f.type == "object":
        return f"an array of {f.cls} objects" if f.many else f"a {f.cls} object"
    if f.type == "ref":
        return "an array of GUIDRefs" if f.many else "a GUIDRef"
    return f"an array of {f.type} values" if f.many else f"a {f.type} field"


class Rules:
    """Checks members against one model and compiles content types into field trees (plain dicts)."""

    def __init__(self, model: Any, source: str):
        self.model, self.source = model, source
        self.names = resource_names(model)
        self.subtypes = _subtype_names(model)
        self.standard = f"{_STANDARD_NAMES.get(model.standard, model.standard)} {model.version}"

    def fail(self, line: int | None, message: str):
        raise ProfileError(self.source, line, message)

    # --- resources -------------------------------------------------------------------------------------------------
    def resolve_resource(self, name: str, line: int) -> str:
        key = name.strip().lower()
        if key in self.names:
            return self.names[key]
        if key in self.subtypes:
            cls = self.subtypes[key]
            self.fail(line, f"Resource '{name}' is a filtered view of {cls}; a profile covers whole classes: "
                            f"use '{cls}'")
        pool = {**self.subtypes, **self.names}
        close = difflib.get_close_matches(key, list(pool), n=1, cutoff=0.6)
        hint = f" (did you mean '{pool[close[0]]}'?)" if close else ""
        self.fail(line, f"Resource '{name}' is not a {self.standard} resource{hint}")

    def compile_resource(self, class_name: str, content: Member) -> dict:
        """The field tree one ReadContentType / WriteContentType grants, base fields included."""
        cls = self.model.classes[class_name]
        if content.mode == "ExcludeOnly":
            for m in content.members:
                if m.name in BASE_FIELDS:
                    self.fail(m.line, f"{m.kind} '{m.name}' cannot be excluded: {', '.join(BASE_FIELDS)} are "
                                      f"always part of a granted resource")
        tree = self._build(cls, content, 0, class_name, 0)
        tree.update({name: None for name in BASE_FIELDS if name in cls.fields})
        return tree

    # --- members ---------------------------------------------------------------------------------------------------
    def _field(self, cls: Any, m: Member, tier: int, path: str) -> Any:
        where = cls.name if path == cls.name else f"{cls.name} ({path})"
        if m.kind == "Extension":
            self.fail(m.line, f"Extension '{m.name}': {self.standard} has no Ed-Fi extensions; name the field "
                              f"with Property, Object or Collection")
        f = cls.fields.get(m.name)
        if f is None:
            self.fail(m.line, f"{m.kind} '{m.name}' is not a field of {where}{_hint(m.name, cls.fields)}")
        if max(tier, f.tier) >= PROHIBITED_TIER:
            self.fail(m.line, f"{m.kind} '{m.name}': {path}.{m.name} is a prohibited field (tier 3) and can never "
                              f"be granted")
        is_obj, is_ref = f.type == "object", f.type == "ref"
        if m.kind == "Property" and is_obj:
            self.fail(m.line, f"Property '{m.name}' of {where} is {_describe(f)}; use "
                              f"{'Collection' if f.many else 'Object'}")
        if m.kind == "Object" and (f.many or not (is_obj or is_ref)):
            use = "Collection" if f.many else "Property"
            self.fail(m.line, f"Object '{m.name}' of {where} is {_describe(f)}, not a single object or GUIDRef; "
                              f"use {use}")
        if m.kind == "Collection" and not f.many:
            self.fail(m.line, f"Collection '{m.name}' of {where} is {_describe(f)}, not an array; use "
                              f"{'Object' if is_obj or is_ref else 'Property'}")
        return f

    def _build(self, cls: Any, node: Member, tier: int, path: str, depth: int) -> dict:
        """Fields of ``cls`` granted by ``node`` (a content type, Object or Collection) at effective ``tier``."""
        if depth > _MAX_DEPTH:
            self.fail(node.line, f"{node.kind} '{node.name}' is nested too deeply")
        named: dict[str, tuple[Member, Any]] = {}
        for m in node.members:
            f = self._field(cls, m, tier, path)
            if m.name in named:
                self.fail(m.line, f"{m.kind} '{m.name}' is named twice (first on line {named[m.name][0].line})")
            named[m.name] = (m, f)
        mode, tree = node.mode, {}
        if mode == "ExcludeAll":
            if node.members or node.filter:
                first = node.members[0].line if node.members else node.filter.line
                self.fail(first, f"{node.kind} '{node.name or path}' uses ExcludeAll: the members listed in it "
                                 f"have no effect")
            return tree
        if mode == "IncludeOnly":
            for name, (m, f) in named.items():
                self._put(tree, name, self._member(cls, m, f, tier, path, depth))
            return tree
        for name, f in cls.fields.items():  # IncludeAll / ExcludeOnly: everything below tier 2, then the edits
            eff = max(tier, f.tier)
            if name not in named:
                if eff < SENSITIVE_TIER:
                    self._put(tree, name, self._default(f, eff, SENSITIVE_TIER - 1, depth))
                continue
            m = named[name][0]
            if mode == "ExcludeOnly":
                if m.members or m.filter:
                    self.fail(m.line, f"{m.kind} '{name}' is excluded as a whole under ExcludeOnly; the members "
                                      f"nested in it have no effect")
                continue
            if m.kind == "Property":
                self.fail(m.line, f"Property '{name}' has no effect under IncludeAll (it grants every field "
                                  f"below tier 2); use IncludeOnly to choose fields")
            if eff >= SENSITIVE_TIER:
                self.fail(m.line, f"{m.kind} '{name}': {path}.{name} is tier {eff} and is granted only when "
                                  f"named in an IncludeOnly list")
            self._put(tree, name, self._member(cls, m, f, tier, path, depth))
        return tree

    @staticmethod
    def _put(tree: dict, name: str, sub: Any) -> None:
        if sub is not _DROP:
            tree[name] = sub

    def _member(self, cls: Any, m: Member, f: Any, tier: int, path: str, depth: int) -> Any:
        """What one named member contributes: None (a leaf), a subtree, or _DROP."""
        if m.kind == "Property":
            return None
        eff, sub_path = max(tier, f.tier), f"{path}.{f.name}"
        if f.type != "object":
            if m.members or m.filter or m.mode in ("IncludeOnly", "ExcludeOnly"):
                self.fail(m.line, f"{m.kind} '{f.name}' is {_describe(f)}, readable only as a whole: use "
                                  f"memberSelection IncludeAll or ExcludeAll with no members")
            return _DROP if m.mode == "ExcludeAll" else None
        if m.mode == "IncludeOnly" and not m.members:
            self.fail(m.line, f"{m.kind} '{f.name}' uses IncludeOnly but names no fields, so it grants nothing; "
                              f"name its fields, or use ExcludeAll to leave it out")
        sub_cls = self.model.classes[f.cls]
        sub = self._build(sub_cls, m, eff, sub_path, depth + 1)
        if m.mode == "ExcludeAll":
            return _DROP
        if not sub:
            self.fail(m.line, f"{m.kind} '{f.name}' grants no field of {f.cls} (tier 2 fields must be named in an "
                              f"IncludeOnly list); use ExcludeAll to leave it out")
        if m.filter is not None:
            sub[FILTER_KEY] = self._filter(sub_cls, m.filter, sub, eff, sub_path)
        return sub

    def _filter(self, cls: Any, flt: Filter, sub: dict, tier: int, path: str) -> dict:
        f = cls.fields.get(flt.property)
        if f is None:
            self.fail(flt.line, f"Filter propertyName '{flt.property}' is not a field of {cls.name} ({path})"
                                f"{_hint(flt.property, cls.fields)}")
        eff = max(tier, f.tier)
        if eff >= PROHIBITED_TIER:
            self.fail(flt.line, f"Filter propertyName '{f.name}': {path}.{f.name} is a prohibited field (tier 3) "
                                f"and can never be granted")
        if f.many or f.type in ("object", "ref", "metadata"):
            self.fail(flt.line, f"Filter propertyName '{f.name}' is {_describe(f)}; a filter needs a "
                                f"single-valued field")
        if eff >= SENSITIVE_TIER and f.name not in sub:
            self.fail(flt.line, f"Filter propertyName '{f.name}': filtering on a tier-{eff} field discloses it; "
                                f"name it in the Collection's IncludeOnly list")
        if f.enum is not None:
            lines = flt.value_lines or (flt.line,) * len(flt.values)
            for value, line in zip(flt.values, lines):
                ok = value in f.enum or (f.ext and _EXT.fullmatch(value)) or (
                    f.pattern and re.fullmatch(f.pattern, value))
                if not ok:
                    self.fail(line, f"Value '{value}' is not a valid {cls.name}.{f.name} value"
                                    f"{_hint(value, f.enum)}")
        return {"property": f.name, "mode": flt.mode, "values": frozenset(flt.values)}

    def _default(self, f: Any, tier: int, max_tier: int, depth: int) -> Any:
        """A field granted without naming: leaves whole, objects limited to fields up to ``max_tier``."""
        if f.type != "object":
            return None
        if depth > _MAX_DEPTH:
            return _DROP
        sub = {}
        for name, sf in self.model.classes[f.cls].fields.items():
            eff = max(tier, sf.tier)
            if eff <= max_tier:
                self._put(sub, name, self._default(sf, eff, max_tier, depth + 1))
        return sub or _DROP


def default_tree(model: Any, class_name: str) -> dict:
    """Tier 0 fields of a class (nested objects limited to their tier 0 fields): what an app with no profile gets."""
    rules = Rules(model, "<default>")
    cls = model.classes[class_name]
    tree: dict = {}
    for name, f in cls.fields.items():
        if f.tier == 0:
            Rules._put(tree, name, rules._default(f, 0, 0, 0))
    tree.update({name: None for name in BASE_FIELDS if name in cls.fields})
    return tree
