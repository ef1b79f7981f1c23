"""compile_validator: valid records pass; every kind of error is reported with its field path."""
from __future__ import annotations

import copy
import time

import pytest

from standards import load_model
from standards.validation import compile_validator

M12 = load_model("oneroster", "1.2")
M11 = load_model("oneroster", "1.1")
TS = "2023-05-01T18:25:43.511Z"


def org_ref(sid="s1", **kw):
    return {"href": f"https://host/ims/oneroster/rostering/v1p2/orgs/{sid}", "sourcedId": sid, "type": "org", **kw}


USER = {
    "sourcedId": "u1", "status": "active", "dateLastModified": TS, "enabledUser": "true",
    "givenName": "Ann", "familyName": "Lee", "preferredFirstName": "Annie", "grades": ["09"],
    "userIds": [{"type": "LDAP", "identifier": "ann"}],
    "roles": [{"roleType": "primary", "role": "student", "org": org_ref(), "beginDate": "2023-08-15"}],
    "userProfiles": [{"profileId": "up-1", "profileType": "lms", "vendorId": "v",
                      "credentials": [{"type": "pw", "username": "ann", "vendorField": "open class"}]}],
    "agents": [{"sourcedId": "p1", "type": "user"}],
    "metadata": {"anything": {"goes": [1, 2]}},
}


@pytest.fixture(scope="module")
def check_user():
    return compile_validator(M12, "User")


def errors_for(check, **changes):
    doc = copy.deepcopy(USER)
    for k, v in changes.items():
        if v is KeyError:
            doc.pop(k)
        else:
            doc[k] = v
    return check(doc)


def test_valid_user_passes(check_user):
    assert check_user(copy.deepcopy(USER)) == []


def test_optional_null_is_absent_but_required_null_is_missing(check_user):
    assert errors_for(check_user, middleName=None) == []
    assert errors_for(check_user, givenName=None) == [("givenName", "required field missing")]


@pytest.mark.parametrize("changes, expected", [
    ({"familyName": KeyError}, ("familyName", "required field missing")),
    ({"givenName": ""}, ("givenName", "must not be empty")),
    ({"givenName": 7}, ("givenName", "not a string")),
    ({"status": "inactive"}, ("status", "'inactive' is not one of active, tobedeleted")),
    ({"enabledUser": True}, ("enabledUser", 'not "true" or "false"')),
    ({"dateLastModified": "2023-05-01T18:25:43"}, ("dateLastModified", "not a date-time (ISO 8601 with Z or offset)")),
    ({"dateLastModified": "2023-02-30T10:00:00Z"}, ("dateLastModified", "not a real date-time")),
    ({"roles": []}, ("roles", "needs at least 1 item")),
    ({"roles": {"role": "student"}}, ("roles", "not a list")),
    ({"grades": "09"}, ("grades", "not a list")),
    ({"grades": ["09", None]}, ("grades[1]", "null item")),
    ({"metadata": "x"}, ("metadata", "not an object")),
    ({"favouriteColour": "blue"}, ("favouriteColour", "unknown field")),
    ({"agents": [{"sourcedId": "p1", "type": "org"}]}, ("agents[0].type", "'org' is not 'user'")),
    ({"agents": [{"type": "user"}]}, ("agents[0].sourcedId", "required field missing")),
    ({"agents": [{"sourcedId": "p1"}]}, ("agents[0].type", "required field missing")),
    ({"agents": ["p1"]}, ("agents[0]", "not a reference object")),
    ({"agents": [{"sourcedId": 1, "type": "user"}]}, ("agents[0].sourcedId", "not a string")),
    ({"agents": [{"sourcedId": "p1", "type": ["user"]}]}, ("agents[0].type", "'['user']' is not 'user'")),
    ({"primaryOrg": org_ref(extra=1)}, ("primaryOrg.extra", "unknown field")),
    ({"primaryOrg": org_ref(href="not a uri")}, ("primaryOrg.href", "not a URI (contains whitespace)")),
    ({"userIds": [{"type": "LDAP"}]}, ("userIds[0].identifier", "required field missing")),
])
def test_each_error_kind_has_path_and_reason(check_user, changes, expected):
    assert errors_for(check_user, **changes) == [expected]


def test_nested_errors_carry_full_paths(check_user):
    roles = [{"roleType": "primary", "role": "student", "org": org_ref()},
             {"roleType": "boss", "role": "ext:", "org": {"sourcedId": "", "type": "user"}, "endDate": "2024-13-01",
              "beginDate": "2024-02-30", "note": "x"}]
    assert sorted(errors_for(check_user, roles=roles)) == sorted([
        ("roles[1].roleType", "'boss' is not one of primary, secondary"),
        ("roles[1].role", "'ext:' is not one of aide, counselor, districtAdministrator, guardian, parent, principal, "
                          "proctor, relative, siteAdministrator, student, systemAdministrator, teacher (or ext:…)"),
        ("roles[1].org.sourcedId", "must not be empty"),
        ("roles[1].org.type", "'user' is not 'org'"),
        ("roles[1].endDate", "not a real date"),
        ("roles[1].beginDate", "not a real date"),
        ("roles[1].note", "unknown field"),
    ])


