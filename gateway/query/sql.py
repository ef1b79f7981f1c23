"""Compile parsed OneRoster filters and sorts into SQL over the generic record store.

A dotted path resolves first to an indexed column or link relation (:mod:`gateway.storage.indexing`), and only
otherwise to an expression on the JSON document (``json_extract`` on SQLite, ``jsonb`` operators on PostgreSQL). A
segment that is an array matches when any element matches. Whether a path exists, which segments are arrays and which
values are numbers comes from the standards definitions, so nothing here is written per resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float
from sqlalchemy import Text
from sqlalchemy import and_
from sqlalchemy import cast
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from gateway.errors import BadRequest
from gateway.query.filtering import And
from gateway.query.filtering import Or
from gateway.storage import indexing
from gateway.storage.tables import record_links
from gateway.storage.tables import records

NUMERIC = {"integer", "number"}
_REF_FIELDS = {"sourcedId": "string", "type": "string", "href": "uri"}


class UnknownPath(LookupError):
    """A path that names no field of the class (the caller picks the error code)."""


@dataclass(frozen=True)
class ResolvedPath:
    segments: tuple[str, ...]
    array_at: tuple[int, ...]   # indexes of segments whose field is an array
    type: str                   # type of the leaf field


def resolve(model: Any, class_name: str, path: tuple[str, ...]) -> ResolvedPath:
    """Walk a dotted path through the model; raise :class:`UnknownPath` if any segment is not a field."""
    cls = model.classes[class_name]
    arrays: list[int] = []
    leaf_type = "object"
    ref_mode = False
    for index, segment in enumerate(path):
        if ref_mode:
            if segment not in _REF_FIELDS:
                raise UnknownPath(".".join(path))
            leaf_type, ref_mode = _REF_FIELDS[segment], False
            continue
        if cls is None:
            if leaf_type == "metadata":
                leaf_type = "string"  # free-form extension keys below metadata
                continue
            raise UnknownPath(".".join(path))
        field = cls.fields.get(segment)
        if field is None:
            raise UnknownPath(".".join(path))
        if field.many:
            arrays.append(index)
        leaf_type = field.type
        if field.type == "object":
            cls = model.classes.get(field.cls)
        elif field.type == "ref":
            cls, ref_mode = None, True
        else:
            cls = None
    return ResolvedPath(tuple(path), tuple(arrays), leaf_type)


class Compiler:
    """Builds SQL conditions for one record type against a (possibly aliased) records table."""

    def __init__(self, dialect: str, model: Any, class_name: str, rtype: str, tenant: str, table: Any = records):
        self.tenant = tenant
        self.postgres = dialect == "postgresql"
        self.model = model
        self.class_name = class_name
        self.rtype = rtype
        self.table = table

    # -- filters ---------------------------------------------------------------------------------------------
    def condition(self, node: Any) -> ColumnElement:
        if isinstance(node, And):
            return and_(*(self.condition(item) for item in node.items))
        if isinstance(node, Or):
            return or_(*(self.condition(item) for item in node.items))
        return self.predicate(node.path, node.op, node.value)

    def predicate(self, path: tuple[str, ...], op: str, value: str) -> ColumnElement:
        dotted = ".".join(path)
        column = indexing.column_for(self.rtype, dotted)
        if column is not None:
            return _compare(self.table.c[column], op, value)
        rel = indexing.link_for(self.rtype, dotted)
        if rel is not None:
            return self._link(rel, op, value)
        resolved = resolve(self.model, self.class_name, path)
        if len(resolved.array_at) > 1:
            raise UnknownPath(dotted)
        numeric = resolved.type in NUMERIC
        if numeric and op != "~":
            try:
                value = float(value)  # type: ignore[assignment]
            except ValueError:
                raise BadRequest(f"filter: {dotted} takes a number, not {value!r}") from None
        if not resolved.array_at:
            return _compare(self._scalar(self.table.c.doc, path, numeric), op, value)
        split = resolved.array_at[0] + 1
        element = self._elements(self.table.c.doc, path[:split])
        leaf = self._scalar(element.c.value, path[split:], numeric, element=True)
        if op == "!=":
            return not_(exists(select(literal(1)).select_from(element).where(_compare(leaf, "=", value))))
        return exists(select(literal(1)).select_from(element).where(_compare(leaf, op, value)))

    def _link(self, rel: str, op: str, value: str) -> ColumnElement:
        """A condition on a many-valued indexed path, shaped by how selective the path is.

        A reference (``roles.org.sourcedId``) matches few records: ``IN`` drives the query from the links index. A
        category (``roles.role``, ``grades``) may match nearly all of them, where an ``IN`` would materialise every
        link on every request; a correlated ``EXISTS`` probes the links key once per row scanned in page order.
        """
        links = record_links
        matches = _compare(links.c.target, "=" if op == "!=" else op, value)
        if indexing.LINKS[self.rtype][rel].endswith("sourcedId"):
            condition = self.table.c.sourced_id.in_(select(links.c.sourced_id).where(
                links.c.tenant == self.tenant, links.c.type == self.rtype, links.c.rel == rel, matches))
        else:
            condition = exists(select(literal(1)).where(
                links.c.tenant == self.tenant, links.c.type == self.rtype,
                links.c.sourced_id == self.table.c.sourced_id, links.c.rel == rel, matches))
        return not_(condition) if op == "!=" else condition

    def _scalar(self, doc: Any, path: tuple[str, ...], numeric: bool, element: bool = False) -> ColumnElement:
        if self.postgres:
            base = type_coerce(doc, JSONB) if element else cast(doc, JSONB)
            expr = base.op("#>>")(_pg_path(path))
        else:
            expr = func.json_extract(doc, "$" + "".join("." + _quote(p) for p in path)) if path else doc
        return cast(expr, Float) if numeric else expr

    def _elements(self, doc: Any, path: tuple[str, ...]) -> Any:
        if self.postgres:
            array = cast(doc, JSONB).op("#>", return_type=JSONB)(_pg_path(path))
            return func.jsonb_array_elements(array).table_valued("value").alias()
        return func.json_each(doc, "$" + "".join("." + _quote(p) for p in path)).table_valued("value").alias()

    # -- sorting ---------------------------------------------------------------------------------------------
    def sort_expression(self, path: tuple[str, ...]) -> ColumnElement:
        """An orderable expression for a scalar path (arrays cannot be sorted on)."""
        dotted = ".".join(path)
        column = indexing.column_for(self.rtype, dotted)
        if column is not None:
            return func.coalesce(self.table.c[column], "")
        resolved = resolve(self.model, self.class_name, path)
        if resolved.array_at:
            raise UnknownPath(dotted)
        if resolved.type in NUMERIC:
            return func.coalesce(self._scalar(self.table.c.doc, path, True), 0.0)
        return func.coalesce(self._scalar(self.table.c.doc, path, False), "")

    def equals(self, field: str, value: str) -> ColumnElement:
        """The condition ``field = value`` used by collection and relationship definitions."""
        return self.predicate(tuple(field.split(".")), "=", value)

    def selected(self, field: str) -> Any:
        """A scalar subquery column yielding ``field`` (an indexed column or a link target) of this type."""
        column = indexing.column_for(self.rtype, field)
        if column is not None:
            return self.table.c[column], None
        rel = indexing.link_for(self.rtype, field)
        if rel is None:
            raise LookupError(f"{self.rtype}.{field} is neither an indexed column nor a link")
        return record_links.c.target, rel


def _pg_path(path: tuple[str, ...]) -> ColumnElement:
    return cast(literal(list(path), ARRAY(Text)), ARRAY(Text))


def _quote(segment: str) -> str:
    return segment if segment.isidentifier() else '"' + segment.replace('"', '') + '"'


def _compare(expr: Any, op: str, value: Any) -> ColumnElement:
    if op == "=":
        return expr == value
    if op == "!=":
        return or_(expr != value, expr.is_(None))
    if op == ">":
        return expr > value
    if op == ">=":
        return expr >= value
    if op == "<":
        return expr < value
    if op == "<=":
        return expr <= value
    if op == "~":
        return func.lower(cast(expr, Text)).contains(str(value).lower(), autoescape=True)
    raise BadRequest(f"filter: unknown operator {op!r}")

