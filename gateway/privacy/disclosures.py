"""The disclosure log: which app received which fields of which students' records, when, and for what stated purpose.

Why: FERPA 34 CFR 99.32 requires a record of disclosures (vendors acting as school officials are exempt, so logging
every vendor read goes beyond the law), and a district can only show parents "who received my child's data" if the
log is complete and trustworthy. So the log is append-only and hash-chained: each entry stores the hash of the one
before, ``hash = sha256(canonical JSON of every other column, seq and prev_hash included)``, and :func:`verify`
recomputes the chain to find the first altered, removed or reordered entry. A one-row head (last seq and hash) orders
concurrent appenders and exposes a truncated tail.

Only field *names* are logged, never values (ASVS 8.3.5): :class:`Disclosure` refuses a mapping of fields and any
string that does not look like a field name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import Integer
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from gateway.storage.db import is_postgres
from gateway.storage.records import utc_now
from gateway.storage.tables import disclosure_head
from gateway.storage.tables import disclosure_student_days
from gateway.storage.tables import disclosures

GENESIS = "0" * 64
MAX_LIMIT = 1000
# A field name or dotted path (``userProfiles[].credentials.type``): dates, SSNs, e-mail addresses and anything with
# spaces or quotes cannot pass, so a value handed in by mistake is refused rather than logged.
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_:-]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_:-]*(\[\])?)*")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_COLUMNS = ("seq", "tenant", "client_id", "occurred_at", "endpoint", "purpose", "record_type", "record_ids",
            "fields", "student_ids", "prev_hash")
_LISTS = ("record_ids", "fields", "student_ids")


class ChainError(RuntimeError):
    """The log cannot be appended to safely (its head is missing while entries exist)."""


def _names(value: Any, what: str, limit: int) -> tuple[str, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a list of strings (names or ids only, never values)")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item or len(item) > limit:
            raise TypeError(f"{what} must hold non-empty strings of at most {limit} characters")
    return items


def _text(value: Any, what: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise ValueError(f"{what} must be a {'non-empty ' if required else ''}string of at most {limit} characters")
    return value


@dataclass(frozen=True)
class Disclosure:
    """One request's disclosure: one app, one endpoint, many records. Validated and normalised on creation.

    ``fields`` are the names of the fields sent (deduplicated, sorted); ``student_ids`` are the students the records
    concern (the caller knows which user records are students, and whose enrollment or result a record is).
    ``endpoint`` is the route pattern, never the URL as requested (no query string). ``occurred_at`` defaults to
    the time of the append.
    """

    tenant: str
    client_id: str
    endpoint: str
    record_type: str
    record_ids: Iterable[str]
    fields: Iterable[str]
    student_ids: Iterable[str] = ()
    purpose: str = ""
    occurred_at: str | None = None

    def __post_init__(self) -> None:
        _text(self.tenant, "tenant", 64)
        _text(self.client_id, "client_id", 64)
        _text(self.record_type, "record_type", 48)
        _text(self.purpose, "purpose", 2000, required=False)
        endpoint = _text(self.endpoint, "endpoint", 512)
        if not endpoint.startswith("/") or any(c in endpoint for c in "?#& \t\r\n"):
            raise ValueError("endpoint must be a route pattern such as /users/{sourcedId}, without a query string")
        if self.occurred_at is not None and not (isinstance(self.occurred_at, str)
                                                 and _INSTANT.fullmatch(self.occurred_at)):
            raise ValueError("occurred_at must look like 2026-01-31T12:00:00.000Z")
        fields = _names(self.fields, "fields", 128)
        for name in fields:
            if not _FIELD.fullmatch(name):
                # The string is not echoed: it may be a student's value.
                raise ValueError("fields takes field names only; got a string that is not a field name")
        object.__setattr__(self, "fields", tuple(sorted(set(fields))))
        object.__setattr__(self, "record_ids", tuple(dict.fromkeys(_names(self.record_ids, "record_ids", 255))))
        object.__setattr__(self, "student_ids", tuple(sorted(set(_names(self.student_ids, "student_ids", 255)))))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (orjson, sorted keys) of the hashed columns, JSON arrays as lists."""
    body = {name: entry[name] for name in _COLUMNS}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _dumps(items: tuple[str, ...]) -> str:
    return orjson.dumps(list(items)).decode()


