"""Ingesting a source through a mapping file into the store: the mapping engine's output, written atomically.

Why: integrators translate any export (Clever, SIS CSVs, JSON, XML) with a mapping file instead of code; the store
side must behave exactly like the OneRoster CSV importer (gateway/importing.py), whose plumbing it shares
(gateway/loading.py): one transaction, atomic by default, ``skip_invalid`` with a rejects file, a report with
file:line errors, dry runs, and re-running the same input changes nothing (unchanged documents are no-ops and ids are
deterministic). The engine (adapters/mapping) decides what each row produces and why a row is rejected; this module
only writes, counts and deletes:

* ``snapshot`` (default): the input is the whole truth for the record types the mapping produces; records of those
  types not produced this time are marked ``tobedeleted`` (a rejected row's id is left alone, as it is still there).
  A type counts as covered only if at least one of its rules' sources was present.
* ``delta``: only what is present is written; references may also point to records already in the store.
"""
from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine

from adapters.mapping import Engine as MappingEngine
from adapters.mapping import MappingError, MappingErrors, Plan, load_plan, open_inputs
from adapters.mapping.engine import RuleStats
from gateway.loading import FileStats, ImportReport, Putter, open_rejects, progress_reporter, run_transaction
from gateway.storage.records import RecordWriter

MODES = ("snapshot", "delta")
MAX_DELETE = 0.5  # share of a type's stored records one snapshot may retire before it is refused


@dataclass
class IngestReport(ImportReport):
    """ImportReport plus what a mapping adds: rows per source, results per rule and per record type."""

    mapping: str = ""
    mode: str = "snapshot"
    sources: dict[str, int] = field(default_factory=dict)  # source file -> rows read
    rules: dict[str, RuleStats] = field(default_factory=dict)
    records: dict[str, FileStats] = field(default_factory=dict)  # record type -> counts
    reasons: Counter = field(default_factory=Counter)  # "Class.field: reason" -> rejected rows

    @property
    def rows_read(self) -> int:
        return sum(self.sources.values())

    @property
    def rejected(self) -> int:
        return sum(r.rejected for r in self.rules.values())

    def written_stats(self) -> list[FileStats]:
        return list(self.records.values())


