"""Offset paging that stays fast at any depth: keyset seeks from cached anchors.

OneRoster clients page with ``limit``/``offset``, and a plain ``OFFSET`` walks every preceding row, so the last page
of a large collection costs a full scan. Instead, one ordered pass over the matching keys records the total (for
``X-Total-Count``) and every :data:`STRIDE`-th sort key (an *anchor*). A page then seeks to the anchor at or before its
offset through the index and skips fewer than :data:`STRIDE` rows. Anchors are cached per query and validated against
the tenant's current change version, so a write by any process invalidates them on the next request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import tuple_

from gateway.storage.tables import records
from gateway.storage.tables import student_optouts

STRIDE = 1000
CACHE_SIZE = 256
_ROW_COLUMNS = (records.c.sourced_id, records.c.status, records.c.date_last_modified, records.c.doc)


@dataclass(frozen=True)
class Anchors:
    epoch: int
    total: int
    keys: tuple[tuple[Any, ...], ...]  # keys[i] is the sort key of the row at position i * STRIDE


class AnchorCache:
    def __init__(self, size: int = CACHE_SIZE):
        self._entries: OrderedDict[Any, Anchors] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Any, epoch: int) -> Anchors | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.epoch != epoch:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Any, anchors: Anchors) -> None:
        with self._lock:
            self._entries[key] = anchors
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def epoch(conn: Connection, tenant: str) -> int:
    """The tenant's newest change version: any record write or opt-out change, by any process, bumps it."""
    # Two scalar subqueries, each answered from the end of an index (a UNION would scan).
    row = conn.execute(select(
        select(func.max(records.c.change_version)).where(records.c.tenant == tenant).scalar_subquery(),
        select(func.max(student_optouts.c.change_version)).where(student_optouts.c.tenant == tenant)
        .scalar_subquery())).one()
    return max(row[0] or 0, row[1] or 0)


@dataclass
class Page:
    total: int
    rows: Any  # an iterable of rows with sourced_id, status, date_last_modified, doc


def fetch_page(conn: Connection, cache: AnchorCache, key: Any, tenant: str, where: Any, order: list[Any],
               descending: bool, limit: int, offset: int, stream: bool = False, current: int | None = None) -> Page:
    """One page of matching records in ``order`` (the last element must be unique, e.g. sourced_id).

    ``key`` identifies the query (everything that shapes ``where`` and ``order``) for the anchor cache; building it
    from the request's parsed inputs is much cheaper than compiling the SQL to compare it. ``current`` is the
    tenant's change version when the caller already read it (the token lookup does), saving a round trip.
    """
    condition = and_(records.c.tenant == tenant, where)
    if current is None:
        current = epoch(conn, tenant)
    anchors = cache.get(key, current)
    if anchors is None:
        anchors = _compute(conn, condition, order, descending, current)
        cache.put(key, anchors)
    if offset >= anchors.total or limit == 0:
        return Page(anchors.total, [])
    slot = min(offset // STRIDE, len(anchors.keys) - 1)
    statement = select(*_ROW_COLUMNS).where(condition)
    if slot > 0:
        bound = tuple_(*order)
        anchor = tuple_(*anchors.keys[slot])
        statement = statement.where(bound <= anchor if descending else bound >= anchor)
    ordering = [column.desc() for column in order] if descending else list(order)
    statement = statement.order_by(*ordering).limit(limit).offset(offset - slot * STRIDE)
    if stream:
        return Page(anchors.total, conn.execution_options(stream_results=True, yield_per=500).execute(statement))
    return Page(anchors.total, conn.execute(statement).all())


def _compute(conn: Connection, condition: Any, order: list[Any], descending: bool, current: int) -> Anchors:
    ordering = [column.desc() for column in order] if descending else list(order)
    keyed = [column.label(f"k{index}") for index, column in enumerate(order)]
    numbered = select(*keyed, func.row_number().over(order_by=ordering).label("rn"),
                      func.count().over().label("total")).where(condition).subquery()
    key_columns = [numbered.c[f"k{index}"] for index in range(len(order))]
    rows = conn.execute(select(*key_columns, numbered.c.total).where(
        (numbered.c.rn - 1) % literal_column(str(STRIDE)) == 0).order_by(numbered.c.rn)).all()
    if not rows:
        return Anchors(current, 0, ())
    return Anchors(current, rows[0][-1], tuple(tuple(row[:-1]) for row in rows))
