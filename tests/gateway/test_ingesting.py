"""Ingesting through a mapping file into the store (SQLite and PostgreSQL): atomic by default, --skip-invalid with a
rejects file, dry runs, snapshot versus delta, and running the same input twice changes nothing."""

from __future__ import annotations

import csv
import shutil

import orjson
import pytest
from sqlalchemy import select

from gateway.ingesting import ingest
from gateway.storage.tables import records
from helpers import REPO
from helpers import SHARED

CLEVER = SHARED / "samples" / "formats" / "clever_sftp"
MAPPING = REPO / "mappings" / "clever" / "mapping.yaml"
BAD_DOB = "students.csv:4: birthDate: '02/29/2010': not a real date for the format %m/%d/%Y"
pytestmark = pytest.mark.skipif(not CLEVER.exists(), reason=f"Clever sample not found at {CLEVER}")


def state(engine, tenant="d1") -> dict:
    with engine.connect() as conn:
        return {(r.type, r.sourced_id): (r.status, r.change_version, orjson.loads(r.doc)) for r in conn.execute(
            select(records.c.type, records.c.sourced_id, records.c.status, records.c.change_version,
                   records.c.doc).where(records.c.tenant == tenant))}


def clean_copy(tmp_path):
    """The Clever sample with its impossible DOB fixed (and without the encoding variants)."""
    target = tmp_path / "clever"
    shutil.copytree(CLEVER, target, ignore=shutil.ignore_patterns("students.*.csv"))
    for path in target.iterdir():
        path.chmod(0o644)
    students = target / "students.csv"
    students.write_text(students.read_text(encoding="utf-8").replace("02/29/2010", "02/28/2010"), encoding="utf-8")
    return target


def drop_lines(path, needle: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if needle not in line), encoding="utf-8")


def counts(report) -> dict:
    return {rtype: (s.created, s.updated, s.unchanged, s.deleted, s.rejected) for rtype, s in report.records.items()}


def test_atomic_by_default_one_bad_row_writes_nothing(engine):
    report = ingest(engine, MAPPING, CLEVER, "d1")
    assert not report.committed and report.errors == [BAD_DOB]
    assert report.reasons == {"Demographics.birthDate: …: not a real date for the format %m/%d/%Y": 1}
    assert all(s.created == 0 for s in report.records.values())
    assert state(engine) == {}


def test_skip_invalid_stores_the_rest_and_writes_rejects(engine, tmp_path):
    rejects = tmp_path / "rejects.csv"
    report = ingest(engine, MAPPING, CLEVER, "d1", skip_invalid=True, rejects_path=rejects)
    assert report.committed and report.rejected == 1 and report.rows_read == 18
    assert counts(report) == {"org": (3, 0, 0, 0, 0), "user": (6, 0, 0, 0, 0), "demographics": (1, 0, 0, 0, 1),
                              "academicSession": (2, 0, 0, 0, 0), "course": (3, 0, 0, 0, 0),
                              "class": (3, 0, 0, 0, 0), "enrollment": (7, 0, 0, 0, 0)}
    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "line", "reason"]
    assert rows[1][:5] == ["students.csv", "4", BAD_DOB.split(": ", 1)[1], "300", "S3002"]
    stored = state(engine)
    assert stored[("user", "S3002")][0] == "active" and ("demographics", "S3002") not in stored
    assert any("teachers.csv:3: duplicate 'T10'" in w for w in report.warnings)


def test_the_same_input_twice_changes_nothing(engine, tmp_path):
    source = clean_copy(tmp_path)
    first = ingest(engine, MAPPING, source, "d1")
    assert first.committed and first.ok, first.errors
    before = state(engine)
    second = ingest(engine, MAPPING, source, "d1")
    assert second.committed and all(s.created == s.updated == s.deleted == 0 for s in second.records.values())
    assert sum(s.unchanged for s in second.records.values()) == len(before) == 26
    assert state(engine) == before


