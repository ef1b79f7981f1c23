"""The Ed-Fi DS 5.1 model: generated from the ApiSchema, loaded in the ModelDef shape, every resource with a natural
key, and ids derived from natural keys the way the Ed-Fi DMS derives its referentialId."""

from __future__ import annotations

import importlib.util
import time

import pytest

from helpers import REPO, SHARED
from standards.edfi.identity import compile_document_key, compile_reference_key
from standards.model import TYPES, load_model

SPEC = SHARED / "specs" / "edfi" / "apischema" / "ds-5.1-ApiSchema-authoritative_MetaEd-2024-12-18.json"
CORE = ["Student", "School", "LocalEducationAgency", "StudentSchoolAssociation", "Section", "StudentSectionAssociation",
        "Staff", "StaffSectionAssociation", "Course", "CourseOffering", "Session", "GradingPeriod", "Grade", "Calendar",
        "Contact", "StudentContactAssociation", "GradebookEntry", "SexDescriptor", "GradeLevelDescriptor"]


@pytest.fixture(scope="module")
def model():
    return load_model("edfi", "5.1")


def test_versions_and_the_one_loaded_model(model):
    assert (model.standard, model.version) == ("edfi", "5.1")
    assert load_model("edfi", "5") is model and load_model("edfi", "5.1.0") is model
    with pytest.raises(ValueError, match="no model for edfi 4.0; known: .*edfi 5.1"):
        load_model("edfi", "4.0")


def test_every_resource_and_descriptor_is_a_record_class_with_a_key(model):
    base = [c for c in model.classes.values() if c.base]
    assert len(base) == 340 and all(name in model.classes and model[name].base for name in CORE)
    assert sum(c.kind == "descriptor" for c in base) == 209
    for c in base:
        assert c.identity, c.name
        for path in c.identity:
            assert model[c.name].has(path), f"{c.name}: identity {path} is not a field"
            assert model[c.name].field(path)[0].required, f"{c.name}: identity {path} is optional"
    types = [c.record_type for c in model.classes.values() if c.record_type]
    assert len(types) == len(set(types)) and all(t.startswith("edfi.") and len(t) <= 48 for t in types)
    assert model["Student"].record_type == "edfi.student"
    assert model["StudentSchoolAssociation"].identity == ("entryDate", "schoolReference.schoolId",
                                                           "studentReference.studentUniqueId")
    assert model["SexDescriptor"].identity == ("namespace", "codeValue")


def test_fields_references_descriptors_and_collections(model):
    ssa = model["StudentSchoolAssociation"]
    ref = ssa.fields["schoolReference"]
    assert (ref.type, ref.ref, ref.required, ref.cls) == ("object", "School", True, "StudentSchoolAssociation.schoolReference")
    assert model[ref.cls].kind == "reference" and model[ref.cls].identity == ("schoolId",)
    assert ssa.field("schoolReference.schoolId")[0].type == "integer"
    grade = ssa.fields["entryGradeLevelDescriptor"]
    assert (grade.type, grade.ref) == ("descriptor", "GradeLevelDescriptor")
    assert ssa.fields["entryDate"].type == "date" and ssa.fields["id"].required is False
    addresses = model["School"].fields["addresses"]
    assert addresses.many and addresses.type == "object" and addresses.ref is None
    assert model["School"].field("addresses.city")[0].max_length == 30
    assert model["School"].fields["gradeLevels"].min_items == 1
    assert model["Student"].fields["studentUniqueId"].max_length == 32
    assert model["CourseOffering"].equal == (("schoolReference.schoolId", "sessionReference.schoolId"),)
    assert {f.type for c in model.classes.values() for f in c.fields.values()} <= TYPES
    # a reference whose members are named after a role: gradingPeriodSchoolYear is the grading period's schoolYear
    gref = model["ReportCard.grades.gradeReference"]
    assert gref.identity[4] == "gradingPeriodSchoolYear" and len(gref.identity) == len(model["Grade"].identity)


def test_loading_is_fast():
    from standards.model import _load

    started = time.perf_counter()
    _load.__wrapped__("edfi", "5.1")
    assert time.perf_counter() - started < 1.0


def test_ids_follow_the_dms_referential_id(model):
    # DMS test vector (Data-Management-Service, ReferenceLookupVerificationSupport tests): a descriptor URI is
    # compared lower-cased, and "Ed-Fi" + "ProgramTypeDescriptor" + "$.descriptor=<uri>" is hashed.
    key = compile_document_key(model, "ProgramTypeDescriptor")
    assert key({"namespace": "URI://Ed-Fi.Org/ProgramTypeDescriptor", "codeValue": "Regular#Plus"}) == \
        "b13cae2e-8184-5355-ba0e-d78d0eb3ff02"
    assert key({"namespace": "uri://ed-fi.org/ProgramTypeDescriptor"}) is None


def test_a_reference_yields_the_id_of_the_document_it_names(model):
    section = {"sectionIdentifier": "S1", "courseOfferingReference": {
        "localCourseCode": "ALG", "schoolId": 255901, "schoolYear": 2025, "sessionName": "Fall"}}
    by_document = compile_document_key(model, "Section")(section)
    reference = {"sectionIdentifier": "S1", "localCourseCode": "ALG", "schoolId": 255901, "schoolYear": 2025,
                 "sessionName": "Fall"}
    assert compile_reference_key(model, "StudentSectionAssociation.sectionReference")(reference) == by_document
    other = dict(reference, sectionIdentifier="S2")
    assert compile_reference_key(model, "StudentSectionAssociation.sectionReference")(other) != by_document
    student = compile_document_key(model, "Student")({"studentUniqueId": "604822", "firstName": "A"})
    assert student == compile_reference_key(model, "StudentSchoolAssociation.studentReference")(
        {"studentUniqueId": "604822"})
    with pytest.raises(ValueError, match="not a reference"):
        compile_reference_key(model, "School.addresses")


@pytest.mark.skipif(not SPEC.exists(), reason=f"Ed-Fi ApiSchema not found at {SPEC}")
def test_the_committed_model_is_what_the_generator_makes_of_the_spec():
    spec = importlib.util.spec_from_file_location("generate_edfi", REPO / "standards" / "tools" / "generate_edfi.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.main(["--specs", str(SPEC.parent), "--check"]) == 0
