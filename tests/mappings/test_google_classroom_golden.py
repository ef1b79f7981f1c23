"""The bundled Google Classroom mapping on the Google Classroom sample (API v1 JSON): the records it produces and the
problems it reports are compared with golden files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended change,
and review the diff); the planted edge cases are checked one by one."""

from __future__ import annotations

import json
import shutil

import pytest

from bundled_golden_support import by_field, check_golden, produce
from helpers import REPO
from helpers import SHARED

SAMPLE = SHARED / "samples" / "formats" / "google_classroom"
MAPPING = REPO / "mappings" / "google-classroom" / "mapping.yaml"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "google-classroom"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason=f"Google Classroom sample not found at {SAMPLE}")

OWNER, OTHER_OWNER = "104511111111111111111", "104522222222222222222"
GABRIELA, JO, MINH = "110000000000000000001", "110000000000000000002", "110000000000000000003"


def test_records_match_the_golden_files():
    produced, report = produce(MAPPING, SAMPLE)
    check_golden(GOLDEN, produced, report)


def test_planted_edge_cases():
    produced, report = produce(MAPPING, SAMPLE)
    users, classes, results = produced["user"], produced["class"], produced["result"]
    # courseWork with neither dates nor a due date (the one assigned to individual students) is reported, by path
    assert report["errors"] == ["courses.courseWork.json:courseWork[1]: assignDate: required field missing",
                                "courses.courseWork.json:courseWork[1]: dueDate: required field missing"]
    assert report["warnings"] == ["courses.teachers.json: not in <source> (optional source): no rows"]
    # ARCHIVED course filtered (with its owner's enrollment); PROVISIONED kept, its state in metadata
    assert sorted(classes) == ["123456789012", "123456789013"]
    assert classes["123456789013"]["record"]["metadata"]["googleClassroom"]["courseState"] == "PROVISIONED"
    assert report["rules"]["classes"] == {"read": 3, "produced": 2, "rejected": 0, "duplicates": 0, "filtered": 1}
    # Classroom has no schools or terms: one synthetic school, a school year from creationTime (July-June)
    assert list(produced["org"]) == ["google-classroom"]
    (year,) = produced["academicSession"].values()
    assert (year["record"]["startDate"], year["record"]["endDate"], year["record"]["schoolYear"]) == \
        ("2024-07-01", "2025-06-30", "2025")
    # the student without email is identified by userId, with no email or username
    minh = users[MINH]["record"]
    assert "email" not in minh and "username" not in minh and minh["userIds"] == [{"type": "Google",
                                                                                   "identifier": MINH}]
    # no teachers file: the owners are the teachers, primary, with no name exported
    assert users[OWNER]["record"]["givenName"] == "(unknown)" and OTHER_OWNER in users
    owner_enrollments = by_field(produced["enrollment"], role="teacher")
    assert sorted((e["class"]["sourcedId"], e["user"]["sourcedId"], e["primary"]) for e in owner_enrollments) == \
        [("123456789012", OWNER, "true"), ("123456789013", OTHER_OWNER, "true")]
    # courseWork: dueDate + dueTime joined in UTC, maxPoints -> resultValueMax; the DRAFT is filtered
    (quiz,) = produced["lineItem"].values()
    assert (quiz["record"]["dueDate"], quiz["record"]["resultValueMax"], quiz["record"]["assignDate"]) == \
        ("2024-08-27T04:59:00Z", 10, "2024-08-20T13:00:00Z")
    assert report["rules"]["line_items"]["filtered"] == 1
    # submissions: assignedGrade -> score; NEW without timestamps -> not submitted, dated when the work was assigned
    graded, = by_field(results, student=GABRIELA)
    assert (graded["score"], graded["scoreStatus"], graded["scoreDate"], graded["late"]) == \
        (9.5, "fully graded", "2024-08-28", "true")
    new, = by_field(results, student=JO)
    assert (new["scoreStatus"], new["scoreDate"]) == ("not submitted", "2024-08-20") and "score" not in new
    turned_in, = by_field(results, student=MINH)
    assert (turned_in["scoreStatus"], turned_in["scoreDate"]) == ("submitted", "2024-08-26")
    # never mapped: the teacher-only draftGrade, the course's enrollment code
    text = json.dumps(produced)
    assert "abc12de" not in text and '"score": 8' not in text


def test_teachers_file_and_individual_assignees(tmp_path):
    """With courses.teachers.json the owner gets a real profile and co-teachers are not primary; work assigned to
    individual students keeps its assignees in metadata; a due date without time is due at the end of the day."""
    source = tmp_path / "google"
    shutil.copytree(SAMPLE, source)
    (source / "courses.teachers.json").write_text(json.dumps({"teachers": [
        {"courseId": "123456789012", "userId": OWNER,
         "profile": {"id": OWNER, "name": {"givenName": "Ana", "familyName": "Smith"},
                     "emailAddress": "asmith@district.example"}},
        {"courseId": "123456789012", "userId": "104533333333333333333",
         "profile": {"id": "104533333333333333333", "name": {"givenName": "Raj", "familyName": "Patel"}}},
        {"courseId": "123456789014", "userId": "104544444444444444444",
         "profile": {"id": "104544444444444444444", "name": {"givenName": "Old", "familyName": "Course"}}},
    ]}), encoding="utf-8")
    work = json.loads((SAMPLE / "courses.courseWork.json").read_text(encoding="utf-8"))
    work["courseWork"][1].update({"creationTime": "2024-09-02T08:00:00Z", "dueDate": {"year": 2024, "month": 9,
                                                                                          "day": 3}})
    work["courseWork"][0]["dueTime"] = {}  # the API leaves out members equal to 0: midnight
    (source / "courses.courseWork.json").write_text(json.dumps(work), encoding="utf-8")
    produced, report = produce(MAPPING, source)
    assert report["errors"] == [] and report["warnings"] == []
    users = produced["user"]
    assert users[OWNER]["record"]["familyName"] == "Smith"
    assert users[OWNER]["from"] == "courses.teachers.json:teachers[0]"
    assert users[OTHER_OWNER]["record"]["givenName"] == "(unknown)"  # owner of a course absent from the teachers file
    assert "104544444444444444444" not in users  # teaches an ARCHIVED course only
    teachers = by_field(produced["enrollment"], role="teacher")
    assert sorted((e["class"]["sourcedId"], e["user"]["sourcedId"], e["primary"]) for e in teachers) == \
        [("123456789012", OWNER, "true"), ("123456789012", "104533333333333333333", "false"),
         ("123456789013", OTHER_OWNER, "true")]
    exit_ticket, = [e["record"] for e in produced["lineItem"].values() if e["record"]["title"] == "Exit ticket"]
    assert exit_ticket["dueDate"] == "2024-09-03T23:59:59Z"
    assert exit_ticket["metadata"]["googleClassroom"] == {
        "workType": "SHORT_ANSWER_QUESTION", "assigneeMode": "INDIVIDUAL_STUDENTS",
        "individualStudentIds": [GABRIELA]}
    assert "resultValueMax" not in exit_ticket
    quiz, = [e["record"] for e in produced["lineItem"].values() if e["record"]["title"] == "Unit 1 Quiz"]
    assert quiz["dueDate"] == "2024-08-27T00:00:00Z"
