"""The bundled Canvas SIS mapping on the Canvas SIS import sample: records and reported problems compared with golden
files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended change, and review the diff), the planted edge cases,
and an end-to-end ingest served by the OneRoster API."""

from __future__ import annotations

import shutil

import pytest

from bundled_golden_support import check_golden, produce
from gateway.ingesting import ingest
from helpers import REPO, SHARED, V12

CANVAS = SHARED / "samples" / "formats" / "canvas_sis"
MAPPING = REPO / "mappings" / "canvas-sis" / "mapping.yaml"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "canvas-sis"
pytestmark = pytest.mark.skipif(not CANVAS.exists(), reason=f"Canvas SIS sample not found at {CANVAS}")

EXPECTED_ERRORS = [
    "terms.csv:4: startDate: required field missing",  # Summer 2025: Canvas allows a term without dates
    "terms.csv:4: endDate: required field missing",
    "terms.csv:4: schoolYear: required field missing",
    "courses.csv:3: org: unknown org 'A004'",  # BIO300 names an account accounts.csv does not have
]


def copy_sample(tmp_path):
    target = tmp_path / "canvas_sis"
    shutil.copytree(CANVAS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_records_match_the_golden_files():
    produced, report = produce(MAPPING, CANVAS)
    check_golden(GOLDEN, produced, report)


def test_planted_edge_cases():
    produced, report = produce(MAPPING, CANVAS)
    assert report["errors"] == EXPECTED_ERRORS
    users, classes, terms = produced["user"], produced["class"], produced["academicSession"]
    # leading-zero ids stay text, in the user and in every reference to it
    assert users["01103"]["record"]["sourcedId"] == "01103"
    assert {e["record"]["user"]["sourcedId"] for e in produced["enrollment"].values()} == {"01103", "13834"}
    assert "13aa3" not in users and report["rules"]["users"]["filtered"] == 1  # status deleted
    # the mixed term date formats all parse, each with its own declared format
    assert (terms["T001"]["record"]["startDate"], terms["T001"]["record"]["endDate"]) == ("2024-08-15", "2024-12-20")
    assert (terms["T002"]["record"]["startDate"], terms["T002"]["record"]["endDate"]) == ("2025-01-06", "2025-05-30")
    assert (terms["T001"]["record"]["schoolYear"], terms["T002"]["record"]["schoolYear"]) == ("2025", "2025")
    # cross-listing: S003 (course R001104) moved into E411208; the duplicate xlists row is deduplicated, not an error
    s003 = classes["S003"]
    assert s003["from"] == "xlists.csv:2" and s003["record"]["course"]["sourcedId"] == "E411208"
    assert s003["record"]["metadata"]["canvas"]["nonxlistCourseId"] == "R001104"
    assert classes["S002"]["from"] == "xlists.csv:3"
    assert report["rules"]["cross_listed_classes"]["duplicates"] == 1 and not report["warnings"]
    assert classes["S001"]["record"]["course"]["sourcedId"] == "E411208"
    # the enrollment with section_id but no course_id: class from the section, school through the lookups
    ta = next(e["record"] for e in produced["enrollment"].values() if e["from"] == "enrollments.csv:4")
    assert ta["class"]["sourcedId"] == "S003" and ta["school"]["sourcedId"] == "A002"
    assert (ta["role"], ta["primary"]) == ("teacher", "false")
    roles = {(e["record"]["user"]["sourcedId"], e["record"]["role"], e["record"].get("primary"))
             for e in produced["enrollment"].values()}
    assert roles == {("01103", "student", None), ("13834", "teacher", "true"), ("13834", "teacher", "false")}
    assert produced["org"]["A001"]["record"]["type"] == "district"
    assert produced["org"]["A002"]["record"]["parent"]["sourcedId"] == "A001"


def test_conflicting_cross_listing_keeps_the_first_and_warns(tmp_path):
    source = copy_sample(tmp_path)
    (source / "xlists.csv").write_text("xlist_course_id,section_id,status\nE411208,S003,active\n"
                                       "A110035,S003,active\nA110035,S002,deleted\n", encoding="utf-8")
    produced, report = produce(MAPPING, source)
    classes = produced["class"]
    assert classes["S003"]["record"]["course"]["sourcedId"] == "E411208"
    assert classes["S002"]["from"] == "sections.csv:3"  # a deleted cross-listing reverts to the section's course
    assert classes["S002"]["record"]["course"]["sourcedId"] == "E411208"
    assert report["warnings"] == ["xlists.csv:3: duplicate 'S003' in cross_listed_classes, values differ from "
                                  "xlists.csv:2; the first row is kept"]


def test_bad_dates_roles_and_course_only_enrollments_are_reported_per_row(tmp_path):
    source = copy_sample(tmp_path)
    (source / "terms.csv").write_text(
        (CANVAS / "terms.csv").read_text(encoding="utf-8") + "T004,Bad,active,2024-08-15,2024-02-30 00:00:00\n"
        "T005,Worse,active,01/06/2025,2025-05-30T00:00:00+02:00\n", encoding="utf-8")
    (source / "enrollments.csv").write_text(
        "course_id,root_account,user_id,role,role_id,section_id,status,associated_user_id\n"
        "E411208,,01103,student,,S001,active,\nE411208,,13834,,7,S001,active,\n"
        "A110035,,01103,designer,,,active,\nE411208,,13834,observer,,S001,active,01103\n", encoding="utf-8")
    with open(source / "users.csv", "a", encoding="utf-8") as users:
        users.write("99001,,nobody,,No,Body,,,active\n")
    produced, report = produce(MAPPING, source)
    assert "users.csv:5: roles.role: no enrollment in enrollments.csv: Canvas users carry no role or org of their " \
           "own" in report["errors"]
    assert "terms.csv:5: endDate: '2024-02-30 00:00:00': not a real date for the format %Y-%m-%d %H:%M:%S" \
        in report["errors"]
    assert "terms.csv:6: startDate: '01/06/2025': does not match for the format %Y-%m-%d" in report["errors"]
    assert not [e for e in report["errors"] if e.startswith("terms.csv:6: endDate")]  # ISO with an offset parses
    assert "enrollments.csv:3: role: custom role_id 7 has no OneRoster role (add it to the enrollment_roles " \
           "crosswalk)" in report["errors"]
    designer = next(e["record"] for e in produced["enrollment"].values() if e["from"] == "enrollments.csv:4")
    default = produced["class"][designer["class"]["sourcedId"]]  # course-only enrollment: the default section
    assert designer["role"] == "administrator" and default["from"] == "courses.csv:4"
    assert default["record"]["course"]["sourcedId"] == "A110035"
    assert report["rules"]["enrollments"]["filtered"] == 1  # the observer


def test_ingest_and_serve_classes(engine, apps, client, tmp_path):
    report = ingest(engine, MAPPING, CANVAS, "d1")
    assert not report.committed and report.errors == EXPECTED_ERRORS  # atomic by default
    report = ingest(engine, MAPPING, CANVAS, "d1", skip_invalid=True, rejects_path=tmp_path / "rejects.csv")
    assert report.committed and report.rejected == 2
    created = {rtype: s.created for rtype, s in report.records.items()}
    assert created == {"org": 3, "academicSession": 2, "course": 2, "user": 2, "class": 3, "enrollment": 3}
    response = client.get(f"{V12}/classes", headers=apps.headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    classes = {c["sourcedId"]: c for c in response.get_json()["classes"]}
    assert set(classes) == {"S001", "S002", "S003"}
    assert classes["S003"]["course"]["sourcedId"] == "E411208" and classes["S003"]["school"]["sourcedId"] == "A002"
    response = client.get(f"{V12}/users/01103", headers=apps.headers())
    assert response.status_code == 200 and response.get_json()["user"]["sourcedId"] == "01103"
    again = ingest(engine, MAPPING, CANVAS, "d1", skip_invalid=True, rejects_path=tmp_path / "rejects2.csv")
    assert again.committed and all(s.created == s.updated == s.deleted == 0 for s in again.records.values())