def ingest(engine: Engine, mapping, source, district: str, *, mode: str = "snapshot", dry_run: bool = False,
           skip_invalid: bool = False, rejects_path=None, progress=None, plan: Plan | None = None,
           params: dict | None = None, max_delete: float = MAX_DELETE) -> IngestReport:
    """Run a mapping over a source (directory, zip or file) into a district, with the run parameters the mapping
    declares (``params``: name -> value). A snapshot that would mark more than ``max_delete`` (a share, 0..1) of a
    type's stored records tobedeleted is refused. Bad input never raises: see errors."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    started = time.perf_counter()
    report = IngestReport(str(source), district, dry_run=dry_run, mapping=str(mapping), mode=mode)
    try:
        plan = plan or load_plan(mapping)
        inputs = open_inputs(source)
    except MappingErrors as errors:
        for error in errors.errors:
            report.error(str(error))
        return report
    except MappingError as error:
        report.error(str(error))
        return report
    report.version = f"{plan.model.standard} {plan.model.version}"
    rejects = open_rejects(report, rejects_path, _rejects_default(source),
                           skip_invalid=skip_invalid, dry_run=dry_run)
    with inputs:
        def body(conn):
            _Ingest(conn, plan, inputs, report, skip_invalid, rejects and csv.writer(rejects), progress,
                    params, max_delete).execute()
        run_transaction(engine, report, body, dry_run=dry_run, skip_invalid=skip_invalid, fatal=(MappingError,),
                        rejects=rejects)
    report.seconds = time.perf_counter() - started
    return report


def _rejects_default(source) -> str:
    """Beside a local source; for an API source (a URL), in the working directory, named after the host."""
    text = str(source).rstrip("/\\")
    if text.lower().startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        return (urlsplit(text).hostname or "api") + ".rejects.csv"
    return text + ".rejects.csv"


class _Ingest:
    def __init__(self, conn, plan: Plan, inputs, report: IngestReport, skip_invalid: bool, rejects,
                 progress, params: dict | None = None, max_delete: float = 1.0):
        self.conn, self.plan, self.report, self.rejects = conn, plan, report, rejects
        self.max_delete = max_delete
        self.rtypes = {rule.name: rule.rtype for rule in plan.rules}
        self.skip_invalid = skip_invalid
        self.writer = RecordWriter(conn, report.district)
        self.engine = MappingEngine(plan, inputs, existing=self.writer.active_ids, snapshot=report.mode == "snapshot",
                                    now=self.writer.now, progress=progress_reporter(progress), params=params)
        report.rules = self.engine.stats
        report.records = {rtype: FileStats(report.mode) for rtype in plan.covered}

    def execute(self) -> None:
        report, put, writing = self.report, Putter(self.conn, self.writer), True
        try:
            for outcome in self.engine.run():
                if outcome.errors:
                    self._reject(outcome)
                    writing = writing and self.skip_invalid  # atomic: the transaction will be rolled back
                    continue
                if writing:
                    for rtype, sourced_id, doc in outcome.records:
                        put(rtype, sourced_id, doc, doc["status"])  # the mapping's `delete` may say tobedeleted
        finally:
            report.sources = dict(self.engine.source_rows)
            report.reasons = self.engine.reasons
            report.warnings.extend(self.engine.warnings)
            if self.engine.warnings_omitted:
                report.warnings.append(f"... and {self.engine.warnings_omitted:,} more warnings")
        if writing and report.mode == "snapshot":
            ran = {r.rtype for r in self.plan.rules if self.engine.present(r.source)}
            for rtype in self.plan.covered:
                # Nothing to compare for a type the district did not have; otherwise stream the stored ids, so a
                # million of them are not held twice.
                if rtype in ran and self.writer.had_records(rtype):
                    seen, rejected, active = self.engine.seen[rtype], self.engine.rejected[rtype], 0
                    gone = []
                    for sid in self.writer.iter_active_ids(rtype):
                        active += 1
                        if sid not in seen and sid not in rejected:
                            gone.append(sid)
                    self._refuse_mass_deletion(rtype, len(gone), active)
                    self.writer.tombstone(rtype, sorted(gone))
        self.engine.release()
        for rtype, counter in self.writer.close().items():
            stats = report.records.setdefault(rtype, FileStats(report.mode))
            for key in ("created", "updated", "unchanged", "deleted"):
                setattr(stats, key, counter[key])

    def _refuse_mass_deletion(self, rtype: str, gone: int, active: int) -> None:
        """A snapshot that would retire most of a stored type is far likelier the wrong or a truncated file than a
        district that lost most of its students: it is refused, and the whole load rolls back, --skip-invalid or not
        (``--max-delete 100`` says the deletions are meant)."""
        if gone and gone > self.max_delete * active:
            raise MappingError(f"snapshot: {gone:,} of {active:,} stored {rtype} records are not in this source and "
                               f"would be marked tobedeleted (more than {self.max_delete:.0%}); nothing was written. "
                               "Check the source, use --mode delta, or allow it with --max-delete 100")

    def _reject(self, outcome) -> None:
        report = self.report
        rtype = self.rtypes[outcome.rule]
        report.records.setdefault(rtype, FileStats(report.mode)).rejected += 1
        for column, reason in outcome.errors:
            report.error(f"{outcome.place}: {column}: {reason}")
        if self.rejects is not None:
            values = [] if outcome.row is None else ["" if v is None else v for v in outcome.row.values()]
            self.rejects.writerow([outcome.source, outcome.where,
                                   "; ".join(f"{c}: {r}" for c, r in outcome.errors), *values])
