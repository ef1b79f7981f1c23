"""Compiling a loaded mapping into a :class:`Plan`: sources, crosswalks, lookup tables and record rules, once.

Why compile: a mapping runs over millions of rows, so every decision that does not depend on a row is taken here --
expressions become closures, literals are converted to their field's type, target fields are resolved against the
standard's definition (unknown fields are errors with the mapping's file and line), and rules are put in dependency
order (orgs before classes before enrollments) from the model's references.

Field values: a string starting with ``=`` is an expression; any other scalar is a literal; a mapping (dict) is a
nested object template; a list is a list template. The target field's type decides the output form: a reference field
takes an id (``school: =School_id`` becomes ``{"sourcedId": ..., "type": "org"}``), a boolstring field turns
True/False into "true"/"false", a list field turns one value into a one-item list; empty values (None, "", []) leave
the field out, so a missing required field is reported by validation.
"""
from __future__ import annotations

import difflib
import itertools
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from standards.model import ClassDef, ModelDef, load_model
from standards.paths import values_at
from standards.validation import compile_validator

from . import edfi
from .errors import MappingError, MappingErrors, RowError
from .expressions import Scope
from .loader import Document
from .parameters import Parameter, declare
from .sources import Format, SourceSpec, format_of, make_source
from .tables import Crosswalk, LookupTable, crosswalk_file
from .templates import TemplateCompiler

# References the model does not declare as fields (OneRoster: a demographics record shares its user's sourcedId).
IMPLICIT_REFS = {("oneroster", "Demographics"): (("sourcedId", "user"),)}
MAX_ITEMS = 10_000  # items one row may expand to through `each` (a cross product grows fast)


def rtype_of(class_name: str) -> str:
    return class_name[0].lower() + class_name[1:]


@dataclass
class Rule:
    name: str
    source: str
    cls: str
    rtype: str
    build: Callable  # (row, item, errors) -> doc
    validate: Callable
    refs: list  # (field path, getter(doc) -> iterable of ids, target rtype)
    declared: tuple
    filter: Callable | None = None
    each: Callable | None = None
    dedupe: Callable | None = None
    keep: str = "error"
    item_filter: Callable | None = None  # per item of `each`: false skips the item
    delete: Callable | None = None  # truthy: the record is produced with status tobedeleted
    optional_refs: frozenset = frozenset()  # reference paths dropped (with a warning) when their target is unknown


@dataclass
class Plan:
    document: Document
    model: ModelDef
    sources: dict[str, Format]
    crosswalks: dict[str, Crosswalk]
    lookups: dict[str, LookupTable]
    rules: list[Rule]
    columns: dict[str, set]  # source -> columns the mapping names
    optional_columns: dict[str, set]
    parameters: dict[str, Parameter] | None = None

    @property
    def covered(self) -> list[str]:
        """Record types the mapping produces (snapshot mode replaces them wholesale)."""
        return list(dict.fromkeys(r.rtype for r in self.rules))


def compile_mapping(document: Document) -> Plan:
    return _Compiler(document).plan()


