"""The bundled Clever mapping on the Clever sample export: the records it produces and the problems it reports are
compared with golden files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended change, and review the diff)."""

from __future__ import annotations

import shutil

import pytest
from bundled_golden_support import check_golden
from bundled_golden_support import produce as run_mapping

from helpers import REPO
from helpers import SHARED

CLEVER = SHARED / "samples" / "formats" / "clever_sftp"
MAPPING = REPO / "mappings" / "clever" / "mapping.yaml"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "clever"
pytestmark = pytest.mark.skipif(not CLEVER.exists(), reason=f"Clever sample not found at {CLEVER}")


def produce(source) -> tuple[dict, dict]:
    return run_mapping(MAPPING, source)


def test_records_match_the_golden_files():
    produced, report = produce(CLEVER)
    check_golden(GOLDEN, produced, report)


def test_planted_edge_cases():
    produced, report = produce(CLEVER)
    users, classes = produced["user"], produced["class"]
    assert report["errors"] == ["students.csv:4: birthDate: '02/29/2010': not a real date for the format %m/%d/%Y"]
    assert users["S3002"]["record"]["familyName"] == 'García "Gigi"'
    assert "email" not in users["S1001"]["record"] and users["S1001"]["from"] == "students.csv:2"  # one per contact
    assert users["T10"]["from"] == "teachers.csv:2" and "email" not in users["T20"]["record"]  # first row kept
    assert any(w.startswith("teachers.csv:3: duplicate 'T10'") for w in report["warnings"])
    assert any(w.startswith("staff.csv:4: duplicate 'A2'") for w in report["warnings"])
    assert classes["SEC-K-HR"]["record"]["grades"] == ["KG"] and classes["SEC-ALG2-3H"]["record"]["grades"] == ["10"]
    assert classes["SEC-ALG2-3"]["record"]["title"] == "Algebra II - Smith - 3"  # Clever's rule for a blank Name
    teachers = sorted((d["record"]["class"]["sourcedId"], d["record"]["user"]["sourcedId"], d["record"]["primary"])
                      for d in produced["enrollment"].values() if d["record"]["role"] == "teacher")
    assert teachers == [("SEC-ALG2-3", "T10", "true"), ("SEC-ALG2-3", "T20", "false"),
                        ("SEC-ALG2-3H", "T20", "true"), ("SEC-K-HR", "T10", "true")]
    assert produced["org"]["300"]["record"]["metadata"]["clever"]["lowGrade"] == "09"  # range 9-12: lower bound
    assert produced["org"]["100"]["record"]["identifier"] == "0100"  # leading zeros kept


@pytest.mark.parametrize("variant", ["students.utf8-bom.csv", "students.cp1252-crlf.csv"])
def test_encoding_variants_produce_the_same_records(tmp_path, variant):
    source = tmp_path / "clever"
    shutil.copytree(CLEVER, source, ignore=shutil.ignore_patterns("students*.csv"))
    shutil.copy(CLEVER / variant, source / "students.csv")
    assert produce(source)[0] == produce(CLEVER)[0]
