"""Turning stored documents into response records: field policy, ``fields=`` selection, hrefs, 1.1 projection.

A :class:`Shaper` is compiled once per (class, readable-field tree, selection, version) from the standards
definitions, then applied to each row; it never consults per-resource code. Fields outside the app's readable tree
are dropped at every depth, so nothing the policy hides can leave in a nested object or array.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from typing import Callable

import orjson

from gateway.privacy.pairwise import PairwiseIds
from gateway.privacy.pairwise import is_user_ref
from gateway.privacy.pairwise import user_id_classes
from gateway.privacy.profiles import FILTER_KEY
from gateway.privacy.profiles import freeze
from gateway.privacy.profiles import thaw
from gateway.storage.records import render_base

# Where each GUIDRef target type lives (service, collection path).
REF_PATHS = {
    "org": ("rostering", "orgs"), "academicSession": ("rostering", "academicSessions"),
    "class": ("rostering", "classes"), "course": ("rostering", "courses"), "user": ("rostering", "users"),
    "enrollment": ("rostering", "enrollments"), "demographics": ("rostering", "demographics"),
    "student": ("rostering", "students"), "teacher": ("rostering", "teachers"), "term": ("rostering", "terms"),
    "gradingPeriod": ("rostering", "gradingPeriods"),
    "resource": ("resources", "resources"),
    "category": ("gradebook", "categories"), "lineItem": ("gradebook", "lineItems"),
    "result": ("gradebook", "results"), "scoreScale": ("gradebook", "scoreScales"),
    "assessmentLineItem": ("gradebook", "assessmentLineItems"),
    "assessmentResult": ("gradebook", "assessmentResults"),
}
V1P2_BASES = {"rostering": "/ims/oneroster/rostering/v1p2", "resources": "/ims/oneroster/resources/v1p2",
              "gradebook": "/ims/oneroster/gradebook/v1p2"}
V1P1_BASE = "/ims/oneroster/v1p1"

# OneRoster 1.1 user roles; 1.2 roles without a 1.1 counterpart are shown as the nearest 1.1 role.
V1P1_ROLES = {"districtAdministrator": "administrator", "siteAdministrator": "administrator",
              "systemAdministrator": "administrator", "principal": "administrator", "counselor": "administrator"}


def href_prefixes(host: str, version: str) -> dict[str, str]:
    """Absolute collection URLs per GUIDRef type, for building hrefs."""
    host = host.rstrip("/")
    if version == "1.1":
        return {rtype: f"{host}{V1P1_BASE}/{path}/" for rtype, (_service, path) in REF_PATHS.items()}
    return {rtype: f"{host}{V1P2_BASES[service]}/{path}/" for rtype, (service, path) in REF_PATHS.items()}


@lru_cache(maxsize=None)
def _plan(model: Any, class_name: str, tree_key: Any, pairwise: bool = False) -> tuple:
    """(readable field names, element filter, fields needing work) for one class and frozen readable tree.

    Plain fields are copied by one dict comprehension; only references (hrefs) and nested objects (their own
    readable fields and a profile's element filter) cost per-field Python work. For an app with pairwise ids
    (:mod:`gateway.privacy.pairwise`) users' ids are work too: the record's own id ("self") and GUIDRefs to users.
    """
    tree = thaw(tree_key)
    cls = model.classes[class_name]
    allowed, work = [], []
    if pairwise and class_name in user_id_classes():
        work.append(("sourcedId", "self", None))
    for name, field in cls.fields.items():
        if name not in tree:
            continue
        allowed.append(name)
        if field.type == "ref":
            work.append((name, "user" if pairwise and is_user_ref(field) else "ref", field.ref))
        elif field.type == "object" and field.cls in model.classes:
            sub = tree[name] if tree[name] is not None else {n: None for n in model.classes[field.cls].fields}
            work.append((name, "object", _plan(model, field.cls, freeze(sub), pairwise)))
    flt = tree.get(FILTER_KEY)
    element_filter = (flt["property"], flt["mode"] == "IncludeOnly", flt["values"]) if flt else None
    return frozenset(allowed), element_filter, tuple(work)


def _apply(plan: tuple, doc: dict, hrefs: dict[str, str], ids: Callable[[Any], str] | None = None) -> dict:
    allowed, _filter, work = plan
    out = {name: value for name, value in doc.items() if name in allowed}
    for name, kind, detail in work:
        value = out.get(name)
        if value is None:
            continue
        if kind == "ref":
            out[name] = [_ref(item, hrefs) for item in value] if isinstance(value, list) else _ref(value, hrefs)
        elif kind == "user":
            out[name] = ([_ref(item, hrefs, ids) for item in value] if isinstance(value, list)
                         else _ref(value, hrefs, ids))
        elif kind == "self":
            out[name] = ids(value)
        elif isinstance(value, list):
            out[name] = [_apply(detail, item, hrefs, ids) for item in value
                         if isinstance(item, dict) and _keep(detail, item)]
        elif isinstance(value, dict):
            out[name] = _apply(detail, value, hrefs, ids)
    return out


def _keep(plan: tuple, item: dict) -> bool:
    """A profile's collection filter: keep the element only if its property value is (not) listed."""
    element_filter = plan[1]
    if element_filter is None:
        return True
    prop, include, values = element_filter
    return (item.get(prop) in values) == include


def _ref(ref: Any, hrefs: dict[str, str], ids: Callable[[Any], str] | None = None) -> Any:
    if not isinstance(ref, dict):
        return None if ids is not None else ref  # a malformed reference to a user: never send its raw value
    rtype = ref.get("type")
    sid = ref.get("sourcedId")
    if ids is not None and sid is not None:
        sid = ids(sid)
    return {"href": hrefs.get(rtype, "") + str(sid), "sourcedId": sid, "type": rtype}


class Shaper:
    """Shapes stored rows of one class for one response."""

    def __init__(self, model: Any, class_name: str, readable: dict, selection: tuple[str, ...] | None,
                 hrefs: dict[str, str], project: Callable[[dict], dict] | None = None,
                 observe: Callable[[dict, dict], None] | None = None, ids: PairwiseIds | None = None):
        self.plan = _plan(model, class_name, freeze(readable), ids is not None)
        self.selection = selection
        self.hrefs = hrefs
        self.project = project
        self.observe = observe  # sees (stored, sent) for every record: the disclosure log's input
        self.ids = ids  # maps users' sourcedIds to the app's pairwise ids (gateway.privacy.pairwise), or None

    def record(self, row: Any) -> dict:
        stored = render_base(row)
        doc = _apply(self.plan, stored, self.hrefs, self.ids)
        if self.project is not None:
            doc = self.project(doc)
        if self.selection:
            doc = {name: doc[name] for name in self.selection if name in doc}
        if self.observe is not None:
            self.observe(stored, doc)
        return doc

    def dumps(self, row: Any) -> bytes:
        return orjson.dumps(self.record(row))


def projector_v1p1(model11: Any, class_name: str) -> Callable[[dict], dict]:
    """Show a 1.2 record as its 1.1 class: keep the 1.1 fields, derive ``role``/``orgs``, real booleans."""
    cls = model11.classes.get(class_name)
    if cls is None:
        return lambda doc: doc
    fields = cls.fields
    booleans = {name for name, field in fields.items() if field.type == "boolean"}
    derive_roles = "role" in fields and "roles" not in fields

    def project(doc: dict) -> dict:
        if derive_roles and "roles" in doc:
            roles = doc.get("roles") or []
            primary = next((r for r in roles if r.get("roleType") == "primary"), roles[0] if roles else None)
            if primary:
                doc["role"] = V1P1_ROLES.get(primary.get("role"), primary.get("role"))
            doc["orgs"] = list({r["org"]["sourcedId"]: r["org"] for r in roles if r.get("org")}.values())
        out = {}
        for name in fields:
            if name in doc:
                value = doc[name]
                if name in booleans and isinstance(value, str):
                    value = value == "true"
                out[name] = value
        return out

    return project
