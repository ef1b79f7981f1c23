"""Which document paths feed the store's indexed columns and link rows, per record type.

This is data, not code: adding a resource type means adding a line here (and to the standards definitions). The
filter compiler uses the same table, so a filter or relationship query on an indexed path is answered from an index
instead of a document scan. Paths are dotted; a segment that holds an array matches any of its elements.
"""

from __future__ import annotations

from typing import Any

from standards.paths import values_at

COLUMNS: dict[str, dict[str, str]] = {
    "org": {"subtype": "type", "parent_ref": "parent.sourcedId"},
    "academicSession": {"subtype": "type", "parent_ref": "parent.sourcedId"},
    "course": {"org_ref": "org.sourcedId", "parent_ref": "schoolYear.sourcedId"},
    "class": {"org_ref": "school.sourcedId", "parent_ref": "course.sourcedId", "subtype": "classType"},
    "enrollment": {"org_ref": "school.sourcedId", "class_ref": "class.sourcedId", "user_ref": "user.sourcedId",
                   "subtype": "role"},
    "user": {"org_ref": "primaryOrg.sourcedId"},
    "demographics": {"user_ref": "sourcedId"},
    "category": {},
    "lineItem": {"org_ref": "school.sourcedId", "class_ref": "class.sourcedId", "parent_ref": "category.sourcedId"},
    "result": {"class_ref": "class.sourcedId", "user_ref": "student.sourcedId", "parent_ref": "lineItem.sourcedId",
               "subtype": "scoreStatus"},
    "scoreScale": {"class_ref": "class.sourcedId", "parent_ref": "course.sourcedId"},
    "assessmentLineItem": {"class_ref": "class.sourcedId", "parent_ref": "parentAssessmentLineItem.sourcedId"},
    "assessmentResult": {"user_ref": "student.sourcedId", "parent_ref": "assessmentLineItem.sourcedId",
                         "subtype": "scoreStatus"},
    "resource": {},
}

LINKS: dict[str, dict[str, str]] = {
    "user": {"org": "roles.org.sourcedId", "role": "roles.role", "agent": "agents.sourcedId",
             "grade": "grades", "resource": "resources.sourcedId"},
    "class": {"term": "terms.sourcedId", "resource": "resources.sourcedId"},
    "course": {"resource": "resources.sourcedId"},
    "academicSession": {"child": "children.sourcedId"},
    "org": {"child": "children.sourcedId"},
}

BASE_COLUMNS = {"sourcedId": "sourced_id", "status": "status", "dateLastModified": "date_last_modified"}


COLUMN_NAMES = ("subtype", "org_ref", "class_ref", "user_ref", "parent_ref")


def _getter(path: tuple[str, ...]):
    """A fast accessor for a path through nested objects (no arrays), as a column value: the extractors run on every
    write of a million-row load. Objects and lists are not column values (None)."""
    def scalar(value: Any) -> str | None:
        return None if value is None or isinstance(value, (dict, list)) else str(value)

    if path == ("sourcedId",):
        return lambda sourced_id, doc: sourced_id
    if len(path) == 1:
        (key,) = path
        return lambda sourced_id, doc: scalar(doc.get(key))
    if len(path) == 2:
        first, second = path

        def get2(sourced_id: str, doc: dict) -> str | None:
            inner = doc.get(first)
            return scalar(inner.get(second)) if isinstance(inner, dict) else None
        return get2

    def get(sourced_id: str, doc: dict) -> str | None:
        value: Any = doc
        for segment in path:
            if not isinstance(value, dict):
                return None
            value = value.get(segment)
        return scalar(value)
    return get


def _extractor(rtype: str):
    """The column values of one type, in :data:`COLUMN_NAMES` order, as one function."""
    by_name = {name: _getter(tuple(path.split("."))) for name, path in COLUMNS.get(rtype, {}).items()}
    getters = tuple(by_name.get(name) for name in COLUMN_NAMES)
    return lambda sourced_id, doc: tuple(None if get is None else get(sourced_id, doc) for get in getters)


_EXTRACTORS = {rtype: _extractor(rtype) for rtype in COLUMNS}
_NO_COLUMNS = (None,) * len(COLUMN_NAMES)
_LINK_PATHS = {rtype: tuple((rel, tuple(path.split("."))) for rel, path in paths.items())
               for rtype, paths in LINKS.items()}


def extract(rtype: str, sourced_id: str, doc: dict) -> tuple[tuple[str | None, ...], list[tuple[str, str]]]:
    """The indexed column values (in :data:`COLUMN_NAMES` order) and the (rel, target) link pairs of one document."""
    extractor = _EXTRACTORS.get(rtype)
    columns = _NO_COLUMNS if extractor is None else extractor(sourced_id, doc)
    links = _LINK_PATHS.get(rtype)
    if not links:
        return columns, []
    return columns, sorted({(rel, str(value)) for rel, path in links for value in values_at(doc, path)})


def column_for(rtype: str, path: str) -> str | None:
    """The records column answering a dotted path of this type, if any."""
    if path in BASE_COLUMNS:
        return BASE_COLUMNS[path]
    for name, indexed in COLUMNS.get(rtype, {}).items():
        if indexed == path and indexed != "sourcedId":
            return name
    return None


def link_for(rtype: str, path: str) -> str | None:
    """The link relation answering a dotted path of this type, if any."""
    for rel, indexed in LINKS.get(rtype, {}).items():
        if indexed == path:
            return rel
    return None
