"""Ed-Fi targets for the mapping compiler: record keys from natural keys, validation, and reference getters.

Why a module of its own: the engine speaks of records as (type, id, document) and checks references by id, as
OneRoster does; Ed-Fi documents have no id field and refer to each other by natural-key values
(``studentReference: {studentUniqueId: "604822"}``). Everything that differs is decided here, once per rule, from the
Ed-Fi model's metadata (``ClassDef.identity``, ``record_type``, reference fields with ``ref``), so the engine runs
Ed-Fi rules unchanged:

* the record's id is the rule's explicit ``id`` field when it sets one, else the UUID v5 of the resource's identity
  values (standards/edfi/identity.py, as the Ed-Fi DMS derives its referentialId); the built document carries it as
  ``sourcedId``, the engine's record key, which the store keeps in its id column and not in the document;
* validation sees the Ed-Fi document only (without the engine's sourcedId, status and dateLastModified);
* a reference yields the id its target would have, so references are checked against records produced in the run
  (or stored) exactly like OneRoster references. References to abstract resources (educationOrganizationReference:
  any school, LEA, ...) and to school years (a fixed enumeration, rarely loaded) are not checked, nor are references
  to a resource that some rule stores under explicit ids (a reference cannot compute those ids).
"""
from __future__ import annotations

from typing import Callable

from standards.edfi.identity import compile_document_key, compile_reference_key
from standards.model import ClassDef, ModelDef
from standards.paths import values_at

KEY = "sourcedId"  # the engine's record key
_NOT_EDFI = frozenset({"sourcedId", "status", "dateLastModified"})
CHECKED_KINDS = frozenset({"resource", "descriptor"})


def is_edfi(model: ModelDef) -> bool:
    return model.standard == "edfi"


def keyed(build: Callable, model: ModelDef, cls: str) -> Callable:
    """Wrap a rule's document builder: the document gains its id (explicit ``id``, else from the natural key)."""
    key = compile_document_key(model, cls)

    def build_keyed(r, it, errors: list):
        doc = build(r, it, errors)
        explicit = doc.pop("id", None)
        sid = explicit if explicit is not None else key(doc)
        return doc if sid is None else {KEY: sid, **doc}
    return build_keyed


def validator(validate: Callable) -> Callable:
    """The Ed-Fi document's validator, applied without the fields the engine adds."""
    def validate_edfi(doc: dict):
        if _NOT_EDFI.isdisjoint(doc):
            return validate(doc)
        return validate({k: v for k, v in doc.items() if k not in _NOT_EDFI})
    return validate_edfi


def ref_getters(model: ModelDef, cdef: ClassDef, unchecked: frozenset = frozenset()) -> list:
    """(path, getter(doc) -> ids, target record type) for every checked reference, at any depth. Targets in
    ``unchecked`` (record types stored under explicit ids) keep their place in the rule order but yield no ids."""
    getters = []

    def walk(c: ClassDef, prefix: tuple, depth: int) -> None:
        for f in c.fields.values():
            if f.type != "object":
                continue
            path = (*prefix, f.name)
            if f.ref is None:
                if depth < 3:
                    walk(model.classes[f.cls], path, depth + 1)
                continue
            target = model.classes[f.ref]
            if target.kind not in CHECKED_KINDS:
                continue
            get = _none if target.record_type in unchecked else _getter(path, compile_reference_key(model, f.cls))
            getters.append((".".join(path), get, target.record_type))
    walk(cdef, (), 0)
    return getters


def explicit_id_types(model: ModelDef, records: dict) -> frozenset:
    """Record types some rule of the mapping stores under an explicit ``id``."""
    return frozenset(model.classes[spec["class"]].record_type for spec in records.values()
                     if isinstance(spec, dict) and spec.get("class") in model.classes
                     and "id" in (spec.get("fields") or {}))


def _none(_doc) -> tuple:
    return ()


def _getter(path: tuple, key: Callable) -> Callable:
    if len(path) == 1:  # the common case: a top-level reference
        name = path[0]

        def top(doc):
            v = doc.get(name)
            if type(v) is dict:
                sid = key(v)
                return (sid,) if sid is not None else ()
            return ()
        return top

    def nested(doc):
        return [sid for sid in (key(v) for v in values_at(doc, path) if type(v) is dict) if sid is not None]
    return nested
