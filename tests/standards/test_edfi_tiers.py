"""Ed-Fi privacy tiers (standards/edfi/tiers.json, privacy-security.md section 2.3): applied when the model is
generated, every field has one, the file names only classes and fields that exist, and spot checks per tier."""

from __future__ import annotations

import copy
import gzip
import importlib.util
import json

import pytest

from helpers import REPO
from standards.model import load_model
from standards.validation import compile_validator

TIERS = REPO / "standards" / "edfi" / "tiers.json"


@pytest.fixture(scope="module")
def model():
    return load_model("edfi", "5.1")


@pytest.fixture(scope="module")
def tiers():
    return json.loads(TIERS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("generate_edfi", REPO / "standards" / "tools" / "generate_edfi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_field_has_a_tier_and_all_four_are_used(model):
    seen = {f.tier for c in model.classes.values() for f in c.fields.values()}
    assert seen == {0, 1, 2, 3}
    for c in model.classes.values():
        for f in c.fields.values():
            assert f.tier in (0, 1, 2, 3), f"{c.name}.{f.name}"


def test_the_notes_cite_section_2_3(tiers):
    assert "section 2.3" in tiers["notes"]["policy"] and tiers["default"] == 1


def test_tiers_json_names_only_classes_and_fields_that_exist(model, tiers):
    """Drift: a misspelt entry would silently leave a field at its default tier."""
    every = {f.name for c in model.classes.values() for f in c.fields.values()}
    assert set(tiers["fields"]) <= every
    for cname, ct in tiers["classes"].items():
        assert cname in model.classes, cname
        for fname, tier in ct.get("fields", {}).items():
            assert fname in model[cname].fields, f"{cname}.{fname}"
            assert model[cname].fields[fname].tier == tier, f"{cname}.{fname}"
    for rule in tiers["prohibitedValues"]:
        c = model[rule["class"]]
        assert rule["field"] in c.fields and c.fields[rule["when"]].type == "descriptor"
        assert (rule["field"], rule["when"], rule["codeValue"]) in c.prohibited


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t["classes"].setdefault("Studnet", {}), "unknown class Studnet"),
    (lambda t: t["classes"]["Student"]["fields"].update(birthdate=2), "unknown field Student.birthdate"),
    (lambda t: t["fields"].update(logonId=3), "no class has a field logonId"),
    (lambda t: t["classes"]["Staff"]["fields"].update(loginId=4), "bad tier Staff.loginId=4"),
    (lambda t: t["prohibitedValues"][0].update(when="identificationCode"), "is not a descriptor"),
])
def test_the_generator_refuses_entries_that_name_nothing(generator, tiers, mutate, message):
    classes = json.loads(gzip.decompress((REPO / "standards" / "edfi" / "v5p1" / "model.json.gz").read_bytes()))
    broken = copy.deepcopy(tiers)
    mutate(broken)
    generator.check_tiers(classes["classes"], tiers)  # the committed file passes
    with pytest.raises(ValueError, match=message):
        generator.check_tiers(classes["classes"], broken)


@pytest.mark.parametrize("path", [
    "Student.studentUniqueId", "Student.firstName", "Student.lastSurname", "Student.preferredFirstName", "Student.id",
    "StudentSchoolAssociation.schoolReference.schoolId", "StudentSchoolAssociation.entryGradeLevelDescriptor",
    "StudentSchoolAssociation.entryDate", "StudentSectionAssociation.sectionReference.sectionIdentifier",
    "Section.sectionIdentifier", "Course.courseTitle", "CourseOffering.localCourseCode", "Session.sessionName",
    "School.nameOfInstitution", "Staff.firstName", "Staff.lastSurname",
    "Staff.electronicMails.electronicMailAddress", "SexDescriptor.codeValue", "SchoolYearType.schoolYear",
])
def test_tier_0_roster_core(model, path):
    cls, _, rest = path.partition(".")
    assert model[cls].tier(rest) == 0


@pytest.mark.parametrize("path", [
    "StudentAssessment.administrationDate", "StudentSchoolAttendanceEvent.eventDate", "CourseTranscript.finalLetterGradeEarned",
    "Grade.letterGradeEarned", "StudentProgramAssociation.beginDate", "Contact.firstName",
    "Contact.electronicMails.electronicMailAddress", "Contact.telephones.telephoneNumber",
    "StudentEducationOrganizationAssociation.electronicMails.electronicMailAddress",
    "StudentEducationOrganizationAssociation.telephones.telephoneNumber", "Student.middleName",
    "StudentContactAssociation.emergencyContactStatus", "StudentEducationOrganizationAssociation.studentIdentificationCodes.identificationCode",
])
def test_tier_1_educational_record(model, path):
    cls, _, rest = path.partition(".")
    assert model[cls].tier(rest) == 1


