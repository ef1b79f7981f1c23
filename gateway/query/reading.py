"""Reading OneRoster collections and records: endpoint definitions → SQL conditions → pages.

This is the service the views call. The conditions of a collection (``/schools`` = orgs of type school), of a
relationship endpoint (``/classes/{id}/students`` = users enrolled as students) and of the app's policy all compile
through the same :class:`~gateway.query.sql.Compiler`, so a new endpoint is a line of data in
``standards/oneroster/endpoints.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import select
from sqlalchemy import true

from gateway.query.paging import AnchorCache
from gateway.query.paging import Page
from gateway.query.paging import fetch_page
from gateway.query.sql import Compiler
from gateway.storage.tables import record_links
from gateway.storage.tables import records
from standards.endpoints import Endpoint
from standards.endpoints import load_endpoints


@dataclass(frozen=True)
class ListArgs:
    limit: int
    offset: int
    filter: Any = None              # parsed filter AST over 1.2 paths, or None
    sort: tuple[str, ...] | None = None
    descending: bool = False


def class_of_type(rtype: str) -> str:
    for collection in load_endpoints().collections.values():
        if collection.type == rtype:
            return collection.cls
    raise LookupError(rtype)


def _value(template: Any, params: dict[str, str]) -> str:
    text = str(template)
    if text.startswith("{") and text.endswith("}"):
        return params[text[1:-1]]
    return text


class Reader:
    def __init__(self, model: Any, cache: AnchorCache | None = None):
        self.model = model
        self.cache = cache or AnchorCache()

    def compiler(self, conn: Connection, tenant: str, endpoint: Endpoint) -> Compiler:
        collection = endpoint.collection
        return Compiler(conn.dialect.name, self.model, collection.cls, collection.type, tenant)

    def conditions(self, conn: Connection, tenant: str, endpoint: Endpoint, params: dict[str, str],
                   policy: Any) -> Any:
        """Everything that narrows the endpoint's records, except the request's own filter."""
        compiler = self.compiler(conn, tenant, endpoint)
        collection = endpoint.collection
        parts = [records.c.type == collection.type]
        parts += [compiler.equals(field, _value(value, params)) for field, value in collection.where.items()]
        parts += [compiler.equals(field, _value(value, params)) for field, value in endpoint.where.items()]
        if endpoint.via:
            parts.append(records.c.sourced_id.in_(self._via(conn, tenant, endpoint.via, params)))
        restriction = policy.row_condition(compiler, collection) if policy is not None else None
        if restriction is not None:
            parts.append(restriction)
        return and_(*parts)

    def _via(self, conn: Connection, tenant: str, via: dict, params: dict[str, str]) -> Any:
        rtype = via["type"]
        table = records.alias("via")
        compiler = Compiler(conn.dialect.name, self.model, class_of_type(rtype), rtype, tenant, table)
        condition = and_(table.c.tenant == tenant, table.c.type == rtype, table.c.status == "active",
                         *(compiler.equals(field, _value(value, params)) for field, value in via["where"].items()))
        column, rel = compiler.selected(via["select"])
        if rel is None:
            return select(column).where(condition, column.is_not(None))
        return select(record_links.c.target).where(
            record_links.c.tenant == tenant, record_links.c.type == rtype, record_links.c.rel == rel,
            record_links.c.sourced_id.in_(select(table.c.sourced_id).where(condition)))

    def list(self, conn: Connection, tenant: str, endpoint: Endpoint, params: dict[str, str], policy: Any,
             args: ListArgs, stream: bool = False) -> Page:
        compiler = self.compiler(conn, tenant, endpoint)
        where = self.conditions(conn, tenant, endpoint, params, policy)
        if args.filter is not None:
            where = and_(where, compiler.condition(args.filter))
        order = [records.c.sourced_id]
        if args.sort and args.sort != ("sourcedId",):
            order.insert(0, compiler.sort_expression(args.sort))
        key = (tenant, endpoint.service, endpoint.path, tuple(sorted(params.items())), args.filter, args.sort,
               args.descending, policy)
        return fetch_page(conn, self.cache, key, tenant, where, order, args.descending, args.limit, args.offset,
                          stream, getattr(policy, "epoch", None))

    def get(self, conn: Connection, tenant: str, endpoint: Endpoint, sourced_id: str, policy: Any) -> Any:
        where = self.conditions(conn, tenant, endpoint, {}, policy)
        return conn.execute(select(records).where(
            records.c.tenant == tenant, records.c.sourced_id == sourced_id, where)).first()

    def exists(self, conn: Connection, tenant: str, rtype: str, sourced_id: str, policy: Any = None) -> bool:
        """Whether a record exists *for this app*: one outside its orgs or opted out does not."""
        condition = and_(records.c.tenant == tenant, records.c.type == rtype, records.c.sourced_id == sourced_id)
        if policy is not None:
            compiler = Compiler(conn.dialect.name, self.model, class_of_type(rtype), rtype, tenant)
            restriction = policy.row_condition(compiler, None)
            if restriction is not None:
                condition = and_(condition, restriction)
        return conn.execute(select(true()).where(condition)).first() is not None
