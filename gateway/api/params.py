"""Parsing and checking the OneRoster query parameters of one request.

Every name a request uses (``fields``, ``filter``, ``sort``) is checked against the class definition *and* the app's
readable fields, and both failures give the same 400: an app cannot probe for fields it may not see.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate

from gateway.errors import BadRequest
from gateway.errors import InvalidFilterField
from gateway.errors import InvalidSelectionField
from gateway.errors import InvalidSortField
from gateway.privacy.profiles import FILTER_KEY
from gateway.query.filtering import And
from gateway.query.filtering import FieldsSyntaxError
from gateway.query.filtering import FilterSyntaxError
from gateway.query.filtering import Or
from gateway.query.filtering import SortSyntaxError
from gateway.query.filtering import parse_fields
from gateway.query.filtering import parse_filter
from gateway.query.filtering import parse_sort
from gateway.query.reading import ListArgs
from gateway.query.sql import UnknownPath
from gateway.query.sql import resolve

# 1.1 names of 1.2 data (a 1.1 user's ``role`` and ``orgs`` come from its 1.2 ``roles``).
V1P1_ALIASES = {"User": {("role",): ("roles", "role"), ("orgs", "sourcedId"): ("roles", "org", "sourcedId"),
                         ("orgs",): ("roles", "org", "sourcedId")}}


class PagingSchema(Schema):
    """The request boundary for paging parameters; the grammar parameters are parsed below."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(strict=False, validate=validate.Range(min=1))
    offset = fields.Integer(strict=False, validate=validate.Range(min=0))


_PAGING = PagingSchema()


def paging(args: Any, default_limit: int, max_limit: int) -> tuple[int, int]:
    """``limit`` (capped at the configured maximum) and ``offset``; a bad value is a 400 naming the parameter."""
    raw = {name: args[name] for name in ("limit", "offset") if args.get(name, "") != ""}
    try:
        values = _PAGING.load(raw)
    except ValidationError as error:
        name, messages = next(iter(error.normalized_messages().items()))
        raise BadRequest(f"{name}: {' '.join(messages)}") from None
    return min(values.get("limit", default_limit), max_limit), values.get("offset", 0)


def readable_path(tree: dict, path: tuple[str, ...]) -> bool:
    node: Any = tree
    for segment in path:
        if node is None:
            return True  # below a readable leaf (a GUIDRef's sourcedId, a metadata key)
        if segment not in node or segment == FILTER_KEY:
            return False
        node = node[segment]
    return True


def check_path(model: Any, class_name: str, tree: dict, path: tuple[str, ...], max_arrays: int = 1) -> bool:
    """A path is usable when the app may read it, the class defines it, and it crosses few enough arrays."""
    if not readable_path(tree, path):
        return False
    if path in {("sourcedId",), ("status",), ("dateLastModified",)}:
        return True
    try:
        resolved = resolve(model, class_name, path)
    except UnknownPath:
        return False
    return len(resolved.array_at) <= max_arrays


def _map_paths(node: Any, mapping: dict) -> Any:
    if isinstance(node, (And, Or)):
        return replace(node, items=tuple(_map_paths(item, mapping) for item in node.items))
    return replace(node, path=mapping.get(node.path, node.path))


def selection(args: Any, allowed: set[str]) -> tuple[str, ...] | None:
    raw = args.get("fields")
    if raw is None or raw.strip() == "":
        return None
    try:
        names = parse_fields(raw)
    except FieldsSyntaxError as error:
        raise InvalidSelectionField(f"fields: {error}") from None
    for name in names:
        if name not in allowed:
            raise InvalidSelectionField(f"fields: {name[:60]!r} is not a field of this resource")
    return names


def list_args(args: Any, model: Any, class_name: str, tree: dict, version: str, default_limit: int,
              max_limit: int) -> ListArgs:
    limit, offset = paging(args, default_limit, max_limit)
    aliases = V1P1_ALIASES.get(class_name, {}) if version == "1.1" else {}
    node = None
    raw_filter = args.get("filter")
    if raw_filter:
        try:
            node = parse_filter(raw_filter, max_predicates=2 if version == "1.1" else None)
        except FilterSyntaxError as error:
            raise InvalidFilterField(str(error)) from None
        node = _map_paths(node, aliases)
        for path in node.fields():
            if not check_path(model, class_name, tree, path):
                raise InvalidFilterField(f"filter: {'.'.join(path)[:60]!r} is not a field of this resource")
    try:
        sort = parse_sort(args.get("sort"), args.get("orderBy"))
    except SortSyntaxError as error:
        raise InvalidSortField(str(error)) from None
    path, descending = sort if sort else (None, False)
    if path is not None:
        path = aliases.get(path, path)
        if not check_path(model, class_name, tree, path, max_arrays=0):
            raise InvalidSortField(f"sort: {'.'.join(path)[:60]!r} is not a sortable field of this resource")
    return ListArgs(limit=limit, offset=offset, filter=node, sort=path, descending=descending)
