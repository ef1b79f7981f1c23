"""The functions a mapping expression may call: a fixed table, nothing else is reachable.

Why a table: the expression language must never reach files, imports or attributes, so a call can only name an entry
here (checked when the mapping compiles, with its number of arguments). Each function is total on messy input: an
empty value (None or "") gives None rather than an exception, and a value that cannot be converted raises
:class:`RowError` with a message naming the value, which rejects that row only. Functions that need the compile-time
scope (crosswalks, lookups, the id namespace, constant regular expressions) are built in expressions.py.
"""
from __future__ import annotations

import functools
import hashlib
import math
import re
from datetime import datetime

from .errors import RowError

MAX_TEXT = 10_000  # longest text a function builds (lpad, replace, join, concat)
MAX_REGEX = 200  # longest regular expression a mapping may declare
MAX_MATCH_INPUT = 1_000  # longest value a regular expression is run against


def show(value) -> str:
    if not isinstance(value, str):
        shown = repr(value)
        return shown[:40] + "…" if len(shown) > 40 else shown
    return f"'{value[:40]}…'" if len(value) > 40 else f"'{value}'"


def empty(value) -> bool:
    return value is None or value == ""


def text(value) -> str:
    """The text form of a value: None -> "", numbers without a spurious ".0", booleans "true"/"false"."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is float and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    raise RowError(f"{show(value)} is not text")


def _capped(result: str) -> str:
    if len(result) > MAX_TEXT:
        raise RowError(f"result longer than {MAX_TEXT:,} characters")
    return result


def lower(value):
    return None if value is None else text(value).lower()


def upper(value):
    return None if value is None else text(value).upper()


def trim(value):
    return None if value is None else text(value).strip()


def concat(*values):
    return _capped("".join(text(v) for v in values))


def join(values, separator=""):
    if values is None:
        return None
    if not isinstance(values, list):
        values = [values]
    return _capped(text(separator).join(text(v) for v in values if not empty(v)))


def split(value, separator, index=None):
    """Parts of a value (empty parts kept); with an index, that part (None when there is no such part)."""
    if empty(value):
        return None if index is not None else []
    separator = text(separator)
    if not separator:
        raise RowError("split needs a non-empty separator")
    parts = text(value).split(separator)
    if index is None:
        return parts
    position = integer(index)
    return parts[position] if -len(parts) <= position < len(parts) else None


def replace(value, old, new):
    if value is None:
        return None
    old = text(old)
    if not old:
        raise RowError("replace needs a non-empty text to replace")
    return _capped(text(value).replace(old, text(new)))


def substr(value, start, end=None):
    if value is None:
        return None
    return text(value)[integer(start):None if end is None else integer(end)]


def lpad(value, width, fill=" "):
    if value is None:
        return None
    width, fill = integer(width), text(fill)
    if len(fill) != 1:
        raise RowError("lpad fills with exactly one character")
    if width > MAX_TEXT:
        raise RowError(f"lpad width above {MAX_TEXT:,}")
    return text(value).rjust(width, fill)


def length(value):
    return 0 if value is None else len(value if isinstance(value, (list, dict)) else text(value))


_INT = re.compile(r"[+-]?\d{1,30}", re.ASCII)


def integer(value):
    """An integer from text or a number: '007' -> 7, 3.0 -> 3; '' -> None; '3.5' or 'abc' rejects the row."""
    if type(value) is int:
        return value
    if empty(value):
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        stripped = value.strip()
        if _INT.fullmatch(stripped):
            return int(stripped)
        try:
            number_ = float(stripped)
        except ValueError:
            number_ = None
        if number_ is not None and number_.is_integer() and abs(number_) < 1e15:
            return int(number_)
    raise RowError(f"{show(value)} is not a whole number")


def number(value):
    if type(value) in (int, float):
        return value
    if empty(value):
        return None
    if type(value) is str and len(value) <= 40:
        try:
            result = float(value.strip())
        except ValueError:
            result = None
        if result is not None and math.isfinite(result):
            return int(result) if result.is_integer() and abs(result) < 1e15 and "." not in value else result
    raise RowError(f"{show(value)} is not a number")


def default(value, fallback):
    return fallback if empty(value) else value


def coalesce(*values):
    return next((v for v in values if not empty(v)), None)


def get(value, key):
    """A member of a JSON object (dotted path) or an item of a list; None when absent."""
    for part in ([key] if isinstance(key, int) else text(key).split(".")):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list):
            index = integer(part)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
    return value


def member(value, key):
    """``value[key]`` of an expression: a member of an object (the key as written, dots included) or an item of a
    list; None when absent or when the value is neither."""
    if isinstance(value, dict):
        return value.get(key if type(key) is str else text(key))
    if isinstance(value, list) and not empty(key):
        index = integer(key)
        return value[index] if -len(value) <= index < len(value) else None
    return None


def cell(row, name):
    """The column ``name`` of a row (a computed column name): the exact name, else the first column whose name
    matches ignoring case (headers are matched case-insensitively); None when absent."""
    if empty(name) or not isinstance(row, dict):
        return None
    name = text(name)
    if name in row:
        return row[name]
    folded = name.casefold()
    for key, value in row.items():
        if type(key) is str and key.casefold() == folded:
            return value
    return None


def objects(values, name, separator=","):
    """A list of one-member objects: ``objects('a, b', 'sourcedId')`` -> ``[{'sourcedId': 'a'}, {'sourcedId': 'b'}]``.
    Text is split on ``separator``; items are trimmed and empty ones dropped (for a field's list of objects or of
    references)."""
    if empty(values):
        return []
    name = text(name)
    if not name:
        raise RowError("objects needs a member name")
    if not isinstance(values, list):
        separator = text(separator)
        if not separator:
            raise RowError("objects needs a non-empty separator")
        values = text(values).split(separator)
    out = []
    for value in values:
        value = value if isinstance(value, dict) else None if value is None else text(value).strip()
        if not empty(value):
            out.append(value if isinstance(value, dict) else {name: value})
    return out


def fail(message):
    raise RowError(text(message) or "rejected by the mapping")


@functools.lru_cache(maxsize=8192)  # exports repeat the same few dates on most rows
def _parse_date(value: str, from_format: str, to_format: str) -> str:
    try:
        parsed = datetime.strptime(value, from_format)
    except ValueError as error:
        detail = str(error)
        reason = "not a real date" if "out of range" in detail or "must be in" in detail else "does not match"
        raise RowError(f"{show(value)}: {reason} for the format {from_format}") from None
    return parsed.strftime(to_format)


def date(value, from_format, to_format="%Y-%m-%d"):
    """Reformat a date or date-time; an empty value gives None (a blank DOB is not an error)."""
    if empty(value):
        return None
    return _parse_date(text(value).strip(), text(from_format), text(to_format))


def check_date_format(fmt: str) -> str | None:
    """Why a constant date format is unusable (at compile time), or None."""
    if not isinstance(fmt, str) or "%" not in fmt:
        return f"{show(fmt)} is not a date format (strptime directives such as %m/%d/%Y)"
    try:
        datetime(2001, 2, 3, 4, 5, 6).strftime(fmt)
    except ValueError as error:
        return f"{show(fmt)}: {error}"
    return None


_sha1 = hashlib.sha1
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def uuid5_text(namespace: bytes, parts) -> str:
    """str(uuid.uuid5(namespace, parts joined by U+001F)), without building UUID objects (a per-row hot path)."""
    try:
        name = "\x1f".join(parts)
    except TypeError:  # numbers from JSON sources
        name = "\x1f".join([p if type(p) is str else text(p) for p in parts])
    h = _sha1(namespace + name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


# name -> (function, least arguments, most arguments or None for any)
FUNCTIONS: dict[str, tuple] = {
    "lower": (lower, 1, 1), "upper": (upper, 1, 1), "trim": (trim, 1, 1), "text": (text, 1, 1),
    "concat": (concat, 1, None), "join": (join, 1, 2), "split": (split, 2, 3), "replace": (replace, 3, 3),
    "substr": (substr, 2, 3), "lpad": (lpad, 2, 3), "length": (length, 1, 1), "int": (integer, 1, 1),
    "number": (number, 1, 1), "default": (default, 2, 2), "coalesce": (coalesce, 1, None), "get": (get, 2, 2),
    "fail": (fail, 1, 1), "date": (date, 2, 3), "objects": (objects, 2, 3),
}
# Built with the scope in calls.py: map, lookup, id, columns, column, columns_matching, param, matches, extract.
SPECIAL = {"map": (2, 2), "lookup": (2, 3), "id": (1, None), "columns": (3, 3), "matches": (2, 2),
           "extract": (2, 3), "column": (1, 1), "columns_matching": (1, 1), "param": (1, 1)}
IMPURE = frozenset({"fail", "lookup", "columns"})  # never folded at compile time
