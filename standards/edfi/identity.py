"""Ed-Fi natural keys as deterministic ids: the key a resource is stored under, computed from its identity values.

Why: Ed-Fi documents carry no id of their own (a POST body has none); a resource *is* its natural key, and a reference
is a copy of the referenced resource's key values (``studentReference: {studentUniqueId: "604822"}``). Deriving the
stored id from those values, the way the Ed-Fi Data Management Service derives its ``referentialId``, makes ids stable
across runs and lets a reference be resolved by computing the same id from the reference object alone.

The algorithm follows DMS (``ReferentialIdCalculator``): UUID v5 in the namespace
``edf1edf1-3df1-3df1-3df1-3df1edf1edf1`` of ``"Ed-Fi" + resourceName + "$.path1=value1#$.path2=value2..."`` over the
resource's identity JSON paths in the ApiSchema's order; a descriptor's identity is ``$.descriptor=`` and its URI
(namespace#codeValue), lower-cased, as descriptor URIs compare case-insensitively. Descriptor values inside other
identities are lower-cased for the same reason.

    key = compile_document_key(model, "Student")           # doc -> "1b4e28ba-..." or None (identity incomplete)
    ref = compile_reference_key(model, "StudentSchoolAssociation.studentReference")   # reference object -> id
"""
from __future__ import annotations

import uuid
from typing import Callable

from standards.model import ClassDef, ModelDef

NAMESPACE = uuid.UUID("edf1edf1-3df1-3df1-3df1-3df1edf1edf1")
PROJECT = "Ed-Fi"
_MISSING = object()


def _text(value) -> str | None:
    """The identity form of one JSON value; None for what cannot be part of a key (absent, empty, objects)."""
    if type(value) is str:
        return value if value else None
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) in (int, float):
        return str(value)
    return None


def _getter(path: str) -> Callable[[dict], object]:
    parts = tuple(path.split("."))
    if len(parts) == 1:
        key = parts[0]
        return lambda doc: doc.get(key)

    def get(doc):
        value = doc
        for part in parts:
            if type(value) is not dict:
                return None
            value = value.get(part)
        return value
    return get


def _is_descriptor(cdef: ClassDef, path: str) -> bool:
    try:
        return cdef.field(path)[0].type == "descriptor"
    except KeyError:
        return False


def _compile(prefix: str, paths: tuple[str, ...], members: tuple[str, ...], cdef: ClassDef) -> Callable:
    """doc -> UUID v5 text of prefix + '$.path=value#...', reading each path's value at the aligned member."""
    parts = [(f"$.{path}=", _getter(member), _is_descriptor(cdef, member)) for path, member in zip(paths, members)]

    def key(doc: dict) -> str | None:
        out = []
        for label, get, lower in parts:
            v = _text(get(doc))
            if v is None:
                return None
            out.append(label + (v.lower() if lower else v))
        return str(uuid.uuid5(NAMESPACE, prefix + "#".join(out)))
    return key


def compile_document_key(model: ModelDef, class_name: str) -> Callable[[dict], str | None]:
    """The id of a document of a resource or descriptor; None when a value of its identity is missing."""
    cdef = model.classes[class_name]
    if not cdef.identity:
        raise ValueError(f"{model.standard} {model.version}: {class_name} has no identity")
    prefix = PROJECT + class_name
    if cdef.kind == "descriptor":
        namespace, code = (_getter(p) for p in cdef.identity)

        def descriptor_key(doc: dict) -> str | None:
            ns, cv = _text(namespace(doc)), _text(code(doc))
            if ns is None or cv is None:
                return None
            return str(uuid.uuid5(NAMESPACE, f"{prefix}$.descriptor=" + f"{ns}#{cv}".lower()))
        return descriptor_key
    return _compile(prefix, cdef.identity, cdef.identity, cdef)


def compile_reference_key(model: ModelDef, reference_class: str) -> Callable[[dict], str | None]:
    """The id of the resource a reference object names (the same id as :func:`compile_document_key` gives the
    referenced document), or None when the reference is incomplete."""
    rdef = model.classes[reference_class]
    owner, _, member = reference_class.rpartition(".")
    target_name = model.classes[owner].fields[member].ref if owner in model.classes else None
    if rdef.kind != "reference" or target_name is None:
        raise ValueError(f"{model.standard} {model.version}: {reference_class} is not a reference")
    target = model.classes[target_name]
    return _compile(PROJECT + target.name, target.identity, rdef.identity, rdef)
