"""Mappings that target Ed-Fi DS 5.1: compile errors name the mapping's file and line, record ids come from natural
keys (or an explicit id), documents are validated as Ed-Fi documents, and references are checked by natural key."""

from __future__ import annotations

import textwrap

import pytest

from adapters.mapping import Engine, Inputs, MappingError, load_plan
from standards.edfi.identity import compile_document_key
from standards.model import load_model

HEADER = """\
version: 1
name: t
target: {standard: edfi, version: "5.1"}
sources:
  students: {file: students.csv}
  links: {file: links.csv, optional: true}
records:
"""
STUDENTS = """\
  students:
    source: students
    class: Student
    fields:
      studentUniqueId: =id
      firstName: =first
      lastSurname: =last
      birthDate: =born
"""
LINKS = """\
  links:
    source: links
    class: StudentSchoolAssociation
    fields:
      studentReference: {studentUniqueId: =student}
      schoolReference: {schoolId: =school}
      entryDate: 2024-08-20
      entryGradeLevelDescriptor: "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"
"""
FILES = {"students.csv": "id,first,last,born\nS1,Ana,Diaz,2010-01-02\nS2,Bo,Li,2010-13-01\n",
         "links.csv": "student,school\nS1,255901\nS2,255901\nS9,255901\n"}


def write(tmp_path, mapping: str):
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(mapping), encoding="utf-8")
    return path


def run(tmp_path, mapping: str, files: dict = FILES):
    plan = load_plan(write(tmp_path, mapping))
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for name, text in files.items():
        (data / name).write_text(text, encoding="utf-8")
    with Inputs(data) as inputs:
        outcomes = list(Engine(plan, inputs).run())
    return plan, outcomes


def compile_error(tmp_path, mapping: str) -> str:
    with pytest.raises(MappingError) as caught:
        load_plan(write(tmp_path, mapping))
    return str(caught.value).replace(f"{tmp_path}/", "")


def test_unknown_class_names_file_line_and_close_matches(tmp_path):
    message = compile_error(tmp_path, HEADER + STUDENTS.replace("class: Student", "class: Studnet"))
    assert message.startswith("m.yaml:10: records.students.class: 'Studnet' is not a record class of edfi 5.1")
    assert "did you mean Student" in message


@pytest.mark.parametrize("field, line, expected", [
    ("      firstNam: =first\n", 16, "records.students.fields.firstNam: Student has no field 'firstNam'"),
    ("      sourcedId: =id\n", 16, "records.students.fields.sourcedId: Student has no field 'sourcedId'"),
])
def test_unknown_field_names_file_and_line(tmp_path, field, line, expected):
    message = compile_error(tmp_path, HEADER + STUDENTS + field)
    assert message.startswith(f"m.yaml:{line}: {expected}")


def test_unknown_reference_member_names_the_nested_class(tmp_path):
    mapping = HEADER + LINKS.replace("{schoolId: =school}", "{schoolCode: =school}")
    message = compile_error(tmp_path, mapping)
    assert message.startswith("m.yaml:13: records.links.fields.schoolReference.schoolCode: "
                              "StudentSchoolAssociation.schoolReference has no field 'schoolCode'")


def test_optional_references_are_refused_for_now(tmp_path):
    mapping = HEADER + STUDENTS + LINKS.replace("    class: StudentSchoolAssociation\n",
                                                "    class: StudentSchoolAssociation\n    optional_references: "
                                                "[studentReference]\n")
    assert "records.links.optional_references: not supported for Ed-Fi targets yet" in compile_error(tmp_path, mapping)


def test_a_oneroster_rule_still_needs_its_sourced_id(tmp_path):
    mapping = "version: 1\nsources:\n  s: {file: s.csv}\nrecords:\n  orgs:\n    source: s\n    class: Org\n" \
              "    fields:\n      name: =n\n"
    assert compile_error(tmp_path, mapping).startswith("m.yaml:8: records.orgs.fields: sourcedId is required")


