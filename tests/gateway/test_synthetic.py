"""Tests for the synthetic OneRoster 1.2 CSV package generator (reference/oneroster-csv-v1p2.md, oneroster.md §4)."""

from __future__ import annotations

import collections
import csv
import importlib.util
import re
import zipfile
from pathlib import Path

import pytest

from gateway.synthetic import DEMO, LARGE, ONEROSTER_12_FILES, DistrictSize, generate_bundle

# Copied from the reference on purpose, so a typo in the module's constants cannot hide itself.
EXPECTED_HEADERS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "courses.csv": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
                   "subjects,subjectCodes",
    "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                   "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users.csv": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
                 "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,"
                 "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles.csv": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
                 "userProfileSourcedId",
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
                       "beginDate,endDate",
    "demographics.csv": "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
                        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
                        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
                        "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
}
GUID = re.compile(r"^[0-9A-Za-z.\-_/@]{1,255}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with open(directory / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("demo") / "bundle"
    return out, generate_bundle(out, DEMO)


def test_presets() -> None:
    assert DEMO == DistrictSize(schools=2, students=200, teachers=12, classes=24, enrollments_per_student=5)
    assert LARGE.students * LARGE.enrollments_per_student + LARGE.classes >= 620_000


def test_counts(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    assert counts["orgs.csv"] == 1 + DEMO.schools
    assert counts["academicSessions.csv"] == 7
    assert counts["classes.csv"] == DEMO.classes
    assert counts["users.csv"] == counts["roles.csv"] == DEMO.students + DEMO.teachers
    assert counts["demographics.csv"] == DEMO.students
    assert counts["enrollments.csv"] == DEMO.students * DEMO.enrollments_per_student + DEMO.classes
    for name, rows in counts.items():
        assert len(read(out, name)) == rows


def test_same_seed_gives_identical_bytes(demo: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    out, _ = demo
    generate_bundle(tmp_path / "again", DEMO)
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(path.name for path in (tmp_path / "again").iterdir())
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    generate_bundle(tmp_path / "other", DEMO, seed=7)
    assert (out / "users.csv").read_bytes() != (tmp_path / "other" / "users.csv").read_bytes()


def test_headers_are_exactly_the_spec(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    assert set(counts) == set(EXPECTED_HEADERS)
    for name, header in EXPECTED_HEADERS.items():
        with open(out / name, newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == header.split(","), name


def test_headers_agree_with_standards_binding() -> None:
    standards = pytest.importorskip("standards")
    binding = standards.load_csv_binding("1.2")
    for name, header in EXPECTED_HEADERS.items():
        assert [column.name for column in binding.files[name].columns] == header.split(","), name


def test_manifest(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["propertyName", "value"]
    manifest = dict(rows[1:])
    assert len(manifest) == len(rows) - 1
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == "1.2"
    assert manifest["source.systemName"] == "Trellis synthetic"
    assert len(ONEROSTER_12_FILES) == 21
    for stem in ONEROSTER_12_FILES:
        assert manifest[f"file.{stem}"] == ("bulk" if f"{stem}.csv" in counts else "absent")
    assert {path.name for path in out.iterdir()} == {"manifest.csv", *counts}


def test_bulk_rows_well_formed(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    for name in counts:
        rows = read(out, name)
        ids = [row["sourcedId"] for row in rows]
        assert len(set(ids)) == len(ids), name
        for row in rows:
            assert row["status"] == "" and row["dateLastModified"] == "", name
            assert GUID.match(row["sourcedId"]), row
            for column in ("startDate", "endDate", "beginDate", "birthDate"):
                if column in row:
                    assert DATE.match(row[column]), row
    for user in read(out, "users.csv"):
        assert user["password"] == ""
        assert user["enabledUser"] == "true"
        assert user["username"] and user["givenName"] and user["familyName"]
        assert re.fullmatch(r"\{Local:\d+\}", user["userIds"])
        assert re.fullmatch(r"[a-z0-9.]+@demo\.example\.org", user["email"])
        assert bool(user["grades"]) == user["sourcedId"].startswith("stu-")


def test_sessions_and_orgs(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    sessions = {row["sourcedId"]: row for row in read(out, "academicSessions.csv")}
    by_type = collections.Counter(row["type"] for row in sessions.values())
    assert by_type == {"schoolYear": 1, "term": 2, "gradingPeriod": 4}
    for row in sessions.values():
        assert row["schoolYear"] == "2027"
        expected_parent = {"schoolYear": None, "term": "schoolYear", "gradingPeriod": "term"}[row["type"]]
        assert (sessions[row["parentSourcedId"]]["type"] if row["parentSourcedId"] else None) == expected_parent
    orgs = read(out, "orgs.csv")
    assert [org["type"] for org in orgs] == ["district"] + ["school"] * DEMO.schools
    assert all(org["parentSourcedId"] == orgs[0]["sourcedId"] for org in orgs[1:])


def test_references_resolve(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    schools = {org["sourcedId"] for org in read(out, "orgs.csv") if org["type"] == "school"}
    terms = {row["sourcedId"] for row in read(out, "academicSessions.csv") if row["type"] == "term"}
    courses = {row["sourcedId"] for row in read(out, "courses.csv")}
    classes = {row["sourcedId"]: row for row in read(out, "classes.csv")}
    users = {row["sourcedId"]: row for row in read(out, "users.csv")}
    for row in classes.values():
        assert row["courseSourcedId"] in courses and row["schoolSourcedId"] in schools
        assert row["classType"] in {"homeroom", "scheduled"}
        assert 1 <= len(row["termSourcedIds"].split(",")) <= 2 and set(row["termSourcedIds"].split(",")) <= terms
        assert row["grades"] and row["periods"]
    for role in read(out, "roles.csv"):
        assert role["userSourcedId"] in users and role["orgSourcedId"] in schools
        assert role["roleType"] == "primary"
        assert role["role"] == ("student" if role["userSourcedId"].startswith("stu-") else "teacher")
        assert users[role["userSourcedId"]]["primaryOrgSourcedId"] == role["orgSourcedId"]
    per_student: dict[str, set[str]] = collections.defaultdict(set)
    for enrollment in read(out, "enrollments.csv"):
        klass = classes[enrollment["classSourcedId"]]
        user = users[enrollment["userSourcedId"]]
        assert enrollment["schoolSourcedId"] in schools
        assert enrollment["schoolSourcedId"] == klass["schoolSourcedId"] == user["primaryOrgSourcedId"]
        assert enrollment["beginDate"] < enrollment["endDate"]
        if enrollment["role"] == "student":
            assert enrollment["primary"] == ""
            per_student[enrollment["userSourcedId"]].add(enrollment["classSourcedId"])
    students = {uid for uid in users if uid.startswith("stu-")}
    assert set(per_student) == students
    assert all(len(taken) == DEMO.enrollments_per_student for taken in per_student.values())


def test_each_class_has_exactly_one_primary_teacher(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    teachers = collections.Counter()
    for enrollment in read(out, "enrollments.csv"):
        if enrollment["role"] == "teacher":
            assert enrollment["primary"] == "true" and enrollment["userSourcedId"].startswith("tch-")
            teachers[enrollment["classSourcedId"]] += 1
    assert teachers == {row["sourcedId"]: 1 for row in read(out, "classes.csv")}


def test_demographics_ids_are_the_student_ids(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    students = [row["sourcedId"] for row in read(out, "users.csv") if row["sourcedId"].startswith("stu-")]
    demographics = read(out, "demographics.csv")
    assert [row["sourcedId"] for row in demographics] == students
    for row in demographics:
        assert row["sex"] in {"male", "female", "unspecified", "other"}
        for flag in ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                     "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
                     "hispanicOrLatinoEthnicity"):
            assert row[flag] in {"true", "false"}


def test_zip_has_files_at_root(demo: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    out, counts = demo
    assert generate_bundle(tmp_path / "bundle.zip", DEMO) == counts
    assert generate_bundle(tmp_path / "forced", DEMO, zip=True) == counts
    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive:
        assert archive.namelist()[0] == "manifest.csv"
        assert set(archive.namelist()) == {"manifest.csv", *counts}
        for name in archive.namelist():
            assert archive.read(name) == (out / name).read_bytes()
    assert (tmp_path / "bundle.zip").read_bytes() == (tmp_path / "forced").read_bytes()
    assert [path.name for path in tmp_path.iterdir()].count("bundle.zip") == 1
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_small_custom_size(tmp_path: Path) -> None:
    size = DistrictSize(schools=3, students=10, teachers=3, classes=6, enrollments_per_student=2)
    counts = generate_bundle(tmp_path, size, district_id="tiny-isd", seed=1)
    assert counts["enrollments.csv"] == 10 * 2 + 6
    assert counts["orgs.csv"] == 4
    assert read(tmp_path, "orgs.csv")[0]["sourcedId"] == "dist-tiny-isd"
    assert all(user["email"].endswith("@tiny-isd.example.org") for user in read(tmp_path, "users.csv"))


def test_empty_files_are_absent(tmp_path: Path) -> None:
    (tmp_path / "demographics.csv").write_text("stale", encoding="utf-8")
    counts = generate_bundle(tmp_path, DistrictSize(schools=1, students=0, teachers=1, classes=1,
                                                    enrollments_per_student=3))
    assert "demographics.csv" not in counts and not (tmp_path / "demographics.csv").exists()
    assert counts["enrollments.csv"] == 1
    with open(tmp_path / "manifest.csv", newline="", encoding="utf-8") as handle:
        assert dict(csv.reader(handle))["file.demographics"] == "absent"


@pytest.mark.parametrize("size, district_id", [
    (DistrictSize(schools=0, students=1, teachers=1, classes=1, enrollments_per_student=1), "demo"),
    (DistrictSize(schools=2, students=10, teachers=2, classes=4, enrollments_per_student=3), "demo"),
    (DistrictSize(schools=2, students=10, teachers=1, classes=10, enrollments_per_student=3), "demo"),
    (DEMO, "bad id"),
])
def test_impossible_sizes_are_rejected(size: DistrictSize, district_id: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_bundle(tmp_path, size, district_id=district_id)
    assert not list(tmp_path.iterdir())


def test_bench_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = Path(__file__).resolve().parents[2] / "bench" / "generate.py"
    spec = importlib.util.spec_from_file_location("bench_generate", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(tmp_path / "out.zip"), "--students", "30", "--classes", "10", "--zip"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^enrollments\.csv\s+160$", printed, re.M)
    assert zipfile.is_zipfile(tmp_path / "out.zip")
