"""docs/writing-a-mapping.md walks through docs/examples/northwind: the finished mapping must still do what the
walkthrough shows on the example export (SQLite and PostgreSQL), so that the document cannot silently rot."""

from __future__ import annotations

import csv
import re
import shutil

import orjson
from sqlalchemy import select

from gateway.ingesting import ingest
from gateway.storage.tables import records
from helpers import REPO

NORTHWIND = REPO / "docs" / "examples" / "northwind"
EXPORT = NORTHWIND / "export"
MAPPING = NORTHWIND / "mapping" / "mapping.yaml"
WALKTHROUGH = REPO / "docs" / "writing-a-mapping.md"
BAD_DOB = "pupils.txt:6: birthDate: '29.02.2014': not a real date for the format %d.%m.%Y"
DUPLICATE = "staff.csv:5: duplicate 'T031' in staff, values differ from staff.csv:4; the first row is kept"
STORED = {"org": 2, "academicSession": 2, "user": 14, "demographics": 7, "course": 5, "class": 6, "enrollment": 21}


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def state(engine, tenant="northwind") -> dict:
    with engine.connect() as conn:
        return {(r.type, r.sourced_id): (r.status, r.change_version, orjson.loads(r.doc)) for r in conn.execute(
            select(records.c.type, records.c.sourced_id, records.c.status, records.c.change_version,
                   records.c.doc).where(records.c.tenant == tenant))}


def counts(report) -> dict:
    return {rtype: (s.created, s.updated, s.unchanged, s.deleted, s.rejected) for rtype, s in report.records.items()}


def fixed_copy(tmp_path):
    """Tuesday's export: the impossible date of birth corrected (the file stays Windows-1252)."""
    target = tmp_path / "export-tue"
    shutil.copytree(EXPORT, target)
    pupils = target / "pupils.txt"
    pupils.write_bytes(pupils.read_bytes().replace(b"29.02.2014", b"28.02.2014"))
    return target


def test_the_example_export_is_what_the_walkthrough_describes():
    raw = (EXPORT / "pupils.txt").read_bytes()
    assert b"\r\n" in raw and "Zoë".encode("cp1252") in raw
    header = raw.decode("cp1252").splitlines()[0]
    assert header.startswith("PUPIL_ID;UPN;surname;FORENAME;") and "Date of Birth" in header
    with open(NORTHWIND / "mapping" / "year_groups.csv", newline="", encoding="utf-8") as handle:
        grades = dict(list(csv.reader(handle))[1:])
    assert grades["R"] == "KG" and grades["Y7"] == "07"


def test_check_passes_on_the_example_export(app):
    result = invoke(app, "mapping", "check", MAPPING, "--sample", EXPORT)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "9 record rules (Org, AcademicSession, User, Demographics, Course, Class, Enrollment), 5 sources, " \
           "2 crosswalks, 1 lookup table" in result.stdout
    assert result.stdout.rstrip().endswith("has every required column") and "warning" not in result.stdout


def test_preview_shows_the_bad_row_with_its_place(app):
    result = invoke(app, "mapping", "preview", MAPPING, "--source", EXPORT, "--limit", "3")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "pupils.txt:6: pupil_demographics: birthDate: '29.02.2014': not a real date for the format %d.%m.%Y" \
        in result.stderr
    assert '"givenName":"Zoë","familyName":"Brontë"' in result.stdout  # Windows-1252 decoded
    assert '"grades":["07"]' in result.stdout and f"warning: {DUPLICATE}" in result.stdout
    assert result.stdout.rstrip().endswith("1 rejected rows")


def test_atomic_ingest_writes_nothing_and_names_the_bad_row(engine):
    report = ingest(engine, MAPPING, EXPORT, "northwind")
    assert not report.committed and report.errors == [BAD_DOB]
    assert report.reasons == {"Demographics.birthDate: …: not a real date for the format %d.%m.%Y": 1}
    assert state(engine) == {}


