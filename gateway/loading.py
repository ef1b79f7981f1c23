"""Plumbing shared by bulk loads into the store: the OneRoster CSV importer and the mapping ingest.

Why shared: both must behave the same way for an operator -- one transaction per load (atomic by default: one
invalid row and nothing is written; ``skip_invalid`` stores the rest and writes a rejects file), the same report
(rows read, created / updated / unchanged / deleted / rejected, errors as ``file:line: field: reason`` capped at
:data:`MAX_ERRORS`), the same progress bar, and the same PostgreSQL statistics refresh during long writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Connection, Engine, text

from gateway.auth.registry import ensure_district
from gateway.storage.records import ACTIVE, RecordWriter

MAX_ERRORS = 200
TICK = 2000
ANALYZE_EVERY = 50_000
COUNTS = ("created", "updated", "unchanged", "deleted")


@dataclass
class FileStats:
    mode: str = ""
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    path: str
    district: str
    version: str = ""
    dry_run: bool = False
    committed: bool = False
    files: dict[str, FileStats] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    errors_omitted: int = 0
    rejects_path: str | None = None
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(s.read for s in self.files.values())

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.files.values())

    @property
    def ok(self) -> bool:
        return not self.errors and not self.rejected

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)
        else:
            self.errors_omitted += 1

    def written_stats(self) -> list[FileStats]:
        """The counters that describe writes (zeroed when the transaction is rolled back)."""
        return list(self.files.values())


def open_rejects(report: ImportReport, path, default: str, *, skip_invalid: bool, dry_run: bool):
    """The rejects file (header written) when rows may be skipped and kept for correction, else None."""
    if not skip_invalid or dry_run:
        return None
    report.rejects_path = str(path or default)
    handle = open(report.rejects_path, "w", newline="", encoding="utf-8")
    handle.write("file,line,reason\r\n")  # then each rejected row: its file, line, reasons and raw values
    return handle


def run_transaction(engine: Engine, report: ImportReport, body: Callable[[Connection], None], *, dry_run: bool,
                    skip_invalid: bool, fatal: tuple = (), rejects=None) -> None:
    """Run ``body(conn)`` in one transaction for ``report.district`` (created if missing), then commit -- unless a
    dry run, or atomic and something was rejected, or a ``fatal`` error (recorded in the report) stopped it."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            ensure_district(conn, report.district)
            body(conn)
            failed = False
        except fatal as error:
            report.error(str(error))
            failed = True
        except BaseException:
            transaction.rollback()
            raise
        finally:
            if rejects is not None:
                rejects.close()
        if not failed and not dry_run and (skip_invalid or not report.errors):
            transaction.commit()
            report.committed = True
        else:
            transaction.rollback()
            # Nothing was (or, in an atomic dry run, would be) written: partial counts would mislead. A dry run with
            # skip_invalid keeps them: they are what the real run would store.
            if report.errors and not (dry_run and skip_invalid):
                for stats in report.written_stats():
                    for key in COUNTS:
                        setattr(stats, key, 0)


def outcome_line(report: ImportReport, verb: str, *, dry_run: bool, skip_invalid: bool) -> str:
    """The last line a load command prints: what happened to the data, in one sentence."""
    rate = f"{report.rows_read:,} rows in {report.seconds:.1f}s"
    if report.committed:
        if report.ok:
            return f"{verb}: {rate}"
        return f"{verb} the valid rows; {report.rejected:,} rejected rows written to {report.rejects_path}"
    if dry_run:
        if report.ok:
            return f"dry run, nothing written: {rate}"
        if skip_invalid and report.rejected:
            return f"dry run, nothing written: {report.rejected:,} invalid rows would be rejected, the rest stored"
        return "dry run, nothing written: the data has errors (see above), so a real run would write nothing"
    if report.rejected:
        return f"nothing written: {report.rejected:,} invalid rows (see above; --skip-invalid stores the rest)"
    return "nothing written"


def progress_reporter(progress) -> Callable[[str, int, int | None], None] | None:
    """progress(name, rows done, rows expected) for a callable; a task per name for a rich Progress."""
    if progress is None or not hasattr(progress, "add_task"):
        return progress
    tasks: dict[str, object] = {}

    def rich(name, done, total):
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=done)
    return rich


class Putter:
    """RecordWriter.put, refreshing PostgreSQL's statistics every :data:`ANALYZE_EVERY` records.

    PostgreSQL plans RecordWriter's "sourced_id IN (...)" batch lookups from statistics; rows written in this
    still-open transaction are invisible to autovacuum, and without fresh statistics the lookups scan every record of
    the type (quadratic). ANALYZE inside the transaction counts our own rows.
    """

    def __init__(self, conn: Connection, writer: RecordWriter):
        self.conn, self.writer, self.puts = conn, writer, 0
        self.analyze = conn.dialect.name == "postgresql"

    def __call__(self, rtype: str, sourced_id: str, doc: dict, status: str = ACTIVE) -> None:
        self.writer.put(rtype, sourced_id, doc, status)
        self.puts += 1
        if self.analyze and self.puts % ANALYZE_EVERY == 0:
            self.conn.execute(text("ANALYZE records, record_links"))
