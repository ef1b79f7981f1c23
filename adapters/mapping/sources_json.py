"""The ``json`` and ``jsonl`` source formats: records found by a dotted path, nested members as dotted columns.

Why two formats in one module: JSON Lines is JSON one record per line, streamed, with a malformed line rejecting only
itself; a JSON document is parsed whole (orjson), so very large exports should use JSON Lines. E17 in the reference
notes applies: the same member may be an object in one export and a list in another, so an object found at the
records path is taken as one record.
"""
from __future__ import annotations

import codecs
from typing import Iterator

import orjson

from .errors import MappingError, SourceError
from .sources import _ZIP_ERRORS, Format, Inputs, register


def flatten(record: dict, out: dict | None = None, prefix: str = "", depth: int = 0) -> dict:
    """A JSON object with nested objects also reachable as dotted names ('name.givenName')."""
    out = {} if out is None else out
    for key, value in record.items():
        out[prefix + key] = value
        if type(value) is dict and depth < 20:
            flatten(value, out, f"{prefix}{key}.", depth + 1)
    return out


def _path(document, path: str | None):
    if not path:
        return document
    for part in path.split("."):
        if not isinstance(document, dict) or part not in document:
            return _MISSING
        document = document[part]
    return document


_MISSING = object()


def record_row(record, columns: dict, where: str) -> tuple:
    """One JSON record as a source row ``(where, row, problem)``: its flattened members plus the declared ``columns``
    (name -> member path). Shared by the json, jsonl and http formats."""
    if not isinstance(record, dict):
        return where, {}, f"record: not an object ({type(record).__name__})"
    row = flatten(record)
    for name, member in columns.items():
        value = _path(record, member)
        row[name] = None if value is _MISSING else value
    return where, row, None


def check_columns(spec) -> None:
    """JSON columns are dotted paths (the {xpath, list} form is XML's)."""
    for name, path in (spec.options.get("columns") or {}).items():
        if not isinstance(path, str):
            raise MappingError(f"sources.{spec.name}: columns.{name}: a dotted path inside the record (text)",
                               *spec.declared)


@register
class JsonFormat(Format):
    """A JSON document (parsed whole): ``records`` is the dotted path to the list of records (an object found
    there is one record); ``columns`` adds named columns from dotted paths inside each record."""

    name = "json"
    options = frozenset({"records", "columns"})

    def __init__(self, spec):
        super().__init__(spec)
        check_columns(spec)

    def _records(self, document, where: str) -> Iterator[tuple]:
        path = self.spec.options.get("records")
        found = _path(document, path)
        if found is _MISSING:
            raise SourceError(f"{where}: no '{path}' in the document (records path)")
        items = found if isinstance(found, list) else [found] if isinstance(found, dict) else None
        if items is None:
            raise SourceError(f"{where}: '{path or '(top)'}' holds {type(found).__name__}, not records")
        columns = self.spec.options.get("columns") or {}
        prefix = path or ""
        for index, record in enumerate(items):
            yield record_row(record, columns, f"{prefix}[{index}]")

    def rows(self, inputs: Inputs, wanted: set) -> Iterator[tuple]:
        raw = self.read_all(inputs)
        try:
            document = orjson.loads(raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw)
        except orjson.JSONDecodeError as error:
            raise SourceError(f"{self.label}:{error.lineno}: not valid JSON ({error.msg})") from None
        for at, row, problem in self._records(document, self.label):
            if problem is None:
                self._check_required(row, f"{self.label}:{at}")
            yield at, row, problem


@register
class JsonLinesFormat(JsonFormat):
    """One JSON object per line, streamed; a malformed line rejects that line only."""

    name = "jsonl"

    def rows(self, inputs: Inputs, wanted: set) -> Iterator[tuple]:
        try:
            with self.open(inputs) as raw:
                for number, line in enumerate(raw, 1):
                    if number == 1 and line.startswith(codecs.BOM_UTF8):
                        line = line[3:]
                    if not line.strip():
                        continue
                    try:
                        document = orjson.loads(line)
                    except orjson.JSONDecodeError as error:
                        yield number, {}, f"line: not valid JSON ({error.msg})"
                        continue
                    try:
                        for _at, row, problem in self._records(document, f"{self.label}:{number}"):
                            if problem is None:
                                self._check_required(row, f"{self.label}:{number}")
                            yield number, row, problem
                    except SourceError as error:
                        yield number, {}, str(error).split(": ", 1)[1]
        except _ZIP_ERRORS as error:
            raise SourceError(f"{self.label}: cannot be read (truncated or corrupt: {error})") from None

    def prepare(self, inputs: Inputs) -> int | None:
        return None
