"""CSV bindings: exact headers, manifest keys, and every column mapped onto a real model field; tiers on the model."""
from __future__ import annotations

import pytest

from standards import load_csv_binding, load_model
from standards.csvbinding import parse_pairs, split_list

B = "sourcedId,status,dateLastModified,"
HEADERS_12 = {  # oneroster-csv-v1p2.md (CSV Binding 1.2 Final)
    "academicSessions.csv": B + "title,type,startDate,endDate,parentSourcedId,schoolYear",
    "categories.csv": B + "title,weight",
    "classes.csv": B + "title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,"
                       "subjects,subjectCodes,periods",
    "classResources.csv": B + "title,classSourcedId,resourceSourcedId",
    "courses.csv": B + "schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes",
    "courseResources.csv": B + "title,courseSourcedId,resourceSourcedId",
    "demographics.csv": B + "birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
                            "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
                            "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
                            "publicSchoolResidenceStatus",
    "enrollments.csv": B + "classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
    "lineItemLearningObjectiveIds.csv": B + "lineItemSourcedId,source,learningObjectiveId",
    "lineItems.csv": B + "title,description,assignDate,dueDate,classSourcedId,categorySourcedId,"
                         "academicSessionSourcedId,resultValueMin,resultValueMax,schoolSourcedId",
    "lineItemScoreScales.csv": B + "title,lineItemSourcedId,scoreScaleSourcedId",
    "orgs.csv": B + "name,type,identifier,parentSourcedId",
    "resources.csv": B + "vendorResourceId,title,roles,importance,vendorId,applicationId",
    "resultLearningObjectiveIds.csv": B + "resultSourcedId,source,learningObjectiveId,score,textScore",
    "results.csv": B + "lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment,textScore,"
                       "classSourcedId,inProgress,incomplete,late,missing",
    "resultScoreScales.csv": B + "title,resultSourcedId,scoreScaleSourcedId",
    "roles.csv": B + "userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
    "scoreScales.csv": B + "title,type,orgSourcedId,courseSourcedId,classSourcedId,scoreScaleValue",
    "userProfiles.csv": B + "userSourcedId,profileType,vendorId,applicationId,description,credentialType,username,"
                            "password",
    "userResources.csv": B + "userSourcedId,orgSourcedId,classSourcedId,resourceSourcedId",
    "users.csv": B + "enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,"
                     "agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,"
                     "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
}
HEADERS_11 = {  # oneroster.md 4.4: same as 1.2 except these
    **{k: HEADERS_12[k] for k in ["academicSessions.csv", "classes.csv", "classResources.csv", "courseResources.csv",
                                  "courses.csv", "demographics.csv", "enrollments.csv", "orgs.csv", "resources.csv"]},
    "categories.csv": B + "title",
    "lineItems.csv": B + "title,description,assignDate,dueDate,classSourcedId,categorySourcedId,"
                         "gradingPeriodSourcedId,resultValueMin,resultValueMax",
    "results.csv": B + "lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment",
    "users.csv": B + "enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,"
                     "email,sms,phone,agentSourcedIds,grades,password",
}
VERSIONS = [("1.2", HEADERS_12), ("1.1", HEADERS_11)]
FORMAT_TYPES = {"Date": {"date", "datetime"}, "DateTime": {"datetime"}, "Year": {"string"}, "Float": {"number"},
                "Integer": {"integer", "number"}, "Boolean": {"boolean", "boolstring"}, "String": {"string", "uri"},
                "GUID": {"string", "uri"}, "GUIDRef": {"ref", "uri"}, "Enumeration": {"string"},
                "StringList": {"string"}, "GUIDRefList": {"ref"}, "UserIds": {"object"}, "ScoreScaleValues": {"object"}}


def test_users_csv_v1p2_header_is_exact():
    assert ",".join(load_csv_binding("1.2").files["users.csv"].header) == (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,"
        "email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,"
        "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns")


@pytest.mark.parametrize("version, headers", VERSIONS)
def test_every_file_and_header(version, headers):
    binding = load_csv_binding(version)
    assert sorted(binding.files) == sorted(headers)
    for name, f in binding.files.items():
        assert ",".join(f.header) == headers[name], name
        assert f.manifest_key == "file." + name.removesuffix(".csv")
        assert [c.required for c in f.columns[1:3]] == ["delta", "delta"], name


