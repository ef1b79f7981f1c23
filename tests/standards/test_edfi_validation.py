"""Validation of Ed-Fi documents against the DS 5.1 definitions: a valid document passes, and every kind of bad value
is reported with its field path and a reason that never quotes a long value."""

from __future__ import annotations

import pytest

from standards.model import load_model
from standards.validation import compile_validator

SSA = {"studentReference": {"studentUniqueId": "604822"}, "schoolReference": {"schoolId": 255901},
       "entryDate": "2024-08-20", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}


@pytest.fixture(scope="module")
def model():
    return load_model("edfi", "5.1")


def check(model, cls, doc):
    return compile_validator(model, cls)(doc)


def test_valid_documents_pass(model):
    assert check(model, "StudentSchoolAssociation", SSA) == []
    assert check(model, "StudentSchoolAssociation", {**SSA, "id": "x", "primarySchool": True,
                                                     "calendarReference": {"calendarCode": "C", "schoolId": 255901,
                                                                           "schoolYear": 2025},
                                                     "schoolYearTypeReference": {"schoolYear": 2025}}) == []
    school = {"schoolId": 255901, "nameOfInstitution": "Grand Bend High School",
              "educationOrganizationCategories": [
                  {"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
              "gradeLevels": [{"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}],
              "addresses": [{"addressTypeDescriptor": "uri://ed-fi.org/AddressTypeDescriptor#Physical",
                             "city": "Grand Bend", "postalCode": "78834", "stateAbbreviationDescriptor":
                                 "uri://ed-fi.org/StateAbbreviationDescriptor#TX", "streetNumberName": "1 Main St",
                             "periods": [{"beginDate": "2020-01-01"}]}]}
    assert check(model, "School", school) == []
    assert check(model, "SexDescriptor", {"namespace": "uri://ed-fi.org/SexDescriptor", "codeValue": "Female",
                                          "shortDescription": "Female"}) == []


@pytest.mark.parametrize("change, expected", [
    ({"entryDate": None}, ("entryDate", "required field missing")),
    ({"entryDate": "08/20/2024"}, ("entryDate", "not a date (YYYY-MM-DD)")),
    ({"entryDate": "2024-02-30"}, ("entryDate", "not a real date")),
    ({"entryGradeLevelDescriptor": "Ninth grade"},
     ("entryGradeLevelDescriptor", "'Ninth grade' is not a descriptor URI (namespace#codeValue)")),
    ({"entryGradeLevelDescriptor": 9}, ("entryGradeLevelDescriptor", "not a string")),
    ({"schoolReference": {"schoolId": "255901"}}, ("schoolReference.schoolId", "not an integer")),
    ({"schoolReference": {}}, ("schoolReference.schoolId", "required field missing")),
    ({"schoolReference": 255901}, ("schoolReference", "not an object")),
    ({"schoolReference": {"schoolId": 1, "nameOfInstitution": "x"}},
     ("schoolReference.nameOfInstitution", "unknown field")),
    ({"studentReference": {"studentUniqueId": "x" * 33}}, ("studentReference.studentUniqueId",
                                                          "longer than 32 characters (33)")),
    ({"studentReference": {"studentUniqueId": " 604822"}}, ("studentReference.studentUniqueId",
                                                           "must not start or end with whitespace")),
    ({"studentReference": {"studentUniqueId": "604822\n"}}, ("studentReference.studentUniqueId",
                                                              "must not start or end with whitespace")),  # ECMA $
    ({"studentReference": {"studentUniqueId": ""}}, ("studentReference.studentUniqueId", "must not be empty")),
    ({"primarySchool": "yes"}, ("primarySchool", "not a boolean (true/false)")),
    ({"fullTimeEquivalency": "1"}, ("fullTimeEquivalency", "not a number")),
    ({"schoolYearTypeReference": {"schoolYear": 1899}}, ("schoolYearTypeReference.schoolYear",
                                                         "1899 is less than 1900")),
    ({"alternativeGraduationPlans": {}}, ("alternativeGraduationPlans", "not a list")),
    ({"sourcedId": "s1"}, ("sourcedId", "unknown field")),
    ({"calendarReference": {"calendarCode": "C", "schoolId": 1, "schoolYear": 2025}},
     ("calendarReference.schoolId", "must equal schoolReference.schoolId ('1')")),
])
def test_each_kind_of_bad_value_is_named_by_its_path(model, change, expected):
    doc = {k: v for k, v in {**SSA, **change}.items() if v is not None}
    doc = {**doc, **({"schoolReference": {"schoolId": 255901}} if "calendarReference" in change else {})}
    errors = check(model, "StudentSchoolAssociation", doc)
    if expected[0] == "calendarReference.schoolId":
        expected = ("calendarReference.schoolId", "must equal schoolReference.schoolId ('255901')")
    assert errors == [expected]


def test_times_datetimes_and_collections(model):
    period = {"classPeriodName": "First", "schoolReference": {"schoolId": 1},
              "meetingTimes": [{"startTime": "08:00:00", "endTime": "8am"}]}
    assert check(model, "ClassPeriod", period) == [("meetingTimes[0].endTime", "not a time (HH:MM:SS)")]
    period["meetingTimes"][0]["endTime"] = "25:00:00"
    assert check(model, "ClassPeriod", period) == [("meetingTimes[0].endTime", "not a real time")]
    school = {"schoolId": 1, "nameOfInstitution": "S", "educationOrganizationCategories": [], "gradeLevels": []}
    assert ("gradeLevels", "needs at least 1 item") in check(model, "School", school)


def test_reasons_never_quote_long_values(model):
    long = "uri://ed-fi.org/GradeLevelDescriptor" + "x" * 400
    errors = check(model, "StudentSchoolAssociation", {**SSA, "entryGradeLevelDescriptor": long,
                                                       "studentReference": {"studentUniqueId": "y" * 500}})
    assert errors and all(len(reason) < 100 and "x" * 41 not in reason and "y" * 41 not in reason
                          for _path, reason in errors)
