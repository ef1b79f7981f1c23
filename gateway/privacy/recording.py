"""Recording what one response discloses: one disclosure-log entry per request, never one per record.

The view hands every record it sends to :meth:`ResponseDisclosures.observe` (the stored document, for working out
whose data it is, and the shaped one, for the field names actually sent); :meth:`ResponseDisclosures.commit` appends
one entry to the hash-chained log. Only record types that carry a student's data are logged: users (students),
enrollments of students, demographics and results.
"""

from __future__ import annotations

from typing import Any
from typing import Callable

from sqlalchemy import Engine

from gateway.privacy.disclosures import Disclosure
from gateway.privacy.disclosures import record
from gateway.privacy.scoping import STUDENT_COLUMN
from gateway.storage import indexing
from standards.paths import values_at

STUDENT = "student"
# Which path must hold "student" for a record to concern a student (users and enrollments also exist for staff).
STUDENT_ROLE = {"user": ("roles", "role"), "enrollment": ("role",)}


def student_of(rtype: str) -> Callable[[str, dict], str | None] | None:
    """How to find the student a stored document concerns, from the same tables that scope rows to students
    (:data:`gateway.privacy.scoping.STUDENT_COLUMN` and the store's indexed column paths); None: never a student's."""
    column = STUDENT_COLUMN.get(rtype)
    if column is None:
        return None
    path = None if column == "sourced_id" else tuple(indexing.COLUMNS[rtype][column].split("."))
    role = STUDENT_ROLE.get(rtype)

    def find(sourced_id: str, doc: dict) -> str | None:
        if role is not None and STUDENT not in values_at(doc, role):
            return None
        return sourced_id if path is None else next(iter(values_at(doc, path)), None)

    return find


class ResponseDisclosures:
    """Collects the records, students and field names of one response."""

    def __init__(self, tenant: str, client_id: str, endpoint: str, record_type: str, purpose: str = ""):
        self.tenant, self.client_id, self.endpoint = tenant, client_id, endpoint
        self.record_type, self.purpose = record_type, purpose
        self._student_of = student_of(record_type)
        self.record_ids: list[str] = []
        self.students: set[str] = set()
        self.fields: set[str] = set()

    @property
    def active(self) -> bool:
        return self._student_of is not None

    def observe(self, stored: dict, sent: dict) -> None:
        sid = stored["sourcedId"]
        student = self._student_of(sid, stored) if self._student_of else None
        if student is None:
            return
        self.record_ids.append(sid)
        self.students.add(student)
        self.fields.update(sent)

    def commit(self, engine: Engine) -> int | None:
        """Append the entry (nothing when no student's data was sent); returns its sequence number."""
        if not self.record_ids:
            return None
        return record(engine, Disclosure(
            tenant=self.tenant, client_id=self.client_id, endpoint=self.endpoint, record_type=self.record_type,
            record_ids=self.record_ids, fields=sorted(self.fields), student_ids=sorted(self.students),
            purpose=self.purpose))


def observer(disclosures: ResponseDisclosures | None) -> Any:
    return disclosures.observe if disclosures is not None and disclosures.active else None
