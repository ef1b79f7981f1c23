"""The bundled Canvas gradebook mapping on the Canvas gradebook export sample: records and reported problems compared
with golden files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended change, and review the diff), the planted
edge cases, and the gradebook ingested on top of the Canvas SIS roster."""

from __future__ import annotations

import pytest

from adapters.mapping import MappingError
from bundled_golden_support import check_golden, produce
from gateway.ingesting import ingest
from helpers import REPO, SHARED

EXPORT = SHARED / "samples" / "formats" / "canvas_gradebook_export.csv"
SIS = SHARED / "samples" / "formats" / "canvas_sis"
MAPPING = REPO / "mappings" / "canvas-gradebook" / "mapping.yaml"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "canvas-gradebook"
pytestmark = pytest.mark.skipif(not EXPORT.exists(), reason=f"Canvas gradebook sample not found at {EXPORT}")
PARAMS = {"export_date": "2024-12-20"}
HEADER = ("Student,ID,SIS User ID,SIS Login ID,Section,Unit 1 Quiz (101),Essay 1 (102),Assignments Current Score,"
          "Current Score,Unposted Current Score,Final Score,Unposted Final Score\n")


def by_from(records: dict) -> dict:
    out: dict = {}
    for entry in records.values():
        out.setdefault(entry["from"], []).append(entry["record"])
    return out


def test_records_match_the_golden_files():
    produced, report = produce(MAPPING, EXPORT, params=PARAMS)
    check_golden(GOLDEN, produced, report)


def test_planted_edge_cases():
    produced, report = produce(MAPPING, EXPORT, params=PARAMS)
    assert report["errors"] == [] and report["warnings"] == []
    line_items, results = produced["lineItem"], produced["result"]
    # one lineItem per assignment column and section; resultValueMax from the "    Points Possible" row
    assert sorted((li["record"]["title"], li["record"]["class"]["sourcedId"], li["record"]["resultValueMax"])
                  for li in line_items.values()) == [("Essay 1", "S001", 25), ("Essay 1", "S002", 25),
                                                     ("Unit 1 Quiz", "S001", 10), ("Unit 1 Quiz", "S002", 10)]
    # the Points Possible row (line 2) and the test student (line 5) produce no lineItem or result
    for rule in ("lineitems", "results"):
        assert report["rules"][rule]["filtered"] == 2 and report["rules"][rule]["rejected"] == 0
    rows = by_from(results)
    assert set(rows) == {"canvas_gradebook_export.csv:3", "canvas_gradebook_export.csv:4"}
    assert produced["category"] and all(e["from"] == "canvas_gradebook_export.csv:2"
                                        for e in produced["category"].values())
    # "Smith, Bob": referred to by SIS User ID (leading zero kept); EX = excused -> exempt, no score
    bob = {(r["lineItem"]["sourcedId"], r["scoreStatus"], r.get("score"))
           for r in rows["canvas_gradebook_export.csv:3"]}
    quiz = next(k for k, v in line_items.items() if v["record"]["title"] == "Unit 1 Quiz"
                and v["record"]["class"]["sourcedId"] == "S001")
    essay = next(k for k, v in line_items.items() if v["record"]["title"] == "Essay 1"
                 and v["record"]["class"]["sourcedId"] == "S001")
    assert bob == {(quiz, "fully graded", 9), (essay, "exempt", None)}
    assert {r["student"]["sourcedId"] for r in rows["canvas_gradebook_export.csv:3"]} == {"01103"}
    # "Section 1, Section 2": a result in each section's lineItem
    jane = rows["canvas_gradebook_export.csv:4"]
    assert sorted((r["class"]["sourcedId"], r["score"]) for r in jane) == [("S001", 7.5), ("S001", 20),
                                                                          ("S002", 7.5), ("S002", 20)]


def test_bad_cells_and_sections_are_reported_per_row(tmp_path):
    export = tmp_path / "canvas_gradebook_export.csv"
    export.write_text(HEADER + "    Points Possible,,,,,10,25,(read only),(read only),(read only),(read only),"
                      "(read only)\n\"Smith, Bob\",11,01103,bsmith01,Section 9,9,5,,,,,\n"
                      "\"Doe, Jane\",12,13834,jdoe03,Section 1,abc,20,,,,,\n"
                      "\"Nobody, No\",13,,,Section 1,3,4,,,,,\n", encoding="utf-8")
    produced, report = produce(MAPPING, export, params=PARAMS)
    errors = report["errors"]
    assert "canvas_gradebook_export.csv:3: class: 'Section 9' is not in crosswalk 'section_classes' (sections.csv)" \
        in errors
    assert "canvas_gradebook_export.csv:4: score: 'abc' is not a number" in errors
    assert "canvas_gradebook_export.csv:5: student: required field missing" in errors
    # a row is the unit of rejection: Jane's valid Essay 1 grade goes with her bad quiz cell; only lineItems remain
    assert "result" not in produced
    assert sorted(li["record"]["title"] for li in produced["lineItem"].values()) == ["Essay 1", "Unit 1 Quiz"]


