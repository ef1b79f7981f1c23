"""Crosswalks (value maps) and lookup tables (joins): the data a mapping declares besides its rules.

Why apart: both are loaded once and consulted per row by expressions (``map(...)``, ``lookup(...)``); a crosswalk file
is a mapping's data, so its problems (missing file, one value mapped to two targets) are mapping errors naming the file
and line.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import functions as fn
from .errors import MappingError, RowError


@dataclass
class Crosswalk:
    """A value map (inline or from a CSV file): translate(value) or RowError naming the crosswalk."""

    name: str
    table: dict
    insensitive: bool = True
    default: Any = None
    has_default: bool = False
    origin: str = ""

    def translate(self, value):
        if value is None or value == "":
            return None
        key = fn.text(value).strip()
        try:
            return self.table[key.casefold() if self.insensitive else key]
        except KeyError:
            if self.has_default:
                return self.default
            raise RowError(f"{fn.show(value)} is not in crosswalk '{self.name}' ({self.origin})") from None


@dataclass
class LookupTable:
    """A declared join table, filled from its source before the rules run: key -> {column: value}, or key -> list of
    them for a ``many`` table. ``unique`` (warn | error) watches for repeated keys: the engine records the places of
    the first two rows of a repeated key in ``repeated``; with ``error`` a lookup of that key rejects the row."""

    name: str
    source: str
    key: Callable
    columns: list[str]
    exprs: list[Callable]
    filter: Callable | None = None
    table: dict = field(default_factory=dict)
    declared: tuple = ("", None)
    all_columns: bool = False  # columns: all -- the whole row is kept
    many: bool = False
    unique: str | None = None  # None (the first row wins, silently) | warn | error
    places: dict = field(default_factory=dict)  # key -> place of its first row (only when unique is set)
    repeated: dict = field(default_factory=dict)  # key -> (first place, second place)

    def _key(self, key):
        return key if type(key) is str else fn.text(key) if key is not None else None

    def _found(self, key):
        key = self._key(key)
        if self.unique == "error" and key in self.repeated:
            first, second = self.repeated[key]
            raise RowError(f"lookup table '{self.name}': key {fn.show(key)} is not unique ({first} and {second})")
        return self.table.get(key)

    def get(self, key, column):
        entry = self._found(key)
        if self.many:
            return [] if entry is None else [e.get(column) for e in entry]
        return None if entry is None else entry.get(column)

    def entry(self, key):
        """The kept row of a key as an object (a copy), or the list of them for a ``many`` table."""
        entry = self._found(key)
        if self.many:
            return [] if entry is None else [dict(e) for e in entry]
        return None if entry is None else dict(entry)

    def add(self, key: str, row: dict, place: str) -> str | None:
        """Keep a source row under its key (the engine fills the table); a warning for a repeated key under
        ``unique: warn``."""
        entries = self.table
        if key in entries and not self.many:
            if self.unique is not None and key not in self.repeated:
                self.repeated[key] = (self.places[key], place)
                if self.unique == "warn":
                    return (f"{place}: lookup {self.name}: duplicate key {key!r} (first at {self.places[key]}); the "
                            "first row is kept")
            return None
        kept = dict(row) if self.all_columns else {c: f(row, None) for c, f in zip(self.columns, self.exprs)}
        if self.many:
            entries.setdefault(key, []).append(kept)
        else:
            entries[key] = kept
            if self.unique is not None:
                self.places[key] = place
        return None

    def clear(self) -> None:
        """Forget the previous run's rows (a plan may run more than once)."""
        self.table, self.places, self.repeated = {}, {}, {}


def crosswalk_file(path: Path, from_col, to_col, insensitive: bool, declared: tuple) -> dict:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise MappingError(f"crosswalk file {path} not found", *declared) from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise MappingError(f"crosswalk file {path} cannot be read ({error})", *declared) from None
    if not rows:
        raise MappingError(f"crosswalk file {path} is empty", *declared)
    header = [h.strip() for h in rows[0]]
    try:
        a = header.index(from_col) if from_col else 0
        b = header.index(to_col) if to_col else 1
    except ValueError:
        raise MappingError(f"crosswalk file {path}: header {','.join(header)} lacks {from_col} or {to_col}",
                           *declared) from None
    table: dict = {}
    for line, cells in enumerate(rows[1:], 2):
        if not cells or not any(c.strip() for c in cells):
            continue
        if len(cells) <= max(a, b):
            raise MappingError("too few columns", str(path), line)
        key = cells[a].strip()
        key = key.casefold() if insensitive else key
        if key in table and table[key][0] != cells[b].strip():
            raise MappingError(f"'{cells[a].strip()}' maps to '{table[key][0]}' on line {table[key][1]} and to "
                               f"'{cells[b].strip()}' here", str(path), line)
        table[key] = (cells[b].strip(), line)
    return {k: v for k, (v, _line) in table.items()}
