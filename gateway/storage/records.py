"""Writing records: batched upserts with change versions, unchanged detection and tombstones.

Every stored change gets a new change version from one counter shared by all processes (a row updated inside the
writing transaction, so versions are unique and commit in order) and a new ``dateLastModified``. Writing the same
content again changes nothing. Deletes are tombstones (``status = tobedeleted``); rows are never silently lost.
Big loads go through :mod:`gateway.storage.bulk` (statements on a writer thread, SQLite indexes rebuilt at the end).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections import defaultdict
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import Iterable
from typing import Iterator

import orjson
from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import text

from gateway.storage import indexing
from gateway.storage.bulk import DeferredIndexes
from gateway.storage.bulk import Pipeline
from gateway.storage.tables import record_links
from gateway.storage.tables import records

BATCH = 2000
ACTIVE, TOBEDELETED = "active", "tobedeleted"
_BASE = ("sourcedId", "status", "dateLastModified")


def utc_now() -> str:
    """The current time in the OneRoster date-time form (UTC, milliseconds, ``Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def content_of(doc: dict) -> dict:
    """The document without the base fields the store keeps in columns."""
    content = dict(doc)
    for key in _BASE:
        content.pop(key, None)
    return content


def content_hash(content: dict) -> str:
    return hashlib.md5(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def allocate_versions(conn: Connection, count: int) -> int:
    """Reserve ``count`` change versions; returns the first. The row lock orders concurrent writers."""
    last = conn.execute(text("UPDATE change_counter SET value = value + :n WHERE id = 1 RETURNING value"),
                        {"n": count}).scalar_one()
    return last - count + 1


_RECORD_COLUMNS = ("tenant", "type", "sourced_id", "status", "date_last_modified", "change_version", "subtype",
                   "org_ref", "class_ref", "user_ref", "parent_ref", "doc_hash", "doc")
_LINK_COLUMNS = ("tenant", "type", "rel", "target", "sourced_id")
_PER_BATCH = ("tenant", "type", "date_last_modified", "change_version")  # parameters, not row values


def _statements(dialect: str) -> dict[str, str]:
    """Upsert and link inserts that take a whole batch as one JSON array of rows, for SQLite and PostgreSQL.

    Why one JSON parameter: the writer thread must retake the GIL after every statement the driver runs, and each
    retake waits for the mapping thread's time slice (5 ms). Row by row, a million records would wait for hours; a
    batch per statement waits once per 2,000 records, and the database unpacks the rows in C, without the GIL. The
    tenant, type and time are parameters, and each row's change version is the batch's first plus the row's index.
    SQLAlchemy's per-row parameter handling is skipped too; it would cost more than the database on a million rows.
    """
    sqlite = dialect == "sqlite"
    mark = "?" if sqlite else "%s"

    def select(columns: tuple[str, ...]) -> str:
        values, index = [], 0
        for name in columns:
            if name == "change_version":
                values.append(f"{mark} + key" if sqlite else "%s::bigint + key - 1")
            elif name in _PER_BATCH:
                values.append(mark if sqlite else "%s::text")
            else:
                values.append(f"json_extract(value, '$[{index}]')" if sqlite else f"value ->> {index}")
                index += 1
        rows = "json_each(?)" if sqlite else "json_array_elements(%s::json) WITH ORDINALITY AS batch(value, key)"
        return f"SELECT {', '.join(values)} FROM {rows}"

    updates = ", ".join(f"{name} = excluded.{name}" for name in _RECORD_COLUMNS[3:])
    return {
        # WHERE true: SQLite would otherwise read ON CONFLICT's ON as a join constraint of the SELECT.
        "upsert": f"INSERT INTO records ({', '.join(_RECORD_COLUMNS)}) {select(_RECORD_COLUMNS)} WHERE true "
                  f"ON CONFLICT (tenant, type, sourced_id) DO UPDATE SET {updates}",
        "links": f"INSERT INTO record_links ({', '.join(_LINK_COLUMNS)}) {select(_LINK_COLUMNS)}",
    }


class RecordWriter:
    """Applies record writes for one tenant within the caller's transaction, in batches.

    ``put`` buffers; ``flush`` (called automatically every :data:`BATCH` records and by ``close``) compares content
    hashes with what is stored, and writes only what changed. ``stats`` counts created / updated / unchanged /
    deleted per record type. Once a load fills a whole batch, the statements of each batch run on a writer thread
    while the caller goes on; ``close`` (or the transaction's commit) waits for them. Smaller writes run inline.
    """

    def __init__(self, conn: Connection, tenant: str, now: str | None = None):
        self.conn = conn
        self.tenant = tenant
        self.now = now or utc_now()
        self.stats: dict[str, Counter] = defaultdict(Counter)
        self._pending: list[tuple[str, str, dict, str]] = []
        self._qmark = conn.dialect.paramstyle == "qmark"
        self._sql = _statements(conn.dialect.name)
        self._fresh: dict[str, bool] = {}
        # Small writes (an API request, a test seed) run inline with no pipeline, hooks or deferred indexes; a load
        # that fills a whole batch gets them (``_pipeline`` set) from then on.
        self._indexes = DeferredIndexes(conn)
        self._pipeline: Pipeline | None = None

    def put(self, rtype: str, sourced_id: str, doc: dict, status: str = ACTIVE) -> None:
        self._pending.append((rtype, sourced_id, content_of(doc), status))
        if len(self._pending) >= BATCH:
            if self._pipeline is None:  # a big load: from now on batches go to the writer thread
                self._pipeline = Pipeline(self.conn, before_commit=self._indexes.restore,
                                          after_rollback=self._indexes.forget)
            self.flush()

    def flush(self) -> None:
        by_type: dict[str, list[tuple[str, dict, str]]] = defaultdict(list)
        for rtype, sourced_id, content, status in self._pending:
            by_type[rtype].append((sourced_id, content, status))
        self._pending = []
        for rtype, items in by_type.items():
            self._write(rtype, items)

    def _stored(self, rtype: str, ids: list[str]) -> dict[str, tuple[str, str]]:
        """Hash and status of the given ids that exist; nothing to look up for a type the district never had."""
        if not self.had_records(rtype):
            return {}
        sql = "SELECT sourced_id, doc_hash, status FROM records WHERE tenant = {m} AND type = {m} AND sourced_id "
        if self._qmark:
            statement = sql.format(m="?") + "IN (" + ",".join("?" * len(ids)) + ")"
            params: tuple = (self.tenant, rtype, *ids)
        else:  # one array parameter: an IN list of thousands of parameters plans badly on PostgreSQL
            statement, params = sql.format(m="%s") + "= ANY(%s)", (self.tenant, rtype, ids)
        return {sid: (digest, status) for sid, digest, status in self.conn.exec_driver_sql(statement, params)}

    def _write(self, rtype: str, items: list[tuple[str, dict, str]]) -> None:
        latest = {sourced_id: (content, status) for sourced_id, content, status in items}
        stored = self._stored(rtype, list(latest))
        changed = []
        for sourced_id, (content, status) in latest.items():
            digest = content_hash(content)
            before = stored.get(sourced_id)
            if before == (digest, status):
                self.stats[rtype]["unchanged"] += 1
                continue
            self.stats[rtype]["updated" if before else "created"] += 1
            changed.append((sourced_id, content, status, digest))
        if not changed:
            return
        tenant, now, existing = self.tenant, self.now, [sid for sid, *_ in changed if sid in stored]
        prepared, links = [], []
        for sourced_id, content, status, digest in changed:
            columns, pairs = indexing.extract(rtype, sourced_id, content)
            prepared.append((sourced_id, status, *columns, digest, orjson.dumps(content).decode()))
            links.extend((rel, target, sourced_id) for rel, target in pairs)
        count, rows = len(prepared), orjson.dumps(prepared).decode()
        link_rows = orjson.dumps(links).decode() if links else None

        def job() -> None:
            version = allocate_versions(self.conn, count)
            self.conn.exec_driver_sql(self._sql["upsert"], (tenant, rtype, now, version, rows))
            if existing and rtype in indexing.LINKS:
                # Rewriting stored records deletes their links by id: that needs the link index back (a load that
                # is mostly new but also rewrites stored users would otherwise scan the type's links every batch).
                self._indexes.restore()
                self.conn.execute(delete(record_links).where(
                    record_links.c.tenant == tenant, record_links.c.type == rtype,
                    record_links.c.sourced_id.in_(existing)))
            if link_rows:
                self.conn.exec_driver_sql(self._sql["links"], (tenant, rtype, link_rows))
            if self._pipeline is not None:  # only where the commit hook will put dropped indexes back
                self._indexes.note_inserts(count - len(existing))

        if self._pipeline is None:
            job()
        else:
            self._pipeline.submit(job)

    def had_records(self, rtype: str) -> bool:
        """Whether the district held records of this type before this writer wrote any."""
        if rtype not in self._fresh:
            self._fresh[rtype] = self.conn.execute(select(records.c.sourced_id).where(
                records.c.tenant == self.tenant, records.c.type == rtype).limit(1)).first() is None
        return not self._fresh[rtype]

    def tombstone(self, rtype: str, sourced_ids: Iterable[str]) -> int:
        """Mark records ``tobedeleted`` (new version, new dateLastModified); already-deleted ones stay as they are."""
        self.flush()
        ids = list(sourced_ids)
        count = 0
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            active = [row.sourced_id for row in self.conn.execute(select(records.c.sourced_id).where(
                records.c.tenant == self.tenant, records.c.type == rtype, records.c.status == ACTIVE,
                records.c.sourced_id.in_(chunk)))]
            if not active:
                continue
            version = allocate_versions(self.conn, len(active))
            mark = "?" if self._qmark else "%s"
            self.conn.exec_driver_sql(
                f"UPDATE records SET status = {mark}, date_last_modified = {mark}, change_version = {mark} "
                f"WHERE tenant = {mark} AND type = {mark} AND sourced_id = {mark}",
                [(TOBEDELETED, self.now, version + offset, self.tenant, rtype, sourced_id)
                 for offset, sourced_id in enumerate(active)])
            count += len(active)
        self.stats[rtype]["deleted"] += count
        return count

    def active_ids(self, rtype: str, where: Any = None) -> set[str]:
        """Ids of the active records of a type (optionally narrowed), for bulk-file tombstoning."""
        return set(self.iter_active_ids(rtype, where))

    def iter_active_ids(self, rtype: str, where: Any = None) -> Iterator[str]:
        """The same ids streamed in batches, so a caller comparing a million of them need not hold them twice."""
        condition = and_(records.c.tenant == self.tenant, records.c.type == rtype, records.c.status == ACTIVE)
        if where is not None:
            condition = and_(condition, where)
        result = self.conn.execute(select(records.c.sourced_id).where(condition).execution_options(yield_per=5000))
        for sourced_ids in result.scalars().partitions():
            yield from sourced_ids

    def close(self) -> dict[str, Counter]:
        """Write what is buffered, wait for the writer thread and put back deferred indexes; returns ``stats``."""
        self.flush()
        if self._pipeline is not None:
            self._pipeline.close()
        self._indexes.restore()
        return self.stats



def render_base(row: Any) -> dict[str, Any]:
    """The stored document with its base fields restored, in the standard's order."""
    doc: dict[str, Any] = {"sourcedId": row.sourced_id, "status": row.status,
                           "dateLastModified": row.date_last_modified}
    doc.update(orjson.loads(row.doc))
    return doc