@pytest.mark.parametrize("version, headers", VERSIONS)
def test_manifest_keys(version, headers):
    binding = load_csv_binding(version)
    files = ["file." + n.removesuffix(".csv") for n in binding.files]
    assert list(binding.manifest_keys) == ["manifest.version", "oneroster.version", *files, "source.systemName",
                                           "source.systemCode"]
    assert [k for k, req in binding.manifest_keys.items() if not req] == ["source.systemName", "source.systemCode"]
    assert binding.file_modes == ("absent", "bulk", "delta")


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_every_column_maps_to_a_real_model_field(version):
    model = load_model("oneroster", version)
    for f in load_csv_binding(version).files.values():
        assert f.cls in model.classes, f.name
        root = model[f.root]
        if f.nest:
            assert f.column(f.nest["key"]).kind == "meta"
            fd, _ = root.field(f.nest["as"])
            assert f.nest["into"] in model.classes and (fd.cls == f.cls or fd.type == "ref"), f.name
        for c in f.columns:
            where = f"{version} {f.name}:{c.name}"
            if c.kind == "meta":
                assert f.nest or (f.name, c.name) == ("scoreScales.csv", "orgSourcedId"), where
                continue
            fd, via_array = root.field(c.path)  # KeyError = unmapped column
            assert fd.type in FORMAT_TYPES[c.format], where
            if c.kind in ("ref", "reflist"):
                assert fd.type == "ref" and fd.ref == c.ref, where
            if c.kind in ("reflist", "list", "pairs"):
                assert fd.many, where
            elif fd.many:
                assert f.nest, f"{where}: single value onto an array outside a nested file"
            if c.kind == "pairs":
                assert set(c.keys) == set(model[fd.cls].fields), where
            if c.format == "Enumeration":
                assert fd.enum, where


def test_nested_files():
    files = load_csv_binding("1.2").files
    assert dict(files["roles.csv"].nest) == {"into": "User", "key": "userSourcedId", "as": "roles"}
    assert dict(files["userProfiles.csv"].nest) == {"into": "User", "key": "userSourcedId", "as": "userProfiles"}
    assert files["userProfiles.csv"].column("sourcedId").path == "userProfiles.profileId"
    nested = {n for n, f in files.items() if f.nest}
    assert nested == {"roles.csv", "userProfiles.csv", "classResources.csv", "courseResources.csv",
                      "userResources.csv", "lineItemScoreScales.csv", "resultScoreScales.csv",
                      "lineItemLearningObjectiveIds.csv", "resultLearningObjectiveIds.csv"}


def test_descriptor_conventions():
    users = load_csv_binding("1.2").files["users.csv"]
    assert users.column("sourcedId").field == "sourcedId"
    assert dict(users.column("preferredGivenName").field) == {"to": "preferredFirstName"}
    assert dict(users.column("primaryOrgSourcedId").field) == {"ref": "org", "to": "primaryOrg"}
    assert dict(users.column("grades").field) == {"list": "grades"}
    assert users.column("userIds").kind == "pairs" and users.column("userIds").keys == ("type", "identifier")
    classes = load_csv_binding("1.2").files["classes.csv"]
    assert dict(classes.column("termSourcedIds").field) == {"reflist": "academicSession", "to": "terms"}


def test_v1p1_users_describe_roles():
    b = load_csv_binding("1.1")
    users = b.files["users.csv"]
    assert users.column("role").role11 == "role" and users.column("role").path == "role"
    assert users.column("orgSourcedIds").role11 == "org" and users.column("orgSourcedIds").ref == "org"
    assert b.role11["roleType"] == "primary"
    role12 = load_model("oneroster", "1.2")["Role"].fields["role"].enum
    role11 = load_model("oneroster", "1.1")["User"].fields["role"].enum
    assert {b.role11["map"].get(r, r) for r in role11} <= set(role12)


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_tiers(version):
    m = load_model("oneroster", version)
    assert m["User"].fields["password"].tier == 3
    assert m["Demographics"].fields["birthDate"].tier == 2
    assert m["Demographics"].fields["sourcedId"].tier == 0
    assert m["User"].fields["phone"].tier == 1 and m["User"].fields["givenName"].tier == 0
    assert m["Result"].fields["score"].tier == 1 and m["Result"].fields["sourcedId"].tier == 0
    assert all(c.fields["metadata"].tier == 2 for c in m.classes.values() if "metadata" in c.fields)
    if version == "1.2":
        assert m["User"].tier("userProfiles.credentials.password") == 3
        assert m["Credential"].fields["password"].tier == 3


def test_model_path_resolution():
    user = load_model("oneroster", "1.2")["User"]
    fd, many = user.field("roles[0].org.sourcedId")
    assert (fd.name, fd.type, many) == ("sourcedId", "string", True)
    assert user.field("primaryOrg.type")[0].enum == ("org",)
    assert user.field("givenName")[1] is False
    with pytest.raises(KeyError):
        user.field("roles.nope")
    with pytest.raises(KeyError):
        user.field("givenName.first")


def test_cell_helpers():
    assert split_list("t1,t2") == ["t1", "t2"] and split_list("") == []
    assert parse_pairs("{LDAP:12},{LTI:urn:x:15}") == [("LDAP", "12"), ("LTI", "urn:x:15")]
    assert parse_pairs("{A+:100}, {60-69:B}") == [("A+", "100"), ("60-69", "B")]
    with pytest.raises(ValueError):
        parse_pairs("LDAP:12")
