"""Which document paths feed the store's indexed columns and link rows, per record type.

This is data, not code: adding a resource type means adding a line here (and to the standards definitions). The
filter compiler uses the same table, so a filter or relationship query on an indexed path is answered from an index
instead of a document scan. Paths are dotted; a segment that holds an array matches any of its elements.
"""

from __future__ import annotations

from typing import Any
from typing import Iterator

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


def values_at(doc: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value found at a dotted path, descending into arrays."""
    if not path:
        if isinstance(doc, list):
            yield from (item for item in doc if item is not None)
        elif doc is not None:
            yield doc
        return
    if isinstance(doc, list):
        for item in doc:
            yield from values_at(item, path)
    elif isinstance(doc, dict):
        yield from values_at(doc.get(path[0]), path[1:])


def _getter(path: tuple[str, ...]):
    """A fast accessor for a path through nested objects (no arrays): the column extractors run on every write."""
    def get(doc: dict) -> Any:
        value: Any = doc
        for segment in path:
            if not isinstance(value, dict):
                return None
            value = value.get(segment)
        return value

    return get


_COLUMN_GETTERS = {rtype: tuple((name, tuple(path.split(".")), _getter(tuple(path.split("."))))
                                for name, path in paths.items()) for rtype, paths in COLUMNS.items()}
_LINK_PATHS = {rtype: tuple((rel, tuple(path.split("."))) for rel, path in paths.items())
               for rtype, paths in LINKS.items()}
_EMPTY_COLUMNS = {"subtype": None, "org_ref": None, "class_ref": None, "user_ref": None, "parent_ref": None}


def extract(rtype: str, sourced_id: str, doc: dict) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The indexed column values and the (rel, target) link pairs of one document."""
    columns = dict(_EMPTY_COLUMNS)
    for name, path, get in _COLUMN_GETTERS.get(rtype, ()):
        value = sourced_id if path == ("sourcedId",) else get(doc)
        columns[name] = None if value is None or isinstance(value, (dict, list)) else str(value)
    links = _LINK_PATHS.get(rtype)
    if not links:
        return columns, []
    pairs = sorted({(rel, str(value)) for rel, path in links for value in values_at(doc, path)})
    return columns, pairs


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