def test_ext_terms_only_where_extensible(check_user):
    ok = [{"roleType": "primary", "role": "ext:coach.v2_x-y", "org": org_ref()}]
    assert errors_for(check_user, roles=ok) == []
    bad = [{"roleType": "ext:tertiary", "role": "student", "org": org_ref()}]
    assert errors_for(check_user, roles=bad) == [("roles[0].roleType", "'ext:tertiary' is not one of primary, secondary")]


def test_dates_and_datetimes():
    check = compile_validator(M12, "AcademicSession")
    doc = {"sourcedId": "t1", "status": "active", "dateLastModified": "2023-05-01T18:25:43+02:00", "title": "Fall",
           "startDate": "2023-08-15", "endDate": "2023-12-20", "type": "term", "schoolYear": "2024"}
    assert check(doc) == []
    assert check({**doc, "startDate": "2023-8-15"}) == [("startDate", "not a date (YYYY-MM-DD)")]
    assert check({**doc, "startDate": "20230815"}) == [("startDate", "not a date (YYYY-MM-DD)")]
    assert check({**doc, "endDate": "2023-02-29"}) == [("endDate", "not a real date")]
    assert check({**doc, "dateLastModified": "2023-05-01 18:25:43Z"}) == [
        ("dateLastModified", "not a date-time (ISO 8601 with Z or offset)")]
    assert check({**doc, "type": "quarter"}) == [
        ("type", "'quarter' is not one of gradingPeriod, semester, schoolYear, term (or ext:…)")]


def test_numbers_boolstrings_and_patterns():
    check = compile_validator(M12, "Result")
    doc = {"sourcedId": "r1", "status": "active", "dateLastModified": TS, "scoreDate": "2024-01-10",
           "lineItem": {"sourcedId": "li1", "type": "lineItem"}, "student": {"sourcedId": "u1", "type": "user"},
           "scoreStatus": "fully graded", "score": 9.5, "late": "false",
           "learningObjectiveSet": [{"source": "/myscheme", "learningObjectiveResults": [{"learningObjectiveId": "x"}]}]}
    assert check(doc) == []
    assert check({**doc, "score": "9.5"}) == [("score", "not a number")]
    assert check({**doc, "score": True}) == [("score", "not a number")]
    assert check({**doc, "score": float("nan")}) == [("score", "not a number")]
    assert check({**doc, "late": "yes"}) == [("late", 'not "true" or "false"')]
    bad_lo = [{"source": "ext:mine", "learningObjectiveResults": []}]
    assert check({**doc, "learningObjectiveSet": bad_lo}) == [
        ("learningObjectiveSet[0].source", "'ext:mine' is not one of case, unknown (or an extension)"),
        ("learningObjectiveSet[0].learningObjectiveResults", "needs at least 1 item")]


def test_v1p1_booleans_roles_and_ref_aliases():
    check = compile_validator(M11, "User")
    doc = {"sourcedId": "u1", "status": "active", "dateLastModified": TS, "username": "ann", "enabledUser": True,
           "givenName": "Ann", "familyName": "Lee", "role": "student",
           "orgs": [{"href": "~/ims/oneroster/v1p1/orgs/894", "sourcedId": "894", "type": "org"}]}
    assert check(doc) == []
    assert check({**doc, "enabledUser": "true"}) == [("enabledUser", "not a boolean (true/false)")]
    assert check({**doc, "role": "principal"})[0][0] == "role"
    assert check({**doc, "orgs": []}) == [("orgs", "needs at least 1 item")]
    result = compile_validator(M11, "Result")
    r = {"sourcedId": "r1", "status": "active", "dateLastModified": TS, "scoreStatus": "submitted", "score": 1,
         "scoreDate": "2024-01-10", "lineItem": {"sourcedId": "l", "type": "lineItem"},
         "student": {"sourcedId": "u1", "type": "student"}}
    assert result(r) == []
    assert result({**r, "student": {"sourcedId": "u1", "type": "org"}}) == [
        ("student.type", "'org' is not 'student' or 'teacher' or 'user'")]


def test_not_an_object_and_unknown_class():
    check = compile_validator(M12, "Org")
    assert check(["not", "a", "dict"]) == [("", "not an object")]
    with pytest.raises(KeyError):
        compile_validator(M12, "Nope")


def test_every_class_compiles():
    for model in (M12, M11):
        for name in model.classes:
            assert callable(compile_validator(model, name))


def test_fast_enough_for_bulk_imports(check_user):
    doc = copy.deepcopy(USER)
    start = time.perf_counter()
    for _ in range(10_000):
        check_user(doc)
    assert time.perf_counter() - start < 2.0  # ~0.1-0.3 s normally: fails only on a gross slowdown
