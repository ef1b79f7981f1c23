"""Exporting OneRoster CSV packages (SQLite and PostgreSQL): exact headers, manifests, round trips through import."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.exporting import ExportError, export_bundle
from gateway.importing import import_bundle
from gateway.storage.tables import records
from standards.csvbinding import load_csv_binding

from helpers import CSV_FIXTURES as FIXTURES  # noqa: E402
from helpers import REPO  # noqa: E402,F401
from helpers import SAMPLE_11  # noqa: E402
from helpers import SAMPLES  # noqa: E402,F401
from helpers import needs_samples  # noqa: E402


def read_package(path: Path) -> dict[str, list[list[str]]]:
    """file name -> rows (header first) of a package directory or zip."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return {name: list(csv.reader(archive.read(name).decode("utf-8-sig").splitlines()))
                    for name in archive.namelist()}
    return {p.name: list(csv.reader(p.read_text(encoding="utf-8-sig").splitlines())) for p in path.glob("*.csv")}


def versions(engine, tenant="d1") -> dict:
    with engine.connect() as conn:
        return {(r.type, r.sourced_id): (r.status, r.change_version) for r in conn.execute(
            select(records.c.type, records.c.sourced_id, records.c.status, records.c.change_version).where(
                records.c.tenant == tenant))}


def assert_unchanged(report) -> None:
    assert report.ok, report.errors
    for name, stats in report.files.items():
        assert stats.created == stats.updated == stats.deleted == 0, (name, stats)


def test_12_round_trip_through_a_zip(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    before = versions(engine)
    out = tmp_path / "export.zip"
    written = export_bundle(engine, "d1", "1.2", out)
    assert written["users.csv"] == 4 and written["roles.csv"] == 5 and written["lineItemLearningObjectiveIds.csv"] == 3
    assert "userResources.csv" not in written  # carried by users.csv resourceSourcedIds
    package = read_package(out)
    binding = load_csv_binding("1.2")
    for name, table in package.items():
        if name == "manifest.csv":
            continue
        expected = binding.files[name].header + (("metadata.city",) if name == "orgs.csv" else ())
        assert tuple(table[0]) == expected
        assert all(row[1] == row[2] == "" for row in table[1:])  # bulk: blank status and dateLastModified
    manifest = dict(package["manifest.csv"][1:])
    assert manifest["oneroster.version"] == "1.2" and manifest["file.users"] == "bulk"
    assert manifest["file.userResources"] == "absent"
    assert len(manifest) == 2 + len(binding.files) + 1
    again = import_bundle(engine, out, "d1")
    assert_unchanged(again)
    assert versions(engine) == before


@needs_samples
def test_11_sample_keeps_its_rows(engine, tmp_path):
    assert import_bundle(engine, SAMPLE_11, "d1").ok
    before = versions(engine)
    out = tmp_path / "sample11"
    written = export_bundle(engine, "d1", "1.1", out)
    assert written == {"academicSessions.csv": 3, "classes.csv": 2, "courses.csv": 2, "demographics.csv": 8,
                       "enrollments.csv": 24, "orgs.csv": 2, "users.csv": 10}
    exported, original = read_package(out), read_package(SAMPLE_11)
    binding = load_csv_binding("1.1")
    for name in written:
        header = binding.files[name].header
        assert tuple(exported[name][0]) == header
        width = len(header)
        # the sample's orgs.csv has empty metadata.* columns and two users rows have an extra empty cell
        assert sorted(exported[name][1:]) == sorted(row[:width] for row in original[name][1:]), name
    assert_unchanged(import_bundle(engine, out, "d1"))
    assert versions(engine) == before


def test_11_gradebook_round_trip(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v11_gradebook", "d1").ok
    out = tmp_path / "gradebook.zip"
    export_bundle(engine, "d1", "1.1", out)
    exported, original = read_package(out), read_package(FIXTURES / "v11_gradebook")
    for name in ("users.csv", "enrollments.csv", "lineItems.csv", "results.csv", "resources.csv", "classes.csv"):
        want = [[("true" if cell == "True" else cell) for cell in row] for row in original[name][1:]]
        if name == "users.csv":
            want = [row[:-1] + [""] for row in want]  # the password is never stored
        assert sorted(exported[name][1:]) == sorted(want), name
    assert exported["classResources.csv"][1] == ["sci-a-classResources-1", "", "", "", "sci-a", "rsc1"]
    assert_unchanged(import_bundle(engine, out, "d1"))


def test_11_data_exports_as_12_and_back(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v11_gradebook", "d1").ok
    before = versions(engine)
    out = tmp_path / "as12"
    export_bundle(engine, "d1", "1.2", out)
    package = read_package(out)
    assert package["roles.csv"][1][3:6] == ["adm1", "primary", "districtAdministrator"]
    assert package["lineItems.csv"][1][9] == "gp1" and package["lineItems.csv"][1][12] == "sch1"
    assert_unchanged(import_bundle(engine, out, "d1"))
    assert versions(engine) == before


def test_12_data_exports_as_11(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    out = tmp_path / "as11"
    written = export_bundle(engine, "d1", "1.1", out)
    assert "roles.csv" not in written and written["users.csv"] == 4
    users = {row[0]: row for row in read_package(out)["users.csv"][1:]}
    assert users["t1x"][4:6] == ["sch1,sch2", "teacher"] and users["p1"][4:6] == ["dist", "parent"]
    report = import_bundle(engine, out, "d2")  # 1.1 requires what 1.2 made optional
    assert report.errors == ["lineItems.csv:3: resultValueMin: required field missing",
                             "lineItems.csv:3: resultValueMax: required field missing",
                             "results.csv:3: score: required field missing"]


def test_only_active_records_are_exported(engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    assert import_bundle(engine, FIXTURES / "v12_delta", "d1").ok  # deletes enrollment e2
    out = tmp_path / "after-delta"
    export_bundle(engine, "d1", "1.2", out)
    enrollments = [row[0] for row in read_package(out)["enrollments.csv"][1:]]
    assert enrollments == ["e1", "e3", "e4", "e5", "e6"]


def test_synthetic_district_round_trip(engine, tmp_path):
    synthetic = pytest.importorskip("gateway.synthetic")
    generated = tmp_path / "demo.zip"
    synthetic.generate_bundle(generated, synthetic.DEMO)
    first = import_bundle(engine, generated, "demo")
    assert first.ok, first.errors[:5]
    out = tmp_path / "export.zip"
    assert export_bundle(engine, "demo", "1.2", out)["enrollments.csv"] == first.files["enrollments.csv"].read
    assert_unchanged(import_bundle(engine, out, "demo"))


def test_export_errors(engine, tmp_path):
    with pytest.raises(ExportError, match="unknown district 'nope'"):
        export_bundle(engine, "nope", "1.2", tmp_path / "x.zip")
    with pytest.raises(ExportError, match="unknown OneRoster version '1.0'"):
        export_bundle(engine, "d1", "1.0", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_cli_export(app, engine, tmp_path):
    assert import_bundle(engine, FIXTURES / "v12_good", "d1").ok
    runner = app.test_cli_runner()
    out = tmp_path / "cli.zip"
    result = runner.invoke(args=["export", "oneroster-csv", "--district", "d1", "--version", "1.1", str(out)])
    assert result.exit_code == 0, result.output
    assert "exported 32 rows" in result.output and out.exists()
    result = runner.invoke(args=["export", "oneroster-csv", "--district", "zz", str(tmp_path / "none")])
    assert result.exit_code == 1 and "error: unknown district 'zz'" in result.output
    assert "Traceback" not in result.output
