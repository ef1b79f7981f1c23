"""Recording what one response discloses: one disclosure-log entry per request, never one per record.

The view hands every record it sends to :meth:`ResponseDisclosures.observe` (the stored document, for working out
whose data it is, and the shaped one, for the field names actually sent); :meth:`ResponseDisclosures.commit` appends
one entry to the hash-chained log. Only record types that carry a student's data are logged: users (students),
enrollments of students, demographics and results.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from gateway.privacy.disclosures import Disclosure
from gateway.privacy.disclosures import record

STUDENT = "student"


def _user_is_student(doc: dict) -> bool:
    return any(isinstance(role, dict) and role.get("role") == STUDENT for role in doc.get("roles") or ())


def _ref_id(doc: dict, field: str) -> str | None:
    ref = doc.get(field)
    return ref.get("sourcedId") if isinstance(ref, dict) else None


# record type -> the student a stored document concerns (None: not a student's data)
_STUDENT_OF = {
    "user": lambda sid, doc: sid if _user_is_student(doc) else None,
    "enrollment": lambda sid, doc: _ref_id(doc, "user") if doc.get("role") == STUDENT else None,
    "demographics": lambda sid, doc: sid,
    "result": lambda sid, doc: _ref_id(doc, "student"),
    "assessmentResult": lambda sid, doc: _ref_id(doc, "student"),
}


class ResponseDisclosures:
    """Collects the records, students and field names of one response."""

    def __init__(self, tenant: str, client_id: str, endpoint: str, record_type: str, purpose: str = ""):
        self.tenant, self.client_id, self.endpoint = tenant, client_id, endpoint
        self.record_type, self.purpose = record_type, purpose
        self._student_of = _STUDENT_OF.get(record_type)
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