def test_records_are_keyed_by_natural_key_validated_and_checked(tmp_path):
    plan, outcomes = run(tmp_path, HEADER + LINKS + STUDENTS)
    assert [r.cls for r in plan.rules] == ["Student", "StudentSchoolAssociation"]  # referenced resources first
    assert [r.rtype for r in plan.rules] == ["edfi.student", "edfi.studentSchoolAssociation"]
    model = load_model("edfi", "5.1")
    produced = {(t, sid): doc for o in outcomes for t, sid, doc in o.records}
    s1 = compile_document_key(model, "Student")({"studentUniqueId": "S1"})
    assert produced[("edfi.student", s1)]["firstName"] == "Ana"
    assert produced[("edfi.student", s1)]["sourcedId"] == s1  # the engine's key; the store keeps it in a column
    link = next(doc for (t, _sid), doc in produced.items() if t == "edfi.studentSchoolAssociation")
    assert link["schoolReference"] == {"schoolId": 255901} and link["entryDate"] == "2024-08-20"
    errors = [(o.place, field, reason) for o in outcomes for field, reason in o.errors]
    s2 = compile_document_key(model, "Student")({"studentUniqueId": "S2"})
    s9 = compile_document_key(model, "Student")({"studentUniqueId": "S9"})
    assert errors == [("students.csv:3", "birthDate", "not a real date"),
                      ("links.csv:3", "studentReference", f"depends on rejected edfi.student '{s2}' (students.csv:3)"),
                      ("links.csv:4", "studentReference", f"unknown edfi.student '{s9}'")]


def test_the_same_natural_key_twice_is_a_duplicate(tmp_path):
    files = {"students.csv": "id,first,last,born\nS1,Ana,Diaz,2010-01-02\nS1,Ann,Diaz,2010-01-02\n"}
    _plan, outcomes = run(tmp_path, HEADER + STUDENTS, files)
    errors = [(o.place, field, reason[:9]) for o in outcomes for field, reason in o.errors]
    assert errors == [("students.csv:3", "sourcedId", "duplicate")]


def test_an_explicit_id_is_the_key_and_references_to_it_are_not_checked(tmp_path):
    mapping = HEADER + STUDENTS.replace("studentUniqueId: =id", "id: \"=concat('stu-', id)\"\n      "
                                        "studentUniqueId: =id") + LINKS
    _plan, outcomes = run(tmp_path, mapping, {**FILES, "students.csv": FILES["students.csv"].replace("13-01", "12-01")})
    keys = sorted(sid for o in outcomes for t, sid, _d in o.records if t == "edfi.student")
    assert keys == ["stu-S1", "stu-S2"]
    assert not any(o.errors for o in outcomes)  # S9 is not checked: explicit ids cannot be computed from a reference
    docs = [d for o in outcomes for t, _s, d in o.records if t == "edfi.student"]
    assert all("id" not in d for d in docs)


def test_rows_without_a_complete_natural_key_are_rejected_not_dropped(tmp_path):
    files = {**FILES, "links.csv": "student,school\nS1,\n"}
    _plan, outcomes = run(tmp_path, HEADER + STUDENTS + LINKS, files)
    assert [(o.place, o.errors) for o in outcomes if o.source == "links.csv"] == \
        [("links.csv:2", [("schoolReference", "required field missing")])]


# Privacy tiers (standards/edfi/tiers.json, privacy-security.md section 2.3): tier 3 is refused when the mapping
# compiles, and an identification code of a national-ID system is rejected row by row.

STAFF = """\
  staff:
    source: students
    class: Staff
    fields:
      staffUniqueId: =id
      firstName: =first
      lastSurname: =last
"""


