"""The bundled Clever -> Ed-Fi mapping on the Clever sample export: records and reported problems compared with golden
files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended change, and review the diff), and an ingest into the
store on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil

import orjson
import pytest
from bundled_golden_support import check_golden, produce
from sqlalchemy import select

from gateway.ingesting import ingest
from gateway.storage.tables import records
from helpers import REPO, SHARED
from standards.edfi.identity import compile_document_key
from standards.model import load_model

CLEVER = SHARED / "samples" / "formats" / "clever_sftp"
MAPPING = REPO / "mappings" / "clever-edfi" / "mapping.yaml"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "clever-edfi"
PARAMS = {"entry_date": "2024-08-15", "school_year": "2025"}
pytestmark = pytest.mark.skipif(not CLEVER.exists(), reason=f"Clever sample not found at {CLEVER}")


def key(cls: str, **identity) -> str:
    return compile_document_key(load_model("edfi", "5.1"), cls)(identity)


def test_records_match_the_golden_files():
    produced, report = produce(MAPPING, CLEVER, params=PARAMS)
    check_golden(GOLDEN, produced, report)


def test_planted_edge_cases_and_references():
    produced, report = produce(MAPPING, CLEVER, params=PARAMS)
    s3002 = key("Student", studentUniqueId="S3002")
    assert report["errors"][0] == "students.csv:4: birthDate: '02/29/2010': not a real date for the format %m/%d/%Y"
    assert all(f"depends on rejected edfi.student '{s3002}' (students.csv:4)" in e for e in report["errors"][1:])
    assert len(report["errors"]) == 5  # the student, its two associations and its two section enrollments
    students, staff = produced["edfi.student"], produced["edfi.staff"]
    assert students[key("Student", studentUniqueId="S1001")]["from"] == "students.csv:2"  # one row per contact
    assert staff[key("Staff", staffUniqueId="T10")]["from"] == "teachers.csv:2"  # first row of a duplicate kept
    assert len(produced["edfi.staffSchoolAssociation"]) == 3  # T10 teaches at two schools
    school = produced["edfi.school"][key("School", schoolId=300)]["record"]
    assert school["schoolId"] == 300 and school["gradeLevels"][0]["gradeLevelDescriptor"].endswith("#Ninth grade")
    section = produced["edfi.section"][key("Section", sectionIdentifier="SEC-ALG2-3", courseOfferingReference={
        "localCourseCode": "MA2100", "schoolId": 300, "schoolYear": 2025, "sessionName": "S1"})]["record"]
    assert section["sectionName"] == "Algebra II - Smith - 3"
    positions = sorted((d["record"]["staffReference"]["staffUniqueId"], d["record"]["sectionReference"]
                        ["sectionIdentifier"], d["record"]["classroomPositionDescriptor"].split("#")[1])
                       for d in produced["edfi.staffSectionAssociation"].values())
    assert positions == [("T10", "SEC-ALG2-3", "Teacher of Record"), ("T10", "SEC-K-HR", "Teacher of Record"),
                         ("T20", "SEC-ALG2-3", "Assistant Teacher"), ("T20", "SEC-ALG2-3H", "Teacher of Record")]


def test_ingest_stores_ed_fi_documents_and_a_second_run_changes_nothing(engine, tmp_path):
    source = tmp_path / "clever"
    shutil.copytree(CLEVER, source, ignore=shutil.ignore_patterns("students.*.csv"))
    students = source / "students.csv"
    students.write_text(students.read_text(encoding="utf-8").replace("02/29/2010", "02/28/2010"), encoding="utf-8")
    first = ingest(engine, MAPPING, source, "d1", params=PARAMS)
    assert first.ok, first.errors
    assert first.records["edfi.student"].created == 2 and first.records["edfi.studentSectionAssociation"].created == 3
    with engine.connect() as conn:
        stored = {(r.type, r.sourced_id): (r.status, orjson.loads(r.doc)) for r in conn.execute(
            select(records.c.type, records.c.sourced_id, records.c.status, records.c.doc)
            .where(records.c.tenant == "d1"))}
    assert {t for t, _sid in stored} == {
        "edfi.school", "edfi.student", "edfi.studentSchoolAssociation", "edfi.studentEducationOrganizationAssociation",
        "edfi.staff", "edfi.staffSchoolAssociation", "edfi.session", "edfi.course", "edfi.courseOffering",
        "edfi.section", "edfi.staffSectionAssociation", "edfi.studentSectionAssociation"}
    status, doc = stored[("edfi.student", key("Student", studentUniqueId="S3002"))]
    assert status == "active"
    assert doc == {"studentUniqueId": "S3002", "firstName": "Gabriela", "middleName": "Isabel",
                   "lastSurname": 'García "Gigi"', "birthDate": "2010-02-28"}  # the Ed-Fi document, nothing else
    second = ingest(engine, MAPPING, source, "d1", params=PARAMS)
    assert second.ok and sum(s.created + s.updated + s.deleted for s in second.records.values()) == 0