class _Compiler(TemplateCompiler):
    def __init__(self, document: Document):
        self.doc = document
        data = document.data
        target = {"standard": "oneroster", "version": "1.2", **data.get("target", {})}
        try:
            self.model = load_model(target["standard"], str(target["version"]))
        except ValueError as error:
            raise document.error(f"target: {error}", "target") from None
        self.standard = target["standard"]
        self.explicit_ids = edfi.explicit_id_types(self.model, data.get("records") or {}) \
            if edfi.is_edfi(self.model) else frozenset()
        self.namespace = _namespace(data.get("id_namespace"), data.get("name") or Path(document.path).stem)
        self.columns: dict[str, set] = {}
        self.optional: dict[str, set] = {}
        self.parameters: dict[str, Parameter] = {}

    def plan(self) -> Plan:
        data, errors = self.doc.data, []
        for name, spec in data.get("parameters", {}).items():
            self._collect(errors, lambda: self.parameters.__setitem__(
                name, declare(name, spec, self.doc.where("parameters", name))))
        sources = {}
        for name, spec in data.get("sources", {}).items():
            try:
                sources[name] = make_source(SourceSpec(name, spec.get("file"), format_of(spec.get("file"),
                                                       spec.get("format")),
                                                       {k: v for k, v in spec.items() if k not in ("file",)},
                                                       self.doc.where("sources", name)))
            except MappingError as error:
                errors.append(error)
            self.columns[name], self.optional[name] = set(), set()
        self.sources = sources
        self.crosswalks = {}
        for name, spec in data.get("crosswalks", {}).items():
            self._collect(errors, lambda: self.crosswalks.__setitem__(name, self._crosswalk(name, spec)))
        self.lookups = {}
        for name, spec in data.get("lookups", {}).items():
            self._collect(errors, lambda: self.lookups.__setitem__(name, self._lookup(name, spec)))
        rules = []
        for name, spec in data.get("records", {}).items():
            self._collect(errors, lambda: rules.append(self._rule(name, spec)))
        if not data.get("records") and not errors:
            errors.append(self.doc.error("records: the mapping produces no records"))
        if errors:
            raise errors[0] if len(errors) == 1 else MappingErrors(errors)
        return Plan(self.doc, self.model, sources, self.crosswalks, self.lookups, self._ordered(rules),
                    self.columns, self.optional, self.parameters)

    @staticmethod
    def _collect(errors: list, action) -> None:
        try:
            action()
        except MappingErrors as error:
            errors.extend(error.errors)
        except MappingError as error:
            errors.append(error)

    def _ordered(self, rules: list[Rule]) -> list[Rule]:
        """Rules by dependency of their target types (referenced types first), then in file order."""
        deps: dict[str, set] = {}
        for r in rules:
            deps.setdefault(r.rtype, set()).update(t for _p, _g, t in r.refs if t != r.rtype)
        order: list[str] = []

        def visit(rtype: str, trail: tuple) -> None:
            if rtype in order or rtype in trail:
                return
            for dep in sorted(deps.get(rtype, ())):
                visit(dep, (*trail, rtype))
            order.append(rtype)
        for rule in rules:
            visit(rule.rtype, ())
        return sorted(rules, key=lambda r: order.index(r.rtype))

    # -- crosswalks and lookups
    def _crosswalk(self, name: str, spec: dict) -> Crosswalk:
        insensitive = spec.get("case", "insensitive") == "insensitive"
        table: dict = {}
        origin = "inline"
        if "file" in spec:
            path = self.doc.base_dir / spec["file"]
            file_, line = self.doc.where("crosswalks", name, "file")
            origin = spec["file"]
            table = crosswalk_file(path, spec.get("from"), spec.get("to"), insensitive, (file_, line))
        for key, value in (spec.get("values") or {}).items():
            table[key.strip().casefold() if insensitive else key] = value
        return Crosswalk(name, table, insensitive, spec.get("default"), "default" in spec, origin)

    def _lookup(self, name: str, spec: dict) -> LookupTable:
        source = spec["source"]
        if source not in self.doc.data.get("sources", {}):
            raise self.doc.error(f"lookups.{name}.source: unknown source '{source}'", "lookups", name, "source")
        if spec.get("many") and spec.get("unique"):
            raise self.doc.error(f"lookups.{name}.unique: a many table keeps every row of a key; unique does not "
                                 "apply", "lookups", name, "unique")
        scope = self._scope(source, False)
        key = self._expr(spec["key"], scope, ("lookups", name, "key"))
        columns = spec.get("columns") or []
        every = columns == "all"
        columns = [] if every else columns
        pairs = [(c, f"=row[{c!r}]") for c in columns] if isinstance(columns, list) else list(columns.items())
        exprs = [self._value(v, scope, ("lookups", name, "columns", c)) for c, v in pairs]
        filter_ = self._expr(spec["filter"], scope, ("lookups", name, "filter")) if "filter" in spec else None
        self._finish(scope, source)
        return LookupTable(name, source, key, [c for c, _v in pairs], exprs, filter_,
                           declared=self.doc.where("lookups", name), all_columns=every,
                           many=bool(spec.get("many")), unique=spec.get("unique"))

    # -- rules
    def _rule(self, name: str, spec: dict) -> Rule:
        at = ("records", name)
        source = spec["source"]
        if source not in self.doc.data.get("sources", {}):
            raise self.doc.error(f"records.{name}.source: unknown source '{source}' (declared: "
                                 f"{', '.join(self.doc.data.get('sources', {})) or 'none'})", *at, "source")
        cls = spec["class"]
        if cls not in self.model.classes or not self.model.classes[cls].base:
            names = sorted(c.name for c in self.model.classes.values() if c.base)
            close = difflib.get_close_matches(str(cls), names, n=5)
            known = f"known: {', '.join(names)}" if len(names) <= 60 else \
                (f"did you mean {', '.join(close)}?" if close else f"{len(names)} classes, e.g. {', '.join(names[:5])}")
            raise self.doc.error(f"records.{name}.class: '{cls}' is not a record class of {self.model.standard} "
                                 f"{self.model.version} ({known})", *at, "class")
        cdef = self.model.classes[cls]
        if "item_filter" in spec and "each" not in spec:
            raise self.doc.error(f"records.{name}.item_filter: only in rules with 'each'", *at, "item_filter")
        scope = self._scope(source, "each" in spec)
        each = self._each(spec["each"], scope, (*at, "each")) if "each" in spec else None
        filter_ = self._expr(spec["filter"], scope, (*at, "filter")) if "filter" in spec else None
        item_filter = self._expr(spec["item_filter"], scope, (*at, "item_filter")) if "item_filter" in spec else None
        delete = self._expr(spec["delete"], scope, (*at, "delete")) if "delete" in spec else None
        dedupe = spec.get("dedupe")
        key = self._expr(dedupe["key"], scope, (*at, "dedupe", "key")) if dedupe else None
        if not edfi.is_edfi(self.model) and "sourcedId" in cdef.fields and "sourcedId" not in spec["fields"]:
            raise self.doc.error(f"records.{name}.fields: sourcedId is required", *at, "fields")
        build = self._top(spec["fields"], cdef, scope, (*at, "fields"))
        self._finish(scope, source)
        refs = _ref_getters(self.model, cdef, self.standard)
        validate, rtype = compile_validator(self.model, cls), rtype_of(cls)
        if edfi.is_edfi(self.model):  # key from the natural key, Ed-Fi references (adapters/mapping/edfi.py)
            build, validate, rtype = edfi.keyed(build, self.model, cls), edfi.validator(validate), cdef.record_type
            refs = edfi.ref_getters(self.model, cdef, self.explicit_ids)
            if spec.get("optional_references"):
                raise self.doc.error(f"records.{name}.optional_references: not supported for Ed-Fi targets yet",
                                     *at, "optional_references")
        optional = spec.get("optional_references") or []
        implicit = {n for n, _t in IMPLICIT_REFS.get((self.standard, cls), ())}
        paths = [p for p, _g, _t in refs if p not in implicit]
        for index, path in enumerate(optional):
            if path not in paths:
                raise self.doc.error(f"records.{name}.optional_references[{index}]: '{path}' is not a reference of "
                                     f"{cls} (references: {', '.join(paths) or 'none'})", *at, "optional_references",
                                     index)
        return Rule(name, source, cls, rtype, build, validate, refs,
                    self.doc.where(*at), filter_, each, key, (dedupe or {}).get("keep", "first") if dedupe else "error",
                    item_filter, delete, frozenset(optional))

    def _each(self, spec, scope: Scope, at: tuple) -> Callable:
        """`each`: one expression (its list), or name -> expression (the cross product, one object per combination,
        e.g. {'assignment': ..., 'section': ...})."""
        if not isinstance(spec, dict):
            return self._expr(spec, scope, at)
        parts = [(name, self._expr(value, scope, (*at, name))) for name, value in spec.items()]

        def product(r, _it):
            lists = []
            for _name, f in parts:
                v = f(r, None)
                v = [x for x in (v if type(v) is list else [v]) if x is not None and x != ""]
                if not v:
                    return []
                lists.append(v)
            if math.prod(len(v) for v in lists) > MAX_ITEMS:
                raise RowError(f"more than {MAX_ITEMS:,} combinations ({' x '.join(str(len(v)) for v in lists)})")
            names = [name for name, _f in parts]
            return [dict(zip(names, combination)) for combination in itertools.product(*lists)]
        return product

    def _scope(self, source: str, item: bool) -> Scope:
        return Scope(self.crosswalks, self.lookups, self.namespace, item, parameters=self.parameters)

    def _finish(self, scope: Scope, source: str) -> None:
        self.columns[source] |= scope.columns
        self.optional[source] |= scope.optional_columns