_COLUMN_LIST = ", ".join((*_COLUMNS, "hash"))
# The driver's own SQL (as in gateway.storage.records): SQLAlchemy's per-statement work cost more than the database
# on SQLite. The student index rows come from the same JSON text that was hashed, so the two cannot disagree.
_APPEND = {
    "qmark": [f"INSERT INTO disclosures ({_COLUMN_LIST}) VALUES ({', '.join('?' * 12)})",
              "INSERT OR IGNORE INTO disclosure_student_days (tenant, student_id, day, client_id) "
              "SELECT ?, value, ?, ? FROM json_each(?)",
              "UPDATE disclosure_head SET hash = ? WHERE id = 1"],
    # One statement, so PostgreSQL appends in two round trips and the head lock is held as briefly as possible.
    "format": [f"WITH entry AS (INSERT INTO disclosures ({_COLUMN_LIST}) VALUES ({', '.join(['%s'] * 12)})), "
               "students AS (INSERT INTO disclosure_student_days (tenant, student_id, day, client_id) "
               "SELECT %s, value, %s, %s FROM jsonb_array_elements_text(CAST(%s AS jsonb)) AS ids(value) "
               "ON CONFLICT DO NOTHING) "
               "UPDATE disclosure_head SET hash = %s WHERE id = 1"],
}
_BUMP = "UPDATE disclosure_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"


def _lock_head(conn: Connection) -> tuple[int, str]:
    """Take the next seq and the previous hash; the UPDATE's row lock holds other appenders until we commit."""
    row = conn.exec_driver_sql(_BUMP).first()
    if row is None:  # a fresh or emptied database; refuse to restart the chain over existing entries
        conn.execute(text("INSERT INTO disclosure_head (id, seq, hash) VALUES (1, 0, :h) ON CONFLICT (id) DO NOTHING"),
                     {"h": GENESIS})
        row = conn.exec_driver_sql(_BUMP).one()
        if row.seq == 1 and conn.execute(select(disclosures.c.seq).limit(1)).first() is not None:
            raise ChainError("the disclosure log's head row is missing; run `trellis audit verify`")
    return row.seq, row.hash


def record(engine: Engine, entry: Disclosure) -> int:
    """Append one entry in its own short transaction and return its seq.

    Its own transaction because the head lock serialises every appender in the database: holding it for the length
    of a caller's transaction would serialise the API. A failure raises and leaves no gap (the head update rolls back).
    """
    if not isinstance(entry, Disclosure):
        raise TypeError("record() takes a Disclosure")
    with engine.begin() as conn:
        seq, prev_hash = _lock_head(conn)
        row: dict[str, Any] = {
            "seq": seq, "tenant": entry.tenant, "client_id": entry.client_id,
            "occurred_at": entry.occurred_at or utc_now(), "endpoint": entry.endpoint, "purpose": entry.purpose,
            "record_type": entry.record_type, "record_ids": list(entry.record_ids), "fields": list(entry.fields),
            "student_ids": list(entry.student_ids), "prev_hash": prev_hash,
        }
        digest = entry_hash(row)
        row.update({name: _dumps(getattr(entry, name)) for name in _LISTS}, hash=digest)
        values = tuple(row[name] for name in (*_COLUMNS, "hash"))
        index = (entry.tenant, row["occurred_at"][:10], entry.client_id, row["student_ids"])
        statements = _APPEND["qmark" if conn.dialect.paramstyle == "qmark" else "format"]
        if len(statements) == 1:
            conn.exec_driver_sql(statements[0], (*values, *index, digest))
        else:
            conn.exec_driver_sql(statements[0], values)
            if entry.student_ids:
                conn.exec_driver_sql(statements[1], index)
            conn.exec_driver_sql(statements[2], (digest,))
    return seq


def _snapshot(engine: Engine):
    """A read-only connection whose reads all see one snapshot, so the head and the log agree under live appends."""
    conn = engine.connect()
    if is_postgres(engine):
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def _check(row: Any, expected: int, prev_hash: str) -> tuple[int, str] | None:
    """The problem with one entry's place in the chain, as (seq to report, reason), or None."""
    if row.seq != expected:
        if row.seq > expected:
            return expected, f"entry missing (the log jumps from {expected - 1} to {row.seq})"
        return row.seq, f"unexpected seq (expected {expected})"
    entry = row._asdict()
    try:
        for name in _LISTS:
            entry[name] = orjson.loads(entry[name])
    except orjson.JSONDecodeError:
        return row.seq, f"unreadable {name}: entry altered"
    if entry_hash(entry) != row.hash:
        return row.seq, "hash mismatch: entry altered or moved"
    if row.prev_hash != prev_hash:
        return row.seq, f"prev_hash does not match entry {row.seq - 1}: an entry was removed, replaced or reordered"
    return None