@pytest.mark.parametrize("path", [
    "Student.birthDate", "Student.birthCity", "Student.birthCountryDescriptor", "Student.birthSexDescriptor",
    "Student.citizenshipStatusDescriptor", "Student.dateEnteredUS", "Student.multipleBirthStatus", "Student.maidenName",
    "StudentEducationOrganizationAssociation.races.raceDescriptor",
    "StudentEducationOrganizationAssociation.hispanicLatinoEthnicity",
    "StudentEducationOrganizationAssociation.sexDescriptor",
    "StudentEducationOrganizationAssociation.disabilities.disabilityDescriptor",
    "StudentEducationOrganizationAssociation.limitedEnglishProficiencyDescriptor",
    "StudentEducationOrganizationAssociation.profileThumbnail",
    "StudentSpecialEducationProgramAssociation.beginDate", "StudentHomelessProgramAssociation.beginDate",
    "StudentSchoolFoodServiceProgramAssociation.directCertification", "DisciplineIncident.incidentDate",
    "DisciplineAction.disciplineDate", "RestraintEvent.eventDate", "StudentHealth.asOfDate",
    "StudentHealth.studentReference.studentUniqueId", "StudentSchoolAssociation.exitWithdrawTypeDescriptor",
    "StudentSchoolAssociation.entryTypeDescriptor", "StudentContactAssociation.relationDescriptor",
    "StudentContactAssociation.livesWith", "StudentContactAssociation.legalGuardian",
    "StudentContactAssociation.contactRestrictions", "StudentTransportation.studentBusDetails.busNumber",
    "Student.personalIdentificationDocuments.documentTitle",
])
def test_tier_2_sensitive(model, path):
    cls, _, rest = path.partition(".")
    assert model[cls].tier(rest) == 2


@pytest.mark.parametrize("path", [
    "Staff.loginId", "Contact.loginId", "StudentEducationOrganizationAssociation.loginId",
    "Student.personalIdentificationDocuments.issuerDocumentIdentificationCode",
    "Student.identificationDocuments.issuerDocumentIdentificationCode",
    "Contact.personalIdentificationDocuments.issuerDocumentIdentificationCode",
    "Staff.identificationDocuments.issuerDocumentIdentificationCode", "DisciplineIncident.incidentDescription",
    "DisciplineIncident.behaviors.behaviorDetailedDescription",
    "StudentDisciplineIncidentBehaviorAssociation.behaviorDetailedDescription",
    "StudentEducationOrganizationAssociation.disabilities.disabilityDiagnosis",
    "StudentHealth.requiredImmunizations.medicalExemption",
])
def test_tier_3_prohibited(model, path):
    cls, _, rest = path.partition(".")
    assert model[cls].tier(rest) == 3 and model[cls].field(rest)[0].tier == 3


@pytest.mark.parametrize("system, rejected", [
    ("SSN", True), ("Social Security", True), ("Canadian SIN", True), ("US Visa", True), ("Drivers License", True),
    ("State", False), ("Local", False), ("District", False), ("School", False),
])
def test_an_identification_code_of_a_national_id_system_is_invalid(model, system, rejected):
    check = compile_validator(model, "StudentEducationOrganizationAssociation")
    doc = {"studentReference": {"studentUniqueId": "S1"}, "educationOrganizationReference": {"educationOrganizationId": 1},
           "studentIdentificationCodes": [{
               "studentIdentificationSystemDescriptor": f"uri://ed-fi.org/StudentIdentificationSystemDescriptor#{system}",
               "assigningOrganizationIdentificationCode": "IL", "identificationCode": "078-05-1120"}]}
    errors = check(doc)
    assert bool(errors) is rejected
    if rejected:
        assert errors == [("studentIdentificationCodes[0].identificationCode",
                           "prohibited (tier 3): studentIdentificationSystemDescriptor names a national or government "
                           "ID system; such numbers are never stored")]
        assert "078-05-1120" not in str(errors)


def test_a_staff_ssn_is_invalid_too(model):
    check = compile_validator(model, "Staff")
    doc = {"staffUniqueId": "T1", "firstName": "A", "lastSurname": "B", "identificationCodes": [
        {"staffIdentificationSystemDescriptor": "uri://ed-fi.org/StaffIdentificationSystemDescriptor#SSN",
         "identificationCode": "078-05-1120"}]}
    assert [p for p, _r in check(doc)] == ["identificationCodes[0].identificationCode"]