def test_snapshot_marks_missing_records_tobedeleted_and_delta_does_not(engine, tmp_path):
    source = clean_copy(tmp_path)
    assert ingest(engine, MAPPING, source, "d1").ok
    drop_lines(source / "enrollments.csv", "SEC-ALG2-3H")
    drop_lines(source / "sections.csv", "SEC-ALG2-3H")
    delta = ingest(engine, MAPPING, source, "d1", mode="delta")
    assert delta.ok and sum(s.deleted for s in delta.records.values()) == 0
    assert state(engine)[("class", "SEC-ALG2-3H")][0] == "active"
    snapshot = ingest(engine, MAPPING, source, "d1")
    assert snapshot.ok
    assert {t: s.deleted for t, s in snapshot.records.items() if s.deleted} == {"class": 1, "course": 1,
                                                                                 "enrollment": 2}
    stored = state(engine)
    assert stored[("class", "SEC-ALG2-3H")][0] == "tobedeleted" and stored[("class", "SEC-ALG2-3")][0] == "active"


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_snapshot_retiring_most_of_a_stored_type_is_refused_not_a_mass_deletion(engine, tmp_path, skip_invalid):
    source = clean_copy(tmp_path)
    assert ingest(engine, MAPPING, source, "d1").ok
    before = state(engine)
    # A truncated export: students.csv lost its rows, so most stored users would be marked tobedeleted.
    (source / "students.csv").write_text("School_id,Student_id,Last_name,First_name\n", encoding="utf-8")
    report = ingest(engine, MAPPING, source, "d1", skip_invalid=skip_invalid, rejects_path=tmp_path / "r.csv")
    assert not report.committed  # atomic: the enrollments of the lost students are rejected anyway
    if skip_invalid:  # storing the valid rest would retire most users: refused all the same
        assert any("records are not in this source" in error and "nothing was written" in error
                   for error in report.errors), report.errors
    assert state(engine) == before
    allowed = ingest(engine, MAPPING, source, "d1", skip_invalid=True, rejects_path=tmp_path / "r.csv",
                     max_delete=1.0)
    assert allowed.committed and allowed.records["user"].deleted > 0


def test_delta_references_may_point_to_stored_records(engine, tmp_path):
    source = clean_copy(tmp_path)
    assert ingest(engine, MAPPING, source, "d1").ok
    only = tmp_path / "only"
    only.mkdir()
    (only / "enrollments.csv").write_text("School_id,Section_id,Student_id\n300,SEC-ALG2-3H,S1001\n"
                                          "300,SEC-NOPE,S1001\n", encoding="utf-8")
    mapping = tmp_path / "enrollments.yaml"
    mapping.write_text((REPO / "mappings" / "clever" / "classes.yaml").read_text(encoding="utf-8").split(
        "  terms:")[0].replace("records:", "sources:\n  enrollments: {file: enrollments.csv}\nrecords:") +
        "  student_enrollments:\n    source: enrollments\n    class: Enrollment\n    fields:\n"
        "      sourcedId: \"=id('enrollment', Section_id, Student_id, 'student')\"\n      user: =Student_id\n"
        "      class: =Section_id\n      school: =School_id\n      role: student\n", encoding="utf-8")
    report = ingest(engine, mapping, only, "d1", mode="delta")
    assert report.errors == ["enrollments.csv:3: class: unknown class 'SEC-NOPE'"]
    report = ingest(engine, mapping, only, "d1", mode="delta", skip_invalid=True, rejects_path=tmp_path / "r.csv")
    assert report.committed and counts(report)["enrollment"] == (1, 0, 0, 0, 1)


def test_dry_run_reports_and_writes_nothing(engine, tmp_path):
    report = ingest(engine, MAPPING, clean_copy(tmp_path), "d1", dry_run=True)
    assert report.ok and not report.committed and counts(report)["user"][0] == 6
    assert state(engine) == {}


@pytest.mark.parametrize("damage, expected", [
    (lambda p: (p / "teachers.csv").unlink(), "teachers.csv: not found in"),
    (lambda p: (p / "schools.csv").write_text("School_name\nX\n"), "schools.csv:1: header: missing required columns "
                                                                  "School_id, School_number"),
    (lambda p: (p / "sections.csv").write_bytes(b"School_id,Section_id,Teacher_id\n1,\"x\n"), "sections.csv:"),
])
def test_unreadable_sources_fail_with_one_clear_error(engine, tmp_path, damage, expected):
    source = clean_copy(tmp_path)
    damage(source)
    report = ingest(engine, MAPPING, source, "d1")
    assert not report.committed and len(report.errors) == 1 and expected in report.errors[0]
    assert state(engine) == {}


def test_mapping_errors_and_missing_source_path(engine, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrecords: {}\nsorces: {}\n", encoding="utf-8")
    report = ingest(engine, bad, CLEVER, "d1")
    assert report.errors == [f"{bad}:3: sorces: unknown key (allowed here: version, name, description, target, "
                             "id_namespace, include, parameters, sources, crosswalks, lookups, records)"]
    report = ingest(engine, MAPPING, tmp_path / "nowhere", "d1")
    assert report.errors == [f"{tmp_path / 'nowhere'}: no such file or directory"]


def test_zip_bundle_and_truncated_zip(engine, tmp_path):
    source = clean_copy(tmp_path)
    archive = shutil.make_archive(str(tmp_path / "export"), "zip", source)
    assert ingest(engine, MAPPING, archive, "d1").ok
    data = open(archive, "rb").read()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) - 40])
    report = ingest(engine, MAPPING, tmp_path / "cut.zip", "d2")
    assert report.errors and report.errors[0].startswith("cut.zip: not a readable zip file (truncated or corrupt")