def test_skip_invalid_stores_the_rest_and_a_second_run_changes_nothing(engine, tmp_path):
    rejects = tmp_path / "rejects.csv"
    report = ingest(engine, MAPPING, EXPORT, "northwind", skip_invalid=True, rejects_path=rejects)
    assert report.committed and report.errors == [BAD_DOB] and report.rows_read == 34
    assert DUPLICATE in report.warnings
    assert counts(report) == {rtype: (n, 0, 0, 0, 1 if rtype == "demographics" else 0)
                              for rtype, n in STORED.items()}
    assert {(r.rule, r.produced, r.duplicates, r.rejected) for r in report.rules.values()} >= {
        ("staff", 6, 1, 0), ("courses", 5, 1, 0), ("teacher_enrollments", 10, 0, 0),
        ("pupil_demographics", 7, 0, 1)}
    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "line", "reason"]
    assert rows[1][:4] == ["pupils.txt", "6", BAD_DOB.split(": ", 1)[1], "P1005"]
    stored = state(engine)
    assert stored[("user", "P1005")][0] == "active" and ("demographics", "P1005") not in stored
    assert stored[("user", "P1002")][2]["givenName"] == "Zoë"
    assert stored[("user", "P2001")][2]["grades"] == ["KG"]
    assert stored[("user", "T102")][2]["roles"][0]["role"] == "aide"
    assert stored[("user", "T031")][2]["email"] == "h.achebe@northwind.example"  # the first row is kept
    teachers = {doc["user"]["sourcedId"]: doc["primary"] for (rtype, _), (_, _, doc) in stored.items()
                if rtype == "enrollment" and doc["role"] == "teacher" and doc["class"]["sourcedId"] == (
                    next(sid for (t, sid), (_, _, d) in stored.items() if t == "class" and d["classCode"] == "8SC1"))}
    assert teachers == {"T031": "true", "T014": "false", "T022": "false"}

    again = ingest(engine, MAPPING, EXPORT, "northwind", skip_invalid=True, rejects_path=rejects)
    assert again.committed and counts(again) == {rtype: (0, 0, n, 0, 1 if rtype == "demographics" else 0)
                                                 for rtype, n in STORED.items()}
    assert state(engine) == stored


def test_ids_are_deterministic_across_districts(engine, tmp_path):
    source = fixed_copy(tmp_path)
    assert ingest(engine, MAPPING, source, "northwind").ok
    assert ingest(engine, MAPPING, source, "other").ok
    first, second = state(engine), state(engine, "other")
    assert first.keys() == second.keys() and len(first) == sum(STORED.values()) + 1
    classes = {doc["classCode"]: sid for (rtype, sid), (_, _, doc) in first.items() if rtype == "class"}
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", sid)
               for sid in classes.values())
    assert classes["7EN1"] in WALKTHROUGH.read_text(encoding="utf-8")  # the ids shown in the walkthrough


def test_fixed_export_then_delta_versus_snapshot(engine, tmp_path):
    assert ingest(engine, MAPPING, EXPORT, "northwind", skip_invalid=True, rejects_path=tmp_path / "r.csv").committed
    tuesday = fixed_copy(tmp_path)
    report = ingest(engine, MAPPING, tuesday, "northwind")
    assert report.ok and report.committed
    assert counts(report)["demographics"] == (1, 0, 7, 0, 0)
    assert sum(s.created + s.updated + s.deleted for s in report.records.values()) == 1
    assert state(engine)[("demographics", "P1005")][2]["birthDate"] == "2014-02-28"

    wednesday = tmp_path / "export-wed"
    shutil.copytree(tuesday, wednesday)
    members = wednesday / "class_members.csv"
    members.write_text("".join(line for line in members.read_text(encoding="utf-8").splitlines(keepends=True)
                               if "7EN1,P1003" not in line), encoding="utf-8")
    delta = ingest(engine, MAPPING, wednesday, "northwind", mode="delta")
    assert delta.ok and counts(delta)["enrollment"] == (0, 0, 20, 0, 0)
    snapshot = ingest(engine, MAPPING, wednesday, "northwind")
    assert snapshot.ok and {t: s.deleted for t, s in snapshot.records.items() if s.deleted} == {"enrollment": 1}
    gone = [doc for (rtype, _), (status, _, doc) in state(engine).items()
            if rtype == "enrollment" and status == "tobedeleted"]
    assert [(doc["user"]["sourcedId"], doc["role"]) for doc in gone] == [("P1003", "student")]