def _check_chain(conn: Connection, batch: int) -> tuple[int, int, str, tuple[int, str] | None]:
    """Recompute the chain in seq order (streamed): (entries checked, last seq, last hash, first problem)."""
    checked, expected, prev_hash = 0, 1, GENESIS
    result = conn.execute(select(disclosures).order_by(disclosures.c.seq).execution_options(yield_per=batch))
    for rows in result.partitions():
        for row in rows:
            problem = _check(row, expected, prev_hash)
            if problem:
                result.close()
                return checked, expected - 1, prev_hash, problem
            checked, expected, prev_hash = checked + 1, expected + 1, row.hash
    return checked, expected - 1, prev_hash, None


def _check_student_index(conn: Connection, last: int, batch: int) -> tuple[int, str] | None:
    """Compare the (student, day, app) index with the students of the entries, one app-day at a time.

    Entries are read in (tenant, app, time) order, so memory holds one app's students for one day. Within each
    app-day the index must hold exactly the entries' students; a row outside every app-day shows in the total count.
    """
    d, s = disclosures.c, disclosure_student_days.c
    problems: list[tuple[int, str]] = []
    expected_rows = 0

    def compare(key: tuple[str, str, str], wanted: dict[str, int]) -> None:
        actual = set(conn.execute(select(s.student_id).where(s.tenant == key[0], s.client_id == key[1],
                                                             s.day == key[2])).scalars())
        missing = [seq for sid, seq in wanted.items() if sid not in actual]
        if missing:
            problems.append((min(missing), "a student of this entry is missing from the student index"))
        elif actual - wanted.keys():
            problems.append((min(wanted.values()), "student index names a student this entry does not"))

    key, wanted = None, {}
    result = conn.execute(select(d.seq, d.tenant, d.client_id, d.occurred_at, d.student_ids)
                          .order_by(d.tenant, d.client_id, d.occurred_at, d.seq).execution_options(yield_per=batch))
    for row in result:
        row_key = (row.tenant, row.client_id, row.occurred_at[:10])
        if row_key != key:
            if key is not None:
                compare(key, wanted)
                expected_rows += len(wanted)
            key, wanted = row_key, {}
        for sid in orjson.loads(row.student_ids):
            wanted.setdefault(sid, row.seq)
    if key is not None:
        compare(key, wanted)
        expected_rows += len(wanted)
    if problems:
        return min(problems)
    if conn.execute(select(func.count()).select_from(disclosure_student_days)).scalar() != expected_rows:
        return last + 1, "student index row without a log entry"
    return None


def verify(engine: Engine, batch: int = 1000) -> VerifyResult:
    """Recompute the whole chain in seq order (streamed, bounded memory) and report the first bad entry."""
    with _snapshot(engine) as conn, conn.begin():
        head = conn.execute(select(disclosure_head.c.seq, disclosure_head.c.hash).where(
            disclosure_head.c.id == 1)).first()
        checked, last, prev_hash, problem = _check_chain(conn, batch)
        if problem:
            return VerifyResult(False, checked, *problem)
        index_problem = _check_student_index(conn, last, batch)
    if head is None:
        if last:
            return VerifyResult(False, checked, last + 1, f"chain head missing: entries after {last} may be removed")
    elif head.seq > last:
        return VerifyResult(False, checked, last + 1, f"entry missing (the log ends at {last}, its head at {head.seq})")
    elif head.seq < last:
        return VerifyResult(False, checked, head.seq + 1, f"entry beyond the chain head ({head.seq})")
    elif head.hash != prev_hash:
        return VerifyResult(False, checked, last, "chain head hash does not match the last entry")
    if index_problem is not None:
        return VerifyResult(False, checked, *index_problem)
    return VerifyResult(True, checked)


