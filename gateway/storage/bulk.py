"""What makes RecordWriter fast on big loads: database work overlapped with the caller's, and indexes rebuilt instead
of maintained once a load outgrows the table.

Why: a district's first load (a million enrollments through a mapping) spends most of its time inside the database:
SQLite inserts five or six random-key index entries per record. Two things help without changing what is stored or
what other processes see:

* :class:`Pipeline`: the drivers release the GIL while the database works, so one writer thread runs each batch's
  statements while the caller maps the next rows. At most one batch is in flight. Any other statement on the
  connection, from any code, waits for it first (a ``before_cursor_execute`` hook), and so do commit and rollback.
  The connection is never used by two threads at once, and statements keep their order.
* :class:`DeferredIndexes` (SQLite only): once one transaction has inserted more new records than the table held when
  it began (and at least :data:`DEFER_AFTER`), entry-by-entry index upkeep costs more than a rebuild. The secondary
  indexes of ``records`` and ``record_links`` are then dropped inside the transaction and recreated from their
  stored definitions before it commits. Other processes keep reading the last committed state, indexes included
  (WAL), and a rollback brings them back untouched. PostgreSQL is never switched: DROP INDEX there would lock every
  reader out for the whole load.
"""
from __future__ import annotations

import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from sqlalchemy import Connection, event

DEFER_AFTER = 50_000
SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005
_TABLES = ("records", "record_links")
# Kept while loading: its key (tenant, change_version) only grows, so each insert appends to the last page, which is
# cheaper than the full-table scan a rebuild would cost.
_KEEP = ("ix_records_version",)


class _Loading:
    """The process-wide thread switch interval, shortened while any pipeline runs and put back by the last one."""

    def __init__(self):
        self._lock, self._active, self._saved = threading.Lock(), 0, 0.0

    def start(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, SWITCH_INTERVAL))
            self._active += 1

    def stop(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                sys.setswitchinterval(self._saved)


_loading = _Loading()


class Pipeline:
    """Runs jobs ``job()`` on one writer thread, one at a time, in submission order."""

    def __init__(self, conn: Connection, before_commit: Callable[[], None] | None = None,
                 after_rollback: Callable[[], None] | None = None):
        self.conn = conn
        self.before_commit, self.after_rollback = before_commit, after_rollback
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future | None = None
        self._local = threading.local()
        self._closed = False
        event.listen(conn, "before_cursor_execute", self._before_execute)
        event.listen(conn, "commit", self._on_commit)
        event.listen(conn, "rollback", self._on_rollback)

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the writer thread once the previous one is done (its error, if any, is raised here); after
        :meth:`close`, here and now."""
        self.wait()
        if self._closed:
            job()
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="trellis-writer")
            # The writer thread retakes the GIL after each statement; by default it may wait 5 ms for the mapping
            # thread to hand it over, which was a quarter of a million-row load. Shorter slices while loading.
            _loading.start()
        self._future = self._pool.submit(self._run, job)

    def _run(self, job: Callable[[], None]) -> None:
        self._local.worker = True
        job()

    def wait(self) -> None:
        """Block until the job in flight is done; re-raise its error."""
        future, self._future = self._future, None
        if future is not None:
            future.result()

    def close(self) -> None:
        """Wait for the last job and stop the thread (idempotent); later jobs run inline."""
        self._closed = True
        try:
            self.wait()
        finally:
            self._stop()
            for name, fn in (("before_cursor_execute", self._before_execute), ("commit", self._on_commit),
                             ("rollback", self._on_rollback)):
                if event.contains(self.conn, name, fn):
                    event.remove(self.conn, name, fn)

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
            _loading.stop()

    def _before_execute(self, *_args) -> None:
        if self._future is not None and not getattr(self._local, "worker", False):
            self.wait()

    def _on_commit(self, _conn) -> None:
        try:
            self.wait()
        finally:
            self._stop()
        if self.before_commit is not None:
            self.before_commit()

    def _on_rollback(self, _conn) -> None:
        future, self._future = self._future, None
        if future is not None:
            future.exception()  # wait; the error already failed the load, and the rollback undoes the job
        self._stop()
        if self.after_rollback is not None:
            self.after_rollback()


class DeferredIndexes:
    """Drops the store's secondary indexes for the rest of a big SQLite load; :meth:`restore` puts them back."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.enabled = conn.dialect.name == "sqlite"
        self.inserted = 0
        self.dropped: list[tuple[str, str]] = []  # (name, CREATE INDEX statement), in creation order
        self.settled = False  # restored (or never worth dropping again) in this transaction
        self._before: int | None = None  # rows in the table before this load

    def note_inserts(self, count: int) -> None:
        """Count newly inserted records; drop the indexes when the load has outgrown the table."""
        if not self.enabled or self.dropped or self.settled or not count:
            return
        self.inserted += count
        if self.inserted < DEFER_AFTER:
            return
        if self._before is None:  # the highest rowid is the table's size, near enough, without counting rows
            highest = self._cursor().execute("SELECT coalesce(max(rowid), 0) FROM records").fetchone()[0]
            self._before = highest - self.inserted
        if self.inserted >= self._before:  # more new rows than the table held before this load
            self._drop()

    def _cursor(self):
        # The DBAPI cursor: this also runs from the commit hook, where a nested SQLAlchemy execute is not wanted.
        return self.conn.connection.dbapi_connection.cursor()

    def _drop(self) -> None:
        cursor = self._cursor()
        marks = ",".join("?" * len(_TABLES))
        self.dropped = [(name, sql) for name, sql in cursor.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks}) "
            "ORDER BY rowid", _TABLES) if name not in _KEEP]
        for name, _sql in self.dropped:
            cursor.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        """Recreate the dropped indexes (idempotent). SQLite sorts each in the cache's memory, spilling to temporary
        files; its helper threads ("PRAGMA threads") were no faster here and took 100 MB more at a million records."""
        if not self.dropped:
            return
        cursor = self._cursor()
        for _name, sql in self.dropped:
            cursor.execute(sql)
        self.dropped, self.settled = [], True  # not dropped twice in one transaction

    def forget(self) -> None:
        """After a rollback: SQLite has put the indexes back itself."""
        self.dropped, self.settled = [], False
        self.inserted, self._before = 0, None
