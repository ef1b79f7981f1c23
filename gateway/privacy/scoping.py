"""Which records an app may see (OWASP API1): its allowed orgs, and the students' opt-outs, as SQL conditions.

How each record type relates to orgs and to a student is data (:data:`ORG_SCOPE`, :data:`STUDENT_COLUMN`), read from
the store's indexed columns and links, so the same conditions serve collections, single reads, relationship
endpoints and counts. A record outside the app's orgs, or of a student who opted out, is simply not there for the
app: 404 on a single read, absent from every collection and total.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from gateway.storage.tables import record_links
from gateway.storage.tables import records
from gateway.storage.tables import student_optouts

DIRECTORY = "*"  # the client_id of a directory-information opt-out: it hides the student from every app

# record type -> how it belongs to an org: its own id (orgs), an indexed column holding the org, the user's org
# links, or the user it concerns (demographics). Types not listed (sessions, resources) are not org-restricted.
ORG_SCOPE: dict[str, tuple[str, str]] = {
    "org": ("self", "sourced_id"),
    "user": ("user_orgs", "sourced_id"),
    "demographics": ("user_orgs", "sourced_id"),
    "class": ("column", "org_ref"),
    "course": ("column", "org_ref"),
    "enrollment": ("column", "org_ref"),
    "lineItem": ("column", "org_ref"),
    "result": ("class", "class_ref"),
}
# record type -> the column naming the student a record concerns
STUDENT_COLUMN = {"user": "sourced_id", "enrollment": "user_ref", "demographics": "sourced_id", "result": "user_ref",
                  "assessmentResult": "user_ref"}


def visible_orgs(tenant: str, allowed: tuple[str, ...]) -> Any:
    """The allowed orgs and the orgs below them (a district grants its schools and their departments)."""
    org = records.alias("scope_org")
    child = records.alias("scope_child")
    children = select(child.c.sourced_id).where(child.c.tenant == tenant, child.c.type == "org",
                                                child.c.parent_ref.in_(allowed))
    return select(org.c.sourced_id).where(
        org.c.tenant == tenant, org.c.type == "org",
        or_(org.c.sourced_id.in_(allowed), org.c.parent_ref.in_(allowed), org.c.parent_ref.in_(children)))


def org_condition(table: Any, rtype: str, tenant: str, allowed: tuple[str, ...]) -> ColumnElement | None:
    rule = ORG_SCOPE.get(rtype)
    if rule is None:
        return None
    kind, column = rule
    orgs = visible_orgs(tenant, allowed)
    if kind == "self":
        return table.c.sourced_id.in_(orgs)
    if kind == "column":
        return table.c[column].in_(orgs)
    if kind == "user_orgs":
        users = select(record_links.c.sourced_id).where(
            record_links.c.tenant == tenant, record_links.c.type == "user", record_links.c.rel == "org",
            record_links.c.target.in_(orgs))
        return table.c[column].in_(users)
    classes = records.alias("scope_class")
    return table.c[column].in_(select(classes.c.sourced_id).where(
        classes.c.tenant == tenant, classes.c.type == "class", classes.c.org_ref.in_(orgs)))


def optout_condition(table: Any, rtype: str, tenant: str, client_id: str) -> ColumnElement | None:
    column = STUDENT_COLUMN.get(rtype)
    if column is None:
        return None
    opted_out = select(student_optouts.c.student_id).where(
        student_optouts.c.tenant == tenant, student_optouts.c.active == 1,
        student_optouts.c.client_id.in_((client_id, DIRECTORY)))
    return or_(table.c[column].is_(None), table.c[column].not_in(opted_out))


def row_condition(table: Any, rtype: str, tenant: str, client_id: str, allowed_orgs: tuple[str, ...] | None,
                  has_optouts: bool = True) -> ColumnElement | None:
    parts = [optout_condition(table, rtype, tenant, client_id) if has_optouts else None]
    if allowed_orgs:
        parts.append(org_condition(table, rtype, tenant, allowed_orgs))
    parts = [part for part in parts if part is not None]
    return and_(*parts) if parts else None
