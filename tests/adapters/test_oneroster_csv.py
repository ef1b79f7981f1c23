"""The OneRoster CSV adapter alone (no Flask, no database): packages, manifests, headers, rows, conversion, writing."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest

from adapters.oneroster_csv import BundleError, Nested, open_bundle
from adapters.oneroster_csv_writer import DocWriter, PackageWriter
from standards.csvbinding import load_csv_binding

from helpers import CSV_FIXTURES as FIXTURES  # noqa: E402
from helpers import REPO  # noqa: E402,F401
from helpers import SAMPLE_11  # noqa: E402
from helpers import SAMPLES  # noqa: E402,F401
from helpers import needs_samples  # noqa: E402


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def zip_dir(directory: Path, out: Path, prefix: str = "", stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for path in sorted(directory.iterdir()):
            archive.write(path, prefix + path.name)
    return out


def rewrite(directory: Path, name: str, text: str, encoding: str = "utf-8") -> None:
    (directory / name).write_bytes(text.encode(encoding))


def rows(bundle, name: str, **kwargs):
    return list(bundle.reader(name, **kwargs))


def error_text(tmp_path, directory: Path) -> str:
    with pytest.raises(BundleError) as caught:
        with open_bundle(directory) as bundle:
            for f in bundle.files():
                rows(bundle, f.name)
    return str(caught.value)


# -- packages and manifests
def test_directory_and_zip_open_the_same(tmp_path):
    with open_bundle(FIXTURES / "v12_good") as bundle:
        assert bundle.version == "1.2"
        assert len(bundle.files()) == 21
        assert bundle.mode("roles.csv") == "bulk"  # written file.roles* in the manifest
        assert bundle.manifest["source.systemCode"] == "fixture"
        direct = {f.name: [r.doc for r in rows(bundle, f.name)] for f in bundle.files()}
    with open_bundle(zip_dir(FIXTURES / "v12_good", tmp_path / "good.zip")) as bundle:
        assert {f.name: [r.doc for r in rows(bundle, f.name)] for f in bundle.files()} == direct


@needs_samples
def test_manifest_version_1_and_oneroster_11():
    with open_bundle(SAMPLE_11) as bundle:
        assert bundle.version == "1.1"
        assert [f.name for f in bundle.files()] == ["academicSessions.csv", "classes.csv", "courses.csv",
                                                    "demographics.csv", "enrollments.csv", "orgs.csv", "users.csv"]
        assert bundle.warnings == []


@pytest.mark.parametrize("setup, expected", [
    ("no_manifest", "manifest.csv: missing (OneRoster 1.1 and 1.2 packages need one; 1.0 packages are not supported)"),
    ("listed_missing", "users.csv: listed as bulk in manifest.csv but not in the package"),
    ("present_absent", "orgs.csv: present in the package but marked absent in manifest.csv"),
    ("stray_csv", "notes.csv: not a file of OneRoster 1.2 (not in manifest.csv)"),
    ("bad_version", "manifest.csv:3: oneroster.version: '1.0' is not one of 1.1, 1.2, 1.2.1"),
    ("bad_mode", "manifest.csv:4: file.academicSessions: 'full' is not absent, bulk or delta"),
    ("bad_manifest_header", "manifest.csv:1: header: expected propertyName,value; found key,value"),
])
def test_package_errors_name_the_file(tmp_path, setup, expected):
    bundle = copy("v12_good", tmp_path)
    manifest = (bundle / "manifest.csv").read_text()
    if setup == "no_manifest":
        (bundle / "manifest.csv").unlink()
    elif setup == "listed_missing":
        (bundle / "users.csv").unlink()
    elif setup == "present_absent":
        (bundle / "manifest.csv").write_text(manifest.replace("file.orgs,bulk", "file.orgs,absent"))
    elif setup == "stray_csv":
        (bundle / "notes.csv").write_text("a,b\n1,2\n")
    elif setup == "bad_version":
        (bundle / "manifest.csv").write_text(manifest.replace("oneroster.version,1.2", "oneroster.version,1.0"))
    elif setup == "bad_mode":
        (bundle / "manifest.csv").write_text(manifest.replace("file.academicSessions,bulk",
                                                              "file.academicSessions,full"))
    else:
        (bundle / "manifest.csv").write_text(manifest.replace("propertyName,value", "key,value"))
    with pytest.raises(BundleError) as caught:
        open_bundle(bundle)
    assert str(caught.value) == expected


@needs_samples
def test_oneroster_10_set_has_no_manifest():
    with pytest.raises(BundleError, match=r"^manifest.csv: missing"):
        open_bundle(SAMPLES / "OneRoster_1.0_Sample_Data")


def test_zip_with_enclosing_folder_is_refused(tmp_path):
    archive = zip_dir(FIXTURES / "v12_delta", tmp_path / "nested.zip", prefix="export/")
    with pytest.raises(BundleError, match=r"manifest.csv: missing at the zip root \(found export/manifest.csv"):
        open_bundle(archive)


def test_truncated_zip(tmp_path):
    archive = zip_dir(FIXTURES / "v12_good", tmp_path / "good.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(BundleError, match=r"^cut.zip: not a readable zip file \(truncated or corrupt"):
        open_bundle(cut)


def test_corrupt_member_names_the_file(tmp_path):
    archive = zip_dir(FIXTURES / "v12_good", tmp_path / "stored.zip", stored=True)
    data = archive.read_bytes()
    assert data.count(b"Springfield District") == 1
    archive.write_bytes(data.replace(b"Springfield District", b"Springfield Distric!"))
    with open_bundle(archive) as bundle, pytest.raises(BundleError, match=r"^orgs.csv: cannot be read"):
        rows(bundle, "orgs.csv")


# -- files: encoding, header, rows
def test_bom_is_accepted(tmp_path):
    bundle = copy("v12_good", tmp_path)
    text = (bundle / "orgs.csv").read_text(encoding="utf-8")
    rewrite(bundle, "orgs.csv", "\ufeff" + text)
    rewrite(bundle, "manifest.csv", "\ufeff" + (bundle / "manifest.csv").read_text())
    with open_bundle(bundle) as opened:
        assert [r.sourced_id for r in rows(opened, "orgs.csv")] == ["dist", "sch1", "sch2"]


def test_other_encodings_name_file_and_line(tmp_path):
    bundle = copy("v12_good", tmp_path)
    rewrite(bundle, "users.csv", (bundle / "users.csv").read_text(encoding="utf-8"), encoding="latin-1")
    assert error_text(tmp_path, bundle) == (
        "users.csv:4: encoding: not UTF-8 (byte 0xeb at position 35); save the file as UTF-8")


def test_utf16_is_refused_on_line_1(tmp_path):
    bundle = copy("v12_good", tmp_path)
    rewrite(bundle, "orgs.csv", (bundle / "orgs.csv").read_text(), encoding="utf-16")
    assert error_text(tmp_path, bundle).startswith("orgs.csv:1: encoding: not UTF-8 (byte 0xff at position 1)")


def test_header_must_match_exactly(tmp_path):
    bundle = copy("v12_good", tmp_path)
    lines = (bundle / "users.csv").read_text().splitlines()
    header = lines[0].split(",")
    header[4], header[5] = header[5], header[4]
    rewrite(bundle, "users.csv", "\n".join([",".join(header)] + lines[1:]) + "\n")
    expected = load_csv_binding("1.2").files["users.csv"].header
    message = error_text(tmp_path, bundle)
    assert message.startswith("users.csv:1: header: column 5 should be 'username', found 'userIds'; expected ")
    assert f"expected {','.join(expected)} (then optional metadata.* columns); found {','.join(header)}" in message


@pytest.mark.parametrize("header, detail", [
    ("sourcedId,status,dateLastModified,name,type,identifier", "column 7 should be 'parentSourcedId', found nothing"),
    ("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,city",
     "'city' is neither a OneRoster column nor a metadata.* extension, or repeats a name"),
    ("SourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
     "column 1 should be 'sourcedId', found 'SourcedId'"),
])
def test_header_problems(tmp_path, header, detail):
    bundle = copy("v12_good", tmp_path)
    rewrite(bundle, "orgs.csv", header + "\ndist,,,D,district,D1,\n")
    assert error_text(tmp_path, bundle).startswith(f"orgs.csv:1: header: {detail}")


def test_header_only_file_is_an_error(tmp_path):
    bundle = copy("v12_good", tmp_path)
    rewrite(bundle, "categories.csv", "sourcedId,status,dateLastModified,title,weight\n")
    assert error_text(tmp_path, bundle).startswith("categories.csv: no data rows")


def test_metadata_columns_land_in_metadata():
    with open_bundle(FIXTURES / "v12_good") as bundle:
        orgs = {r.sourced_id: r.doc for r in rows(bundle, "orgs.csv")}
    assert orgs["dist"]["metadata"] == {"city": "Springfield"}
    assert "metadata" not in orgs["sch2"]  # blank cells are no data


def test_bulk_and_delta_status_rules(tmp_path):
    bundle = copy("v12_delta", tmp_path)
    rewrite(bundle, "enrollments.csv", "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
            "userSourcedId,role,primary,beginDate,endDate\n"
            "e7,,2027-01-10T12:00:00Z,cls1,sch1,s1,student,,,\n"
            "e8,deleted,yesterday,cls1,sch1,s1,student,,,\n"
            "e9,inactive,2027-01-10T12:00:00Z,cls1,sch1,s1,student,,,\n")
    with open_bundle(bundle) as opened:
        got = rows(opened, "enrollments.csv")
    assert got[0].errors == [("status", "required in a delta file")]
    assert got[1].errors == [("status", "'deleted' is not active or tobedeleted"),
                             ("dateLastModified", "'yesterday' is not a date-time (ISO 8601 with Z)")]
    assert got[2].errors == [] and got[2].status == "tobedeleted"  # 1.0's inactive reads as tobedeleted
    with open_bundle(FIXTURES / "v12_invalid") as opened:
        sch3 = rows(opened, "orgs.csv")[2]
    assert sch3.errors == [("status", "must be blank in a bulk file (found 'active')")]


def test_row_level_conversion_errors(tmp_path):
    bundle = copy("v12_good", tmp_path)
    rewrite(bundle, "categories.csv", "sourcedId,status,dateLastModified,title,weight\n"
            "c1,,,Homework,1.5\nc2,,,,10\nc 3,,,Tests,\nc4,,,Only three\nc5,,,Quiz,,,\n")
    rewrite(bundle, "users.csv", (bundle / "users.csv").read_text().replace('"{LDAP:ann},{LTI:urn:lti:42}"',
                                                                           "LDAP:ann"))
    with open_bundle(bundle) as opened:
        cats = rows(opened, "categories.csv")
        users = rows(opened, "users.csv")
    assert [r.errors for r in cats] == [
        [("weight", "'1.5' is not an integer")],
        [("title", "required field missing")],
        [("sourcedId", "'c 3' is not a valid sourcedId (at most 255 characters; no spaces, commas, braces or "
                       "quotes)")],
        [("row", "has 4 fields, the header has 5")],
        [],  # empty cells beyond the header are ignored (counted as a warning)
    ]
    assert users[0].errors == [("userIds", "not a {key:value} list: 'LDAP:ann'")]


def test_12_documents_and_references():
    with open_bundle(FIXTURES / "v12_good") as bundle:
        users = {r.sourced_id: r for r in rows(bundle, "users.csv", skip={"password"})}
        items = {r.sourced_id: r.doc for r in rows(bundle, "lineItems.csv")}
        roles = rows(bundle, "roles.csv")
        profiles = rows(bundle, "userProfiles.csv", skip={"password"})
    s1 = users["s1"].doc
    assert s1["userIds"] == [{"type": "LDAP", "identifier": "ann"}, {"type": "LTI", "identifier": "urn:lti:42"}]
    assert s1["preferredFirstName"] == "Annie" and "password" not in s1
    assert s1["agents"] == [{"sourcedId": "p1", "type": "user"}]
    assert ("agentSourcedIds", "user", "p1") in users["s1"].refs
    assert items["li1"]["assignDate"] == "2026-09-01T00:00:00Z"  # CSV Date widened to the JSON date-time
    assert items["li1"]["resultValueMin"] == 0.0 and items["li1"]["resultValueMax"] == 100
    assert roles[0].parent == "s1" and roles[0].doc == {
        "roleType": "primary", "role": "student", "beginDate": "2026-08-20",
        "org": {"sourcedId": "sch1", "type": "org"}, "userProfile": "prof-s1"}
    assert profiles[0].doc == {"profileId": "prof-s1", "profileType": "lms", "vendorId": "vendor-x",
                               "applicationId": "app-1", "description": "LMS account",
                               "credentials": [{"type": "password", "username": "ann.lee"}]}


def test_11_rows_become_12_documents():
    with open_bundle(FIXTURES / "v11_gradebook") as bundle:
        users = {r.sourced_id: r.doc for r in rows(bundle, "users.csv", org_types={"dist": "district"})}
        enrollments = {r.sourced_id: r.doc for r in rows(bundle, "enrollments.csv")}
        resources = rows(bundle, "resources.csv")
        classes = rows(bundle, "classes.csv")
    assert users["adm1"]["roles"] == [{"roleType": "primary", "role": "districtAdministrator",
                                       "org": {"sourcedId": "dist", "type": "org"}}]
    assert users["adm2"]["roles"][0]["role"] == "siteAdministrator"
    assert [r["org"]["sourcedId"] for r in users["stu1"]["roles"]] == ["sch1", "sch2"]
    assert users["aide1"]["enabledUser"] == "true"  # True -> the 1.2 string enum
    assert "role" not in users["stu1"] and "orgs" not in users["stu1"]
    assert enrollments["en3"]["role"] == "ext:aide"  # 1.1 term without a 1.2 counterpart
    assert resources[0].doc["roles"] == ["student"]
    assert classes[0].doc["periods"] == ["1", "3"]


def test_nested_rows_group_into_parents():
    f = load_csv_binding("1.2").files["lineItemLearningObjectiveIds.csv"]
    with open_bundle(FIXTURES / "v12_good") as bundle:
        queue = Nested(f)
        for row in rows(bundle, f.name):
            assert queue.add(row) is None
    doc: dict = {}
    assert [line for line, _ in queue.attach("li1", doc)] == [2, 3, 4]
    assert doc["learningObjectiveSet"] == [
        {"source": "case", "learningObjectiveIds": ["urn:uuid:6d9b8c2e-1b7a-4c39-9f0e-2a1b3c4d5e6f",
                                                    "urn:uuid:0f1e2d3c-4b5a-4968-8776-655443322110"]},
        {"source": "unknown", "learningObjectiveIds": ["LO-7"]}]
    single = Nested(load_csv_binding("1.2").files["lineItemScoreScales.csv"])
    with open_bundle(FIXTURES / "v12_good") as bundle:
        row = rows(bundle, "lineItemScoreScales.csv")[0]
    assert single.add(row) is None
    assert single.add(row) == "a second row for 'li1' (scoreScale takes one; first on line 2)"


# -- writing
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_writer_headers_equal_the_binding(version):
    for f in load_csv_binding(version).files.values():
        assert DocWriter(version, f).header == f.header
    orgs = load_csv_binding(version).files["orgs.csv"]
    assert DocWriter(version, orgs, ["city"]).header == orgs.header + ("metadata.city",)


def test_writer_rows_for_users():
    user = {"sourcedId": "u1", "status": "active", "dateLastModified": "2026-01-01T00:00:00Z",
            "enabledUser": "true", "username": "u", "givenName": "A", "familyName": "B",
            "roles": [{"roleType": "secondary", "role": "teacher", "org": {"sourcedId": "sch2", "type": "org"}},
                      {"roleType": "primary", "role": "principal", "org": {"sourcedId": "sch1", "type": "org"}}]}
    v12 = load_csv_binding("1.2").files
    assert DocWriter("1.2", v12["roles.csv"]).rows(user) == [
        ["u1-roles-1", "", "", "u1", "secondary", "teacher", "", "", "sch2", ""],
        ["u1-roles-2", "", "", "u1", "primary", "principal", "", "", "sch1", ""]]
    row = DocWriter("1.1", load_csv_binding("1.1").files["users.csv"]).rows(user)[0]
    assert row[:7] == ["u1", "", "", "true", "sch2,sch1", "administrator", "u"]  # primary role, 1.1 vocabulary


def test_package_writer_zip_has_files_at_root(tmp_path):
    binding = load_csv_binding("1.2")
    package = PackageWriter(tmp_path / "out.zip", "1.2")
    writer = DocWriter("1.2", binding.files["orgs.csv"])
    package.open("orgs.csv", writer.header)
    package.open("users.csv", binding.files["users.csv"].header)
    package.write("orgs.csv", writer.rows({"sourcedId": "o1", "name": "One, Inc", "type": "school"}))
    assert package.close() == {"orgs.csv": 1}
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert sorted(archive.namelist()) == ["manifest.csv", "orgs.csv"]
        manifest = dict(csv.reader(archive.read("manifest.csv").decode().splitlines()))
        assert archive.read("orgs.csv").decode().splitlines()[1] == 'o1,,,"One, Inc",school,,'
    assert manifest["file.orgs"] == "bulk" and manifest["file.users"] == "absent"
    assert manifest["oneroster.version"] == "1.2"
    assert [p.name for p in tmp_path.iterdir()] == ["out.zip"]  # no scratch directory left behind
