"""Golden-file helpers for every bundled mapping: run a mapping on a source (a directory, zip, file or base URL) and
compare the records and the report with golden files, parameterised by mapping, source and golden directory (and
engine options, for delta runs against a simulated store). Regenerate with TRELLIS_UPDATE_GOLDEN=1 after an intended
change, and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

from adapters.mapping import Engine, load_plan, open_inputs


def produce(mapping: Path, source, **engine_options) -> tuple[dict, dict]:
    """(records by type and sourcedId with the place they came from, report of errors, warnings and rule counts).
    A record's status is kept only when it is not active (a mapping's `delete`).
    Warnings name the source directory as ``<source>`` so golden files do not depend on where the samples live."""
    plan = load_plan(mapping)
    with open_inputs(source) as inputs:
        engine = Engine(plan, inputs, **engine_options)
        outcomes = list(engine.run())
    produced: dict = {}
    for outcome in outcomes:
        for rtype, sid, doc in outcome.records:
            content = {k: v for k, v in doc.items() if k != "dateLastModified" and (k != "status" or v != "active")}
            produced.setdefault(rtype, {})[sid] = {"from": outcome.place, "record": content}
    report = {
        "errors": [f"{o.place}: {field}: {reason}" for o in outcomes for field, reason in o.errors],
        "warnings": [w.replace(str(source), "<source>") for w in engine.warnings],
        "rules": {s.rule: {"read": s.read, "produced": s.produced, "rejected": s.rejected,
                           "duplicates": s.duplicates, "filtered": s.filtered} for s in engine.stats.values()},
    }
    return produced, report


def compare(golden: Path, name: str, actual) -> None:
    path = golden / name
    if os.environ.get("TRELLIS_UPDATE_GOLDEN"):
        golden.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert actual == json.loads(path.read_text(encoding="utf-8"))


def check_golden(golden: Path, produced: dict, report: dict) -> None:
    """Every record type and the report match their golden file, and no golden file is left over."""
    for rtype, records in produced.items():
        compare(golden, f"{rtype}.json", records)
    compare(golden, "report.json", report)
    assert sorted(p.stem for p in golden.glob("*.json")) == sorted([*produced, "report"])


def by_field(records: dict, **wanted) -> list[dict]:
    """The records (their content) whose top-level fields equal the given values (references by sourcedId)."""
    found = []
    for entry in records.values():
        record = entry["record"]
        if all((record.get(k, {}).get("sourcedId") if isinstance(record.get(k), dict) else record.get(k)) == v
               for k, v in wanted.items()):
            found.append(record)
    return found
