"""The bundled SIF US mapping on the shared SIF US sample (SchoolInfo, StudentPersonal, StudentSectionEnrollment)
completed by the hand-written fixture tests/mappings/fixtures/sif_us/ (SchoolCourseInfo, SectionInfo, StaffPersonal,
StaffAssignment, StudentSchoolEnrollment: the sample has none of them). Records and reported problems are compared
with golden files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended change, and review the diff); the planted
edge cases are checked one by one."""

from __future__ import annotations

import shutil

import pytest

from adapters.mapping import Engine, Inputs, SourceError, load_plan
from bundled_golden_support import by_field, check_golden, produce
from helpers import REPO
from helpers import SHARED

SAMPLE = SHARED / "samples" / "formats" / "sif_us"
FIXTURE = REPO / "tests" / "mappings" / "fixtures" / "sif_us"
MAPPING = REPO / "mappings" / "sif-us" / "mapping.yaml"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "sif-us"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason=f"SIF US sample not found at {SAMPLE}")

LIAM, GABRIELA, MINH = ("A1B2C3D4E5F60718293A4B5C6D7E8F90", "B1B2C3D4E5F60718293A4B5C6D7E8F91",
                        "C1B2C3D4E5F60718293A4B5C6D7E8F92")
SMITH, PATEL, NONAME = (f"5000000000000000000000000000000{n}" for n in (1, 2, 3))
LINCOLN, CENTRAL = "F0000000000000000000000000000100", "F0000000000000000000000000000300"
ALG2, ALG2H = "E0000000000000000000000000000002", "E0000000000000000000000000000003"


@pytest.fixture
def export(tmp_path):
    """The shared sample and the fixture in one directory, as a SIF zone export would be."""
    source = tmp_path / "sif"
    shutil.copytree(SAMPLE, source)
    for path in FIXTURE.glob("*.xml"):
        shutil.copy(path, source / path.name)
    return source


def test_records_match_the_golden_files(export):
    produced, report = produce(MAPPING, export)
    check_golden(GOLDEN, produced, report)


def test_planted_edge_cases(export):
    produced, report = produce(MAPPING, export)
    users, enrollments = produced["user"], produced["enrollment"]
    # bad rows are reported by file and line of their element, and what depends on them says so
    assert report["errors"] == [
        "StaffPersonal.xml:13: familyName: required field missing",
        f"SectionInfo.xml:3: user: depends on rejected user '{NONAME}' (StaffPersonal.xml:13)",
    ]
    assert report["warnings"] == []
    # grade codes through the crosswalk: 0K -> KG, 10 -> 10, PK -> PK
    assert [users[s]["record"]["grades"] for s in (LIAM, GABRIELA, MINH)] == [["KG"], ["10"], ["PK"]]
    # GraduationDate holding only a year is kept as a year, never as a made-up date
    assert users[MINH]["record"]["metadata"] == {"sif": {"graduationYear": "2038"}}
    # a student's school: StudentSchoolEnrollment when present (Minh), else the school of its first section
    assert [users[s]["record"]["primaryOrg"]["sourcedId"] for s in (LIAM, GABRIELA, MINH)] == \
        [LINCOLN, CENTRAL, LINCOLN]
    # a staff member's school: StaffAssignment (Smith), else the section taught (Patel, second teacher)
    assert users[SMITH]["record"]["roles"][0]["org"]["sourcedId"] == CENTRAL
    assert users[PATEL]["record"]["roles"] == [{"roleType": "primary", "role": "teacher",
                                                "org": {"sourcedId": CENTRAL, "type": "org"}}]
    # leaving a section (exit date) and entering another later: two enrollments, RefIds as ids
    gabriela = sorted((e["sourcedId"], e["class"]["sourcedId"], e.get("beginDate"), e.get("endDate"))
                      for e in by_field(enrollments, user=GABRIELA))
    assert gabriela == [("D0000000000000000000000000000002", ALG2, "2024-08-15", "2024-09-30"),
                        ("D0000000000000000000000000000003", ALG2H, "2024-10-01", None)]
    # the first teacher listed is primary, the co-teacher is not
    assert sorted((e["user"]["sourcedId"], e["primary"]) for e in by_field(enrollments, role="teacher")
                  if e["class"]["sourcedId"] == ALG2H) == [(SMITH, "true"), (PATEL, "false")]
    # demographics only where the sample has them (tier 2)
    assert {sid: d["record"] for sid, d in produced["demographics"].items()} == {
        LIAM: {"sourcedId": LIAM, "birthDate": "2019-09-14", "sex": "male"}}
    # attribute or element forms of SectionInfo's references both read
    assert produced["class"][ALG2]["record"]["metadata"]["sif"]["courseCodeOverride"] == "MA-ALG2"
    assert {c["record"]["terms"][0]["sourcedId"] for c in produced["class"].values()} == \
        set(produced["academicSession"])


def test_enrollments_without_refid_get_distinct_deterministic_ids(export):
    path = export / "StudentSectionEnrollment.xml"
    path.write_text(path.read_text(encoding="utf-8").replace(' RefId="D0000000000000000000000000000002"', "")
                    .replace(' RefId="D0000000000000000000000000000003"', ""), encoding="utf-8")
    first, report = produce(MAPPING, export)
    again, _ = produce(MAPPING, export)
    ids = sorted(e["sourcedId"] for e in by_field(first["enrollment"], user=GABRIELA))
    assert len(set(ids)) == 2 and all(len(i) == 36 for i in ids)
    assert ids == sorted(e["sourcedId"] for e in by_field(again["enrollment"], user=GABRIELA))


def test_the_sample_alone_lacks_sections_and_staff():
    """The shared sample has no SchoolCourseInfo, SectionInfo or StaffPersonal: the run stops and names them."""
    with Inputs(SAMPLE) as inputs, pytest.raises(SourceError) as raised:
        list(Engine(load_plan(MAPPING), inputs).run())
    assert str(raised.value) == f"SchoolCourseInfo.xml, SectionInfo.xml, StaffPersonal.xml: not found in {SAMPLE}"


def test_unknown_grade_code_is_reported(export):
    path = export / "StudentPersonal.xml"
    path.write_text(path.read_text(encoding="utf-8").replace("<Code>PK</Code>", "<Code>P3</Code>"), encoding="utf-8")
    _produced, report = produce(MAPPING, export)
    assert "StudentPersonal.xml:15: grades: 'P3' is not in crosswalk 'grades' (grades.csv)" in report["errors"]
