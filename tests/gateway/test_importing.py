"""Importing OneRoster CSV packages into the store (SQLite and PostgreSQL): counts, atomicity, rejects, deltas,
references, credentials, the CLI, and the API serving what was imported."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from gateway.importing import MAX_ERRORS, import_bundle
from gateway.storage.tables import records

from helpers import CSV_FIXTURES as FIXTURES  # noqa: E402
from helpers import REPO  # noqa: E402,F401
from helpers import SAMPLE_11  # noqa: E402
from helpers import SAMPLES  # noqa: E402,F401
from helpers import needs_samples  # noqa: E402
INVALID_ERRORS = [
    "orgs.csv:4: status: must be blank in a bulk file (found 'active')",
    "academicSessions.csv:3: startDate: not a real date",
    "classes.csv:3: classType: 'lecture' is not one of homeroom, scheduled (or ext:…)",
    "classes.csv:4: termSourcedIds: depends on rejected academicSession 't2' (academicSessions.csv:3)",
    "users.csv:3: givenName: required field missing",
    "roles.csv:3: userSourcedId: depends on rejected user 's2' (users.csv:3)",
    "demographics.csv:3: birthDate: not a real date",
    "enrollments.csv:3: userSourcedId: unknown user 'u99'",
    "enrollments.csv:4: userSourcedId: depends on rejected user 's2' (users.csv:3)",
    "enrollments.csv:5: sourcedId: duplicate 'e1' (first on line 2)",
    "enrollments.csv:6: classSourcedId: depends on rejected class 'cls2' (classes.csv:3)",
    'enrollments.csv:7: primary: not "true" or "false"',
]


def copy(name, tmp_path: Path) -> Path:
    source = FIXTURES / name if isinstance(name, str) else name
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def drop_rows(directory: Path, value: str) -> None:
    """Remove every data row that mentions `value` in any cell, from every file (emptied files become absent)."""
    for path in directory.glob("*.csv"):
        if path.name == "manifest.csv":
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        kept = [r for r in table[1:] if value not in r]
        if kept:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows([table[0]] + kept)
            continue
        path.unlink()
        manifest = (directory / "manifest.csv").read_text()
        key = f"file.{path.stem}"
        manifest = "\n".join(f"{key},absent" if line.rstrip("*").startswith(key + ",") or
                             line.startswith(key + "*,") else line for line in manifest.splitlines())
        (directory / "manifest.csv").write_text(manifest + "\n")


def state(engine, tenant="d1") -> dict:
    """(type, sourcedId) -> (status, change version, document) for every stored record."""
    with engine.connect() as conn:
        return {(r.type, r.sourced_id): (r.status, r.change_version, orjson.loads(r.doc)) for r in conn.execute(
            select(records.c.type, records.c.sourced_id, records.c.status, records.c.change_version,
                   records.c.doc).where(records.c.tenant == tenant))}


def counts(report) -> dict:
    return {name: (s.read, s.created, s.updated, s.unchanged, s.deleted, s.rejected)
            for name, s in report.files.items()}


@needs_samples
def test_11_sample_imports_cleanly_and_reimport_changes_nothing(engine):
    report = import_bundle(engine, SAMPLE_11, "d1")
    assert report.ok and report.committed and report.version == "1.1" and report.errors == []
    assert counts(report) == {
        "academicSessions.csv": (3, 3, 0, 0, 0, 0), "classes.csv": (2, 2, 0, 0, 0, 0),
        "courses.csv": (2, 2, 0, 0, 0, 0), "demographics.csv": (8, 8, 0, 0, 0, 0),
        "enrollments.csv": (24, 24, 0, 0, 0, 0), "orgs.csv": (2, 2, 0, 0, 0, 0), "users.csv": (10, 10, 0, 0, 0, 0)}
    assert report.warnings == ["users.csv: 2 row(s) with empty cells beyond the header, ignored"]
    before = state(engine)
    assert before[("user", "604863")][2]["roles"] == [
        {"roleType": "primary", "role": "student", "org": {"sourcedId": "255901001", "type": "org"}}]
    again = import_bundle(engine, SAMPLE_11, "d1")
    assert again.ok and all(s.unchanged == s.read for s in again.files.values())
    assert state(engine) == before  # same change versions: nothing was rewritten


def test_12_package_imports_with_nested_files(engine):
    report = import_bundle(engine, FIXTURES / "v12_good", "d1")
    assert report.ok, report.errors
    assert counts(report)["users.csv"] == (4, 4, 0, 0, 0, 0)
    assert counts(report)["roles.csv"] == (5, 0, 0, 0, 0, 0)  # nested rows count as read, written with users
    stored = state(engine)
    assert len(stored) == 4 + 3 + 4 + 2 + 2 + 2 + 4 + 2 + 2 + 2 + 1 + 2  # users orgs sessions ... results
    t1x = stored[("user", "t1x")][2]
    assert [(r["roleType"], r["org"]["sourcedId"]) for r in t1x["roles"]] == [("primary", "sch1"),
                                                                               ("secondary", "sch2")]
    assert stored[("user", "s2")][2]["resources"] == [{"sourcedId": "res2", "type": "resource"}]  # userResources
    assert stored[("class", "cls1")][2]["resources"] == [{"sourcedId": "res1", "type": "resource"}]
    assert stored[("lineItem", "li1")][2]["scoreScale"] == {"sourcedId": "ss1", "type": "scoreScale"}
    assert stored[("result", "rs1")][2]["learningObjectiveSet"][0]["learningObjectiveResults"][1] == {
        "learningObjectiveId": "urn:uuid:0f1e2d3c-4b5a-4968-8776-655443322110", "score": 2.5}
    assert stored[("course", "c-eng")][2].get("courseCode") is None  # optional in CSV though required in JSON
    assert stored[("enrollment", "e4")][2]["primary"] == "true"


def test_passwords_are_dropped_with_one_warning_per_column(engine):
    report = import_bundle(engine, FIXTURES / "v12_good", "d1")
    assert [w for w in report.warnings if "password" in w] == [
        "userProfiles.csv: password: dropped, credentials are never stored",
        "users.csv: password: dropped, credentials are never stored"]
    with engine.connect() as conn:
        dumped = " ".join(conn.execute(select(records.c.doc)).scalars())
    assert "ann.lee" in dumped
    assert "S3cret!" not in dumped and "hunter2" not in dumped and '"password":' not in dumped


def test_imported_users_are_served_by_the_api(engine, client, apps):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    response = client.get("/ims/oneroster/rostering/v1p2/users", headers=apps.headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    users = {u["sourcedId"]: u for u in response.get_json()["users"]}
    assert set(users) == {"s1", "s2", "t1x", "p1"}
    assert users["s2"]["familyName"] == "O'Brien, Jr" and users["s2"]["status"] == "active"
    assert "password" not in users["s1"]


def test_bulk_removal_tombstones_missing_records(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    smaller = copy("v12_good", tmp_path)
    drop_rows(smaller, "s2")  # the user, its role, enrollment, demographics, result and resource link
    report = import_bundle(engine, smaller, "d1")
    assert report.ok, report.errors
    assert counts(report)["users.csv"] == (3, 0, 0, 3, 1, 0)
    assert counts(report)["enrollments.csv"] == (3, 0, 0, 3, 1, 0)
    stored = state(engine)
    for key in [("user", "s2"), ("enrollment", "e2"), ("demographics", "s2"), ("result", "rs2")]:
        assert stored[key][0] == "tobedeleted"
    assert stored[("user", "s1")][0] == "active"
    back = import_bundle(engine, FIXTURES / "v12_good", "d1")  # reappearing records become active again
    assert back.ok and counts(back)["users.csv"] == (4, 0, 1, 3, 0, 0)
    assert state(engine)[("user", "s2")][0] == "active"


def test_delta_rows_apply(engine):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    before = state(engine)
    report = import_bundle(engine, FIXTURES / "v12_delta", "d1")
    assert report.ok, report.errors
    assert counts(report) == {"enrollments.csv": (3, 2, 0, 0, 1, 0), "roles.csv": (2, 0, 0, 0, 0, 0),
                              "users.csv": (2, 1, 1, 0, 0, 0)}
    after = state(engine)
    assert after[("user", "s2")][2]["givenName"] == "Robert"
    assert after[("user", "s3")][2]["roles"][0]["org"] == {"sourcedId": "sch2", "type": "org"}
    assert after[("enrollment", "e2")][0] == "tobedeleted"
    assert after[("enrollment", "e6")][2]["user"]["sourcedId"] == "s1"  # s1 only in the store: found there
    untouched = [k for k in before if k not in {("user", "s2"), ("enrollment", "e2")}]
    assert all(after[k] == before[k] for k in untouched)


def test_delta_reference_to_unknown_record(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    delta = copy("v12_delta", tmp_path)
    text = (delta / "enrollments.csv").read_text().replace("cls2,sch2,s1", "cls2,sch2,nobody")
    (delta / "enrollments.csv").write_text(text)
    report = import_bundle(engine, delta, "d1")
    assert report.errors == ["enrollments.csv:4: userSourcedId: unknown user 'nobody'"]
    assert not report.committed


def test_atomic_failure_leaves_the_store_untouched(engine):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    before = state(engine)
    report = import_bundle(engine, FIXTURES / "v12_invalid", "d1")
    assert not report.ok and not report.committed
    assert report.errors == INVALID_ERRORS
    assert report.files["orgs.csv"].created == report.files["orgs.csv"].updated == 0
    assert state(engine) == before


def test_skip_invalid_stores_good_rows_and_writes_rejects(engine, tmp_path):
    bundle = copy("v12_invalid", tmp_path)
    report = import_bundle(engine, bundle, "d1", skip_invalid=True)
    assert report.committed and not report.ok
    assert report.errors == INVALID_ERRORS
    assert report.rejects_path == str(bundle) + ".rejects.csv"
    stored = state(engine)
    assert sorted(k for k in stored) == [
        ("academicSession", "sy"), ("class", "cls1"), ("course", "c-math"), ("demographics", "s1"),
        ("enrollment", "e1"), ("org", "dist"), ("org", "sch1"), ("user", "s1"), ("user", "t1x")]
    assert stored[("enrollment", "e1")][2]["user"]["sourcedId"] == "s1"  # the first of the duplicates wins
    with open(report.rejects_path, newline="", encoding="utf-8") as handle:
        rejected = list(csv.reader(handle))
    assert rejected[0] == ["file", "line", "reason"]
    assert [f"{r[0]}:{r[1]}: {r[2]}" for r in rejected[1:]] == INVALID_ERRORS
    assert rejected[5][3:] == ["s2", "", "", "true", "ng", "", "", "Ng"] + [""] * 6 + ["09"] + [""] * 6 + ["sch1",
                                                                                                          ""]
    assert counts(report)["enrollments.csv"] == (6, 1, 0, 0, 0, 5)


def test_skip_invalid_rejects_rows_that_refer_to_a_rejected_row_of_the_same_file(engine, tmp_path):
    bundle = copy("v12_good", tmp_path)
    text = (bundle / "orgs.csv").read_text().replace("sch1,,,North High,school", "sch1,,,North High,college")
    (bundle / "orgs.csv").write_text(text)
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()
    report = import_bundle(engine, bundle, "d1", skip_invalid=True, rejects_path=rejects)
    assert report.errors[0].startswith("orgs.csv:3: type: 'college' is not one of department, district")
    assert "classes.csv:2: schoolSourcedId: depends on rejected org 'sch1' (orgs.csv:3)" in report.errors
    assert rejects.exists() and report.rejects_path == str(rejects)
    stored = state(engine)
    assert ("org", "sch2") in stored and ("org", "sch1") not in stored and ("class", "cls2") in stored


def test_agents_pointing_to_a_rejected_user(engine, tmp_path):
    bundle = copy("v12_good", tmp_path)
    (bundle / "users.csv").write_text((bundle / "users.csv").read_text().replace(",Pat,Lee,", ",Pat,,"))
    report = import_bundle(engine, bundle, "d1", skip_invalid=True)
    assert "users.csv:5: familyName: required field missing" in report.errors
    assert "users.csv:2: agentSourcedIds: depends on rejected user 'p1' (users.csv:5)" in report.errors
    assert ("user", "s1") not in state(engine) and ("user", "s2") in state(engine)


@pytest.mark.parametrize("edit, expected", [
    (("academicSessions.csv", "2026-08-20,2026-12-20", "2026-08-20,20261220"),
     "academicSessions.csv:3: endDate: not a date (YYYY-MM-DD)"),
    (("classes.csv", ",homeroom,", ",Homeroom,"),
     "classes.csv:3: classType: 'Homeroom' is not one of homeroom, scheduled (or ext:…)"),
    (("users.csv", "p1,,,false,pat.lee,", "p1,,,,pat.lee,"), "users.csv:5: enabledUser: required field missing"),
    (("enrollments.csv", "e2,,,cls1,sch1,s2", "e2,,,cls1,sch1,u99"),
     "enrollments.csv:3: userSourcedId: unknown user 'u99'"),
    (("enrollments.csv", "e3,", "e1,"), "enrollments.csv:4: sourcedId: duplicate 'e1' (first on line 2)"),
    (("orgs.csv", "dist,,,", "dist,active,,"), "orgs.csv:2: status: must be blank in a bulk file (found 'active')"),
    (("orgs.csv", "dist,,,", "dist,,2026-01-01T00:00:00Z,"),
     "orgs.csv:2: dateLastModified: must be blank in a bulk file (found '2026-01-01T00:00:00Z')"),
    (("roles.csv", "r4,,,t1x,secondary,teacher", "r4,,,t1x,secondary,coach"),
     "roles.csv:5: role: 'coach' is not one of aide, counselor, districtAdministrator, guardian, parent, principal, "
     "proctor, relative, siteAdministrator, student, systemAdministrator, teacher (or ext:…)"),
    (("roles.csv", "r2,,,s2,primary,student,,,sch1", "r2,,,s2,primary,student,,,sch9"),
     "roles.csv:3: orgSourcedId: unknown org 'sch9'"),
    (("roles.csv", "r2,,,s2", "r2,,,s9"), "roles.csv:3: userSourcedId: unknown user 's9' (not in users.csv)"),
    (("roles.csv", "r3,,,t1x", "r2,,,t1x"), "roles.csv:4: sourcedId: duplicate 'r2' (first on line 3)"),
    (("demographics.csv", "s2,,,2011-05-06", "s7,,,2011-05-06"), "demographics.csv:3: sourcedId: unknown user 's7'"),
    (("results.csv", "fully graded,93.5", "fully graded,A+"), "results.csv:2: score: 'A+' is not a number"),
    (("lineItemScoreScales.csv", "li1,ss1", "li1,ss9"), "lineItemScoreScales.csv:2: scoreScaleSourcedId: unknown "
                                                        "scoreScale 'ss9'"),
    (("scoreScales.csv", ",sch1,c-math", ",sch7,c-math"), "scoreScales.csv:2: orgSourcedId: unknown org 'sch7'"),
])
def test_bad_rows_are_reported_as_file_line_column_reason(engine, tmp_path, edit, expected):
    bundle = copy("v12_good", tmp_path)
    name, old, new = edit
    text = (bundle / name).read_text(encoding="utf-8")
    assert old in text
    (bundle / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    report = import_bundle(engine, bundle, "d1")
    assert expected in report.errors
    assert not report.committed and state(engine) == {}


def test_user_without_roles(engine, tmp_path):
    bundle = copy("v12_good", tmp_path)
    drop_rows(bundle, "r5")
    report = import_bundle(engine, bundle, "d1")
    assert report.errors[:2] == ["users.csv:5: roles: required field missing (no row for 'p1' in roles.csv)",
                                 "users.csv:2: agentSourcedIds: depends on rejected user 'p1' (users.csv:5)"]


@pytest.mark.parametrize("damage, expected", [
    ("manifest", "manifest.csv: missing (OneRoster 1.1 and 1.2 packages need one; 1.0 packages are not supported)"),
    ("truncate", "bundle.zip: not a readable zip file (truncated or corrupt"),
    ("latin1", "users.csv:4: encoding: not UTF-8 (byte 0xeb at position 35); save the file as UTF-8"),
    ("header", "enrollments.csv:1: header: column 4 should be 'classSourcedId', found 'schoolSourcedId'"),
])
def test_unreadable_packages_fail_with_one_clear_error(engine, tmp_path, damage, expected):
    bundle = copy("v12_good", tmp_path)
    if damage == "latin1":
        (bundle / "users.csv").write_bytes((bundle / "users.csv").read_text().encode("latin-1"))
    elif damage == "header":
        text = (bundle / "enrollments.csv").read_text()
        (bundle / "enrollments.csv").write_text(text.replace("classSourcedId,schoolSourcedId",
                                                             "schoolSourcedId,classSourcedId", 1))
    elif damage == "manifest":
        (bundle / "manifest.csv").unlink()
    path = bundle
    if damage in ("truncate", "manifest"):
        path = tmp_path / "bundle.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in bundle.iterdir():
                archive.write(file, file.name)
        if damage == "truncate":
            path.write_bytes(path.read_bytes()[:-200])
    report = import_bundle(engine, path, "d1")
    assert len(report.errors) == 1 and report.errors[0].startswith(expected)
    assert not report.committed and state(engine) == {}


def test_bom_files_import(engine, tmp_path):
    bundle = copy("v12_good", tmp_path)
    for name in ("users.csv", "manifest.csv", "orgs.csv"):
        (bundle / name).write_bytes(b"\xef\xbb\xbf" + (bundle / name).read_bytes())
    assert import_bundle(engine, bundle, "d1").ok


def test_errors_are_capped(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    bundle = copy("v12_delta", tmp_path)
    lines = (bundle / "enrollments.csv").read_text().splitlines()[:1]
    lines += [f"x{i},active,2027-01-10,cls1,sch1,s1,student,,," for i in range(250)]
    (bundle / "enrollments.csv").write_text("\n".join(lines) + "\n")
    report = import_bundle(engine, bundle, "d1")
    assert len(report.errors) == MAX_ERRORS and report.errors_omitted == 50
    assert report.errors[0] == ("enrollments.csv:2: dateLastModified: '2027-01-10' is not a date-time "
                                "(ISO 8601 with Z)")


def test_dry_run_reports_and_writes_nothing(engine):
    report = import_bundle(engine, FIXTURES / "v12_good", "d1", dry_run=True)
    assert report.ok and not report.committed and counts(report)["users.csv"] == (4, 4, 0, 0, 0, 0)
    assert state(engine) == {}


@needs_samples
def test_progress_callback(engine):
    seen = []
    import_bundle(engine, SAMPLE_11, "d1", progress=lambda name, done, total: seen.append((name, done, total)))
    assert ("enrollments.csv", 24, 24) in seen and ("users.csv", 10, 10) in seen


def test_11_gradebook_package(engine):
    report = import_bundle(engine, FIXTURES / "v11_gradebook", "d1")
    assert report.ok, report.errors
    stored = state(engine)
    assert stored[("lineItem", "lab1")][2]["school"] == {"sourcedId": "sch1", "type": "org"}  # from the class
    assert stored[("lineItem", "lab1")][2]["academicSession"] == {"sourcedId": "gp1", "type": "academicSession"}
    assert stored[("result", "lab1-stu1")][2]["score"] == 8.5
    assert stored[("user", "adm1")][2]["roles"][0]["role"] == "districtAdministrator"
    assert stored[("enrollment", "en3")][2]["role"] == "ext:aide"


# -- the command line
def test_cli_import(app, engine):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "oneroster-csv", str(FIXTURES / "v12_good"), "--district", "d7"])
    assert result.exit_code == 0, result.output
    assert "users.csv (bulk)" in result.output and "warning: users.csv: password: dropped" in result.output
    assert "imported: 47 rows" in result.output
    assert ("user", "s1") in state(engine, "d7")


def test_cli_import_invalid_exits_1_with_every_error(app, engine, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "oneroster-csv", str(FIXTURES / "v12_invalid"), "--district", "d1"])
    assert result.exit_code == 1
    for line in INVALID_ERRORS:
        assert line in result.output
    assert "nothing written: 12 invalid rows" in result.output
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(args=["import", "oneroster-csv", str(FIXTURES / "v12_invalid"), "--district", "d1",
                                 "--skip-invalid", "--rejects", str(rejects)])
    assert result.exit_code == 1 and f"12 rejected rows written to {rejects}" in result.output
    assert len(rejects.read_text().splitlines()) == 13


@needs_samples
def test_cli_dry_run_and_unreadable_path(app, engine, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "oneroster-csv", str(SAMPLE_11), "--district", "d1", "--dry-run"])
    assert result.exit_code == 0 and "dry run, nothing written" in result.output
    assert state(engine) == {}
    result = runner.invoke(args=["import", "oneroster-csv", str(tmp_path / "nope.zip"), "--district", "d1"])
    assert result.exit_code == 1 and "nope.zip: no such file or directory" in result.output
    assert "Traceback" not in result.output
