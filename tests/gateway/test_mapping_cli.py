"""``trellis mapping check|preview`` and ``trellis ingest``: clear output, exit statuses, never a traceback."""

from __future__ import annotations

import pytest

from helpers import REPO
from helpers import SHARED

CLEVER = SHARED / "samples" / "formats" / "clever_sftp"
MAPPING = str(REPO / "mappings" / "clever" / "mapping.yaml")
pytestmark = pytest.mark.skipif(not CLEVER.exists(), reason=f"Clever sample not found at {CLEVER}")


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_check_ok_with_sample(app):
    result = invoke(app, "mapping", "check", MAPPING, "--sample", str(CLEVER))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "11 record rules (Org, User, Demographics, AcademicSession, Course, Class, Enrollment)" in result.stdout
    assert "warning: students.csv: no column Username" in result.stdout
    assert result.stdout.rstrip().endswith("has every required column")


def test_check_reports_mapping_errors_and_sample_problems(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsources: {a: {file: a.csv}}\nrecords:\n  r:\n    source: a\n    class: Org\n"
                   "    fields: {sourcedId: =id, nme: =n}\n", encoding="utf-8")
    result = invoke(app, "mapping", "check", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{bad}:7: records.r.fields.nme: Org has no field 'nme'" in result.stderr
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "schools.csv").write_text("School_id,School_name\n1,x\n", encoding="utf-8")
    result = invoke(app, "mapping", "check", MAPPING, "--sample", str(sample))
    assert result.exit_code == 1
    assert "error: schools.csv:1: header: missing required column School_number" in result.stderr
    assert "error: students.csv: not in the sample" in result.stderr


def test_preview_shows_records_and_row_errors(app):
    result = invoke(app, "mapping", "preview", MAPPING, "--source", str(CLEVER), "--limit", "1")
    assert result.exit_code == 0, result.stderr
    assert 'schools.csv:2 schools -> org {"sourcedId":"100"' in result.stdout
    assert "schools.csv:3" not in result.stdout  # --limit 1 per rule
    assert "students.csv:4: demographics: birthDate: '02/29/2010': not a real date" in result.stderr
    assert "1 rejected rows" in result.stdout


def test_preview_of_a_missing_source_fails_cleanly(app, tmp_path):
    result = invoke(app, "mapping", "preview", MAPPING, "--source", str(tmp_path / "none"))
    assert result.exit_code == 1 and "no such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_ingest_atomic_then_skip_invalid_then_unchanged(app, engine, tmp_path):
    result = invoke(app, "ingest", "--mapping", MAPPING, "--source", str(CLEVER), "--district", "d1")
    assert result.exit_code == 1
    assert "students.csv:4: birthDate: '02/29/2010': not a real date" in result.stderr
    assert "nothing written: 1 invalid rows" in result.stdout
    rejects = tmp_path / "rejects.csv"
    result = invoke(app, "ingest", "--mapping", MAPPING, "--source", str(CLEVER), "--district", "d1",
                    "--skip-invalid", "--rejects", str(rejects))
    assert result.exit_code == 1 and f"1 rejected rows written to {rejects}" in result.stdout
    assert "rejected 1 x Demographics.birthDate" in result.stdout
    assert "students.csv,4," in rejects.read_text(encoding="utf-8")
    result = invoke(app, "ingest", "--mapping", MAPPING, "--source", str(CLEVER), "--district", "d1",
                    "--skip-invalid", "--rejects", str(rejects), "--dry-run", "--mode", "delta")
    assert result.exit_code == 1  # a rejected row: not ok, and said so
    assert "dry run, nothing written: 1 invalid rows would be rejected, the rest stored" in result.stdout
    assert "│ user " in result.stdout and "enrollment" in result.stdout
    result = invoke(app, "ingest", "--mapping", MAPPING, "--source", str(CLEVER), "--district", "d2", "--dry-run")
    assert "a real run would write nothing" in result.stdout
    assert not any(cell.strip() not in {"", "0"} for line in result.stdout.splitlines() if line.startswith("│ user")
                   for cell in line.split("│")[2:-1])  # no partial counts of an atomic run that would fail


def test_ingest_reports_unreadable_input(app, tmp_path):
    result = invoke(app, "ingest", "--mapping", MAPPING, "--source", str(tmp_path / "x.zip"), "--district", "d1")
    assert result.exit_code == 1 and "no such file or directory" in result.stderr
    assert result.stdout.rstrip().endswith("nothing written")