def test_ingest_on_top_of_the_canvas_sis_roster(engine, tmp_path):
    alone = ingest(engine, MAPPING, EXPORT, "d1", mode="delta", params=PARAMS)  # classes, schools and students must be stored
    assert not alone.committed
    assert {"canvas_gradebook_export.csv:3: class: unknown class 'S001'",
            "canvas_gradebook_export.csv:3: student: unknown user '01103'"} <= set(alone.errors)
    roster = ingest(engine, REPO / "mappings" / "canvas-sis" / "mapping.yaml", SIS, "d1", skip_invalid=True,
                    rejects_path=tmp_path / "rejects.csv")
    assert roster.committed
    report = ingest(engine, MAPPING, EXPORT, "d1", mode="delta", params=PARAMS)
    assert report.committed and report.ok, report.errors
    assert {rtype: s.created for rtype, s in report.records.items()} == {"category": 1, "lineItem": 4, "result": 6}
    again = ingest(engine, MAPPING, EXPORT, "d1", mode="delta", params=PARAMS)
    assert again.committed and sum(s.unchanged for s in again.records.values()) == 11


def test_every_assignment_column_is_read_whatever_the_export(tmp_path):
    """A third assignment column (and a new total column) needs no change to the mapping."""
    export = tmp_path / "canvas_gradebook_export.csv"
    export.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Unit 1 Quiz (101),Essay 1 (102),Lab (Part 2) (103),"
                      "Current Score,Current Points,Final Score\n"
                      "    Points Possible,,,,,10,25,40,(read only),(read only),(read only)\n"
                      "\"Smith, Bob\",11,01103,bsmith01,Section 1,9,EX,,90.00,30,36.00\n"
                      "\"Doe, Jane\",12,13834,jdoe03,\"Section 1, Section 2\",7.5,20,33,82.86,60,82.86\n",
                      encoding="utf-8")
    produced, report = produce(MAPPING, export, params={"export_date": "2025-01-31", "category": "Term 2"})
    assert report["errors"] == [] and report["warnings"] == []
    assert sorted((li["record"]["title"], li["record"]["class"]["sourcedId"], li["record"]["resultValueMax"],
                   li["record"]["metadata"]["canvas"]["assignmentId"]) for li in produced["lineItem"].values()) == [
        ("Essay 1", "S001", 25, "102"), ("Essay 1", "S002", 25, "102"),
        ("Lab (Part 2)", "S001", 40, "103"), ("Lab (Part 2)", "S002", 40, "103"),
        ("Unit 1 Quiz", "S001", 10, "101"), ("Unit 1 Quiz", "S002", 10, "101")]
    lab = {r["record"]["class"]["sourcedId"]: r["record"] for r in produced["result"].values()
           if r["record"].get("score") == 33}
    assert set(lab) == {"S001", "S002"} and lab["S001"]["scoreDate"] == "2025-01-31"
    assert len(produced["result"]) == 2 + 3 * 2  # Bob: quiz and excused essay (no lab grade); Jane: 3 in 2 sections
    assert [c["record"]["title"] for c in produced["category"].values()] == ["Term 2"]
    assert all(li["record"]["assignDate"] == "2025-01-31T00:00:00Z" for li in produced["lineItem"].values())
    # the same assignment's ids as with the two-column sample: ids depend on the assignment id, not on the column order
    sample, _ = produce(MAPPING, EXPORT, params=PARAMS)
    assert set(sample["lineItem"]) < set(produced["lineItem"])


def test_the_export_date_is_a_required_parameter(tmp_path):
    with pytest.raises(MappingError, match=r"mapping.yaml:\d+: missing parameter export_date \(date of the export"):
        produce(MAPPING, EXPORT)
    with pytest.raises(MappingError, match=r"parameter export_date: '20/12/2024' is not a date \(YYYY-MM-DD\)"):
        produce(MAPPING, EXPORT, params={"export_date": "20/12/2024"})
    with pytest.raises(MappingError, match=r"unknown parameter export_dat \(the mapping declares: category, "
                                           r"export_date\)"):
        produce(MAPPING, EXPORT, params={"export_dat": "2024-12-20"})