def _ref_getters(model: ModelDef, cdef: ClassDef, standard: str) -> list:
    """(path, getter, target) for every reference in a record: top-level, in lists, in nested objects."""
    getters = []

    def walk(c: ClassDef, prefix: tuple, depth: int) -> None:
        for f in c.fields.values():
            path = (*prefix, f.name)
            if f.type == "ref":
                getters.append((".".join(path), _getter(path), f.ref))
            elif f.type == "object" and depth < 3:
                walk(model.classes[f.cls], path, depth + 1)
    walk(cdef, (), 0)
    for name, target in IMPLICIT_REFS.get((standard, cdef.name), ()):
        getters.append((name, lambda doc, n=name: (doc.get(n),), target))
    return getters


def _getter(path: tuple) -> Callable:
    if len(path) == 1:  # the common case, a top-level reference (or list of references): the per-row hot path
        key = path[0]

        def top(doc):
            v = doc.get(key)
            if type(v) is dict:
                sid = v.get("sourcedId")
                return (sid,) if type(sid) is str else ()
            if type(v) is list:
                return [x.get("sourcedId") for x in v if type(x) is dict and type(x.get("sourcedId")) is str]
            return ()
        return top

    def get(doc, parts=path):
        return [v.get("sourcedId") for v in values_at(doc, parts)
                if type(v) is dict and type(v.get("sourcedId")) is str]
    return get


def _namespace(declared: str | None, name: str) -> bytes:
    if declared:
        try:
            return uuid.UUID(declared).bytes
        except ValueError:
            return uuid.uuid5(uuid.NAMESPACE_URL, declared).bytes
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://trellis.invalid/mappings/{name}").bytes