@pytest.mark.parametrize("rule, extra, line, path", [
    (STAFF, "      loginId: =first\n", 15, "records.staff.fields.loginId"),
    (STUDENTS, "      personalIdentificationDocuments:\n"
               "        - identificationDocumentUseDescriptor: \"uri://ed-fi.org/IdentificationDocumentUseDescriptor#x\"\n"
               "          issuerDocumentIdentificationCode: =born\n", 18,
     "records.students.fields.personalIdentificationDocuments[0].issuerDocumentIdentificationCode"),
])
def test_a_tier_3_target_is_refused_with_file_and_line(tmp_path, rule, extra, line, path):
    message = compile_error(tmp_path, HEADER + rule + extra)
    assert message.startswith(f"m.yaml:{line}: {path}: credentials, government ID numbers and free-text narratives "
                              "(tier 3) are never stored")


def test_a_nested_tier_3_field_is_refused_at_any_depth(tmp_path):
    mapping = HEADER + """\
  incidents:
    source: students
    class: DisciplineIncident
    fields:
      incidentIdentifier: =id
      schoolReference: {schoolId: 255901}
      incidentDate: 2024-08-20
      behaviors:
        - behaviorDescriptor: "uri://ed-fi.org/BehaviorDescriptor#School Code of Conduct"
          behaviorDetailedDescription: =first
"""
    assert compile_error(tmp_path, mapping).startswith(
        "m.yaml:17: records.incidents.fields.behaviors[0].behaviorDetailedDescription: credentials")
    top = mapping.replace("      behaviors:\n", "      incidentDescription: =first\n      behaviors:\n")
    assert compile_error(tmp_path, top).startswith("m.yaml:15: records.incidents.fields.incidentDescription: ")


def test_a_whole_object_holding_tier_3_fields_cannot_come_from_an_expression(tmp_path):
    message = compile_error(tmp_path, HEADER + STUDENTS + "      identificationDocuments: =json(first)\n")
    assert message.startswith("m.yaml:16: records.students.fields.identificationDocuments: "
                              "Student.identificationDocuments holds prohibited (tier 3) fields "
                              "(issuerDocumentIdentificationCode)")
    # its other members may be mapped one by one
    load_plan(write(tmp_path, HEADER + STUDENTS + "      identificationDocuments:\n"
                    "        - identificationDocumentUseDescriptor: \"uri://ed-fi.org/IdentificationDocumentUseDescriptor#x\"\n"
                    "          issuerCountryDescriptor: \"uri://ed-fi.org/CountryDescriptor#US\"\n"))


SEOA = """\
  seoa:
    source: codes
    class: StudentEducationOrganizationAssociation
    fields:
      studentReference: {studentUniqueId: =student}
      educationOrganizationReference: {educationOrganizationId: 255901}
      studentIdentificationCodes:
        - studentIdentificationSystemDescriptor: "=concat('uri://ed-fi.org/StudentIdentificationSystemDescriptor#', system)"
          assigningOrganizationIdentificationCode: IL
          identificationCode: =code
"""


def test_an_identification_code_of_a_national_id_system_is_rejected_without_its_value(tmp_path):
    header = HEADER.replace("records:\n", "  codes: {file: codes.csv}\nrecords:\n")
    files = {**FILES, "students.csv": "id,first,last,born\nS1,Ana,Diaz,2010-01-02\nS2,Bo,Li,2010-01-03\n"
                                      "S3,Cy,Wu,2010-01-04\n",
             "codes.csv": "student,system,code\nS1,State,IL-123\nS2,SSN,078-05-1120\nS3,Social Security,219099999\n"}
    _plan, outcomes = run(tmp_path, header + STUDENTS + SEOA, files)
    errors = [(o.place, field, reason) for o in outcomes for field, reason in o.errors]
    reason = ("prohibited (tier 3): studentIdentificationSystemDescriptor names a national or government ID system; "
              "such numbers are never stored")
    assert errors == [("codes.csv:3", "studentIdentificationCodes[0].identificationCode", reason),
                      ("codes.csv:4", "studentIdentificationCodes[0].identificationCode", reason)]
    stored = [d for o in outcomes for t, _s, d in o.records if t == "edfi.studentEducationOrganizationAssociation"]
    assert len(stored) == 1 and stored[0]["studentIdentificationCodes"][0]["identificationCode"] == "IL-123"
    assert "078-05-1120" not in repr(errors) and "219099999" not in repr(errors)