def _instant(value: str | date | datetime, end: bool = False) -> str:
    """The stored timestamp form of a bound. A bare date is a whole day: ``until`` a date includes that day."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if _DAY.fullmatch(value) else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO date or date-time: {value!r}") from None
    try:
        if not isinstance(value, datetime):
            value = datetime.combine(value + timedelta(days=1 if end else 0), datetime.min.time())
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    except OverflowError:  # 9999-12-31 + one day, or 0001-01-01 moved to UTC: callers answer ValueError with a 400
        raise ValueError(f"out of range: {value.isoformat()!r}") from None


def _as_dict(row: Any) -> dict[str, Any]:
    entry = row._asdict()
    for name in _LISTS:
        entry[name] = orjson.loads(entry[name])
    return entry


class _Holds(FunctionElement):
    """Where a text occurs in a column (0: nowhere), case-sensitively on both databases. Not LIKE: SQLite's LIKE
    ignores ASCII case, so a student 'abc' would have matched entries naming only 'ABC'."""
    type = Integer()
    inherit_cache = True


@compiles(_Holds)
def _holds_sqlite(element, compiler, **kw):
    return "instr(%s)" % compiler.process(element.clauses, **kw)


@compiles(_Holds, "postgresql")
def _holds_postgresql(element, compiler, **kw):
    return "strpos(%s)" % compiler.process(element.clauses, **kw)


def _filtered(columns: Any, tenant: str, client_id: str | None, since: Any, until: Any, field: str | None,
              student_id: str | None) -> Any:
    """A SELECT of ``columns`` over one tenant's entries with the district's filters applied."""
    _text(tenant, "tenant", 64)
    d = disclosures.c
    statement = select(*columns).select_from(disclosures).where(d.tenant == tenant)
    if student_id is not None:
        # The index gives the (day, app) pairs; the entry itself must name the student (its JSON-quoted form).
        s = disclosure_student_days.c
        quoted = orjson.dumps(student_id).decode()
        statement = statement.join(disclosure_student_days, and_(
            s.tenant == d.tenant, s.client_id == d.client_id, d.occurred_at >= s.day,
            d.occurred_at < s.day + literal("U"))).where(
            s.tenant == tenant, s.student_id == student_id, _Holds(d.student_ids, literal(quoted)) > 0)
    if client_id is not None:
        statement = statement.where(d.client_id == client_id)
    if since is not None:
        statement = statement.where(d.occurred_at >= _instant(since))
    if until is not None:
        statement = statement.where(d.occurred_at < _instant(until, end=True))
    if field is not None:
        if not isinstance(field, str) or not _FIELD.fullmatch(field):
            raise ValueError(f"not a field name: {field!r}")
        # Names cannot hold quotes or backslashes, so '"name"' matches exactly one element of the JSON array.
        statement = statement.where(_Holds(d.fields, literal(f'"{field}"')) > 0)
    return statement


def query(engine: Engine, tenant: str, *, client_id: str | None = None, since: str | date | datetime | None = None,
          until: str | date | datetime | None = None, field: str | None = None, student_id: str | None = None,
          limit: int = 100, after_seq: int | None = None) -> list[dict[str, Any]]:
    """One tenant's entries in seq order, filtered; page with ``after_seq`` (the last seq of the previous page).

    ``since`` is inclusive, ``until`` exclusive (a bare date includes that day). ``field`` matches entries whose
    field list holds exactly that name; ``student_id`` goes through the (student, day, app) index.
    """
    if not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a positive integer")
    statement = _filtered(disclosures.c, tenant, client_id, since, until, field, student_id)
    if after_seq is not None:
        statement = statement.where(disclosures.c.seq > after_seq)
    statement = statement.order_by(disclosures.c.seq).limit(min(limit, MAX_LIMIT))
    with engine.connect() as conn:
        return [_as_dict(row) for row in conn.execute(statement)]


def apps_summary(engine: Engine, tenant: str, *, since: str | date | datetime | None = None,
                 until: str | date | datetime | None = None, field: str | None = None,
                 student_id: str | None = None) -> list[dict[str, Any]]:
    """Per app, how many matching entries and the first and last time: "which apps received field F"."""
    d = disclosures.c
    statement = _filtered((d.client_id, func.count().label("entries"), func.min(d.occurred_at).label("first"),
                           func.max(d.occurred_at).label("last")), tenant, None, since, until, field, student_id)
    statement = statement.group_by(d.client_id).order_by(d.client_id)
    with engine.connect() as conn:
        return [{"client_id": row.client_id, "entries": row.entries, "first": row.first, "last": row.last}
                for row in conn.execute(statement)]
