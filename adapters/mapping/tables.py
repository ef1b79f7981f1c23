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
    """A declared join table, filled from its source before the rules run: key -> {column: value}."""

    name: str
    source: str
    key: Callable
    columns: list[str]
    exprs: list[Callable]
    filter: Callable | None = None
    table: dict = field(default_factory=dict)
    declared: tuple = ("", None)

    def get(self, key, column):
        entry = self.table.get(key if type(key) is str else fn.text(key) if key is not None else None)
        return None if entry is None else entry[column]


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
