"""The calls of the expression language that need the compile-time scope: crosswalks (``map``), lookup tables
(``lookup``), the id namespace (``id``), run parameters (``param``), the row's columns (``columns``, ``column``,
``columns_matching``) and constant regular expressions (``matches``, ``extract``).

Why apart from expressions.py: these calls check their constant arguments against the mapping when it compiles
(an unknown crosswalk, table, column or parameter is a mapping error naming the file and line), so each is a small
builder returning a closure ``f(row, item)``; the tree walker stays about syntax. :class:`CallBuilder` is a mixin of
the expression compiler: it needs ``self.scope``, ``self._fold`` and the helpers of expressions.py.
"""
from __future__ import annotations

import re

from . import functions as fn
from .errors import MappingError, RowError

MAX_COLUMNS = 100
MAX_HEADERS = 10_000  # distinct column names whose match against a columns_matching pattern is remembered
RESERVED_GROUPS = ("column", "value", "groups")


def is_const(f) -> bool:
    return hasattr(f, "value")


class CallBuilder:
    """``_call_<name>(args)`` for every name in functions.SPECIAL; ``args`` are compiled argument closures."""

    def _constant_text(self, f, what: str) -> str:
        if not is_const(f) or not isinstance(f.value, str):
            raise MappingError(f"{what} must be written as a quoted constant")
        return f.value

    def _call_map(self, args):
        name = self._constant_text(args[1], "map(): the crosswalk name")
        crosswalk = self.scope.crosswalks.get(name)
        if crosswalk is None:
            known = ", ".join(sorted(self.scope.crosswalks)) or "none declared"
            raise MappingError(f"map(): unknown crosswalk '{name}' (known: {known})")
        return self._fold(crosswalk.translate, args[:1], pure=True, name="map")

    def _call_lookup(self, args):
        """lookup(table, key[, column]): a value (a list of values for a ``many`` table); without a column, the
        row kept for the key as an object (a list of them for ``many``). A computed column name is checked per row."""
        name = self._constant_text(args[0], "lookup(): the table name")
        table = self.scope.lookups.get(name)
        if table is None:
            known = ", ".join(sorted(self.scope.lookups)) or "none declared"
            raise MappingError(f"lookup(): unknown lookup table '{name}' (known: {known})")
        key = args[1]
        if len(args) == 2:
            entry = table.entry
            return lambda r, it: entry(key(r, it))
        every = getattr(table, "all_columns", False)
        if is_const(args[2]):
            column = self._constant_text(args[2], "lookup(): the column name")
            if not every and column not in table.columns:
                raise MappingError(f"lookup(): table '{name}' has no column '{column}' (it keeps: "
                                   f"{', '.join(table.columns)})")
            get = table.get
            return lambda r, it: get(key(r, it), column)
        column_of, get, kept = args[2], table.get, set(table.columns)

        def computed(r, it):
            column = column_of(r, it)
            if fn.empty(column):
                return None
            column = fn.text(column)
            if not every and column not in kept:
                raise RowError(f"lookup table '{name}' has no column {fn.show(column)} (it keeps: "
                               f"{', '.join(table.columns)})")
            return get(key(r, it), column)
        return computed

    def _call_id(self, args):
        namespace, uuid5_text = self.scope.namespace, fn.uuid5_text

        def make(*parts):
            for part in parts:
                if part is None or part == "":
                    return None
            return uuid5_text(namespace, parts)
        return self._fold(make, args, pure=True, name="id")

    def _call_param(self, args):
        name = self._constant_text(args[0], "param(): the parameter name")
        parameter = self.scope.parameters.get(name)
        if parameter is None:
            known = ", ".join(sorted(self.scope.parameters)) or "none"
            raise MappingError(f"param(): unknown parameter '{name}' (declared: {known})")
        return lambda _r, _it: parameter.value

    def _call_columns(self, args):
        pattern = self._constant_text(args[0], "columns(): the name pattern")
        if pattern.count("{}") != 1:
            raise MappingError("columns(): the pattern needs exactly one {} (e.g. 'Teacher_{}_id')")
        bounds = [a.value if is_const(a) else None for a in args[1:]]
        if not all(type(b) is int for b in bounds) or not 0 <= bounds[1] - bounds[0] < MAX_COLUMNS:
            raise MappingError(f"columns(): from and to must be whole numbers, at most {MAX_COLUMNS} apart")
        names = [pattern.replace("{}", str(n)) for n in range(bounds[0], bounds[1] + 1)]
        self.scope.columns.update(names)
        self.scope.optional_columns.update(names)
        return lambda r, _it: [v for v in map(r.get, names) if v is not None and v != ""]

    def _call_column(self, args):
        """column(name): the column whose name is computed (a constant name is an ordinary column)."""
        name = args[0]
        if is_const(name) and isinstance(name.value, str):
            column, cell = name.value, fn.cell
            self.scope.columns.add(column)
            return lambda r, _it: r[column] if column in r else cell(r, column)
        cell = fn.cell
        return lambda r, it: cell(r, name(r, it))

    def _call_columns_matching(self, args):
        """columns_matching(regex): one object per column whose name matches, in the row's column order:
        ``{column, value, groups, <named groups>}``; blank cells included (filter them with item_filter)."""
        regex = self._regex(args[0], "columns_matching()")
        clash = sorted(set(regex.groupindex) & set(RESERVED_GROUPS))
        if clash:
            raise MappingError(f"columns_matching(): a group may not be named {', '.join(clash)} (reserved: "
                               f"{', '.join(RESERVED_GROUPS)})")
        search, known = regex.search, {}

        def matched(name):
            found = known.get(name, False)
            if found is False:
                found = search(name) if type(name) is str and len(name) <= fn.MAX_MATCH_INPUT else None
                found = None if found is None else {"groups": list(found.groups()), **found.groupdict()}
                if len(known) < MAX_HEADERS:
                    known[name] = found
            return found

        def run(r, _it):
            out = []
            for name, value in r.items():
                found = matched(name)
                if found is not None:
                    out.append({"column": name, "value": value, **found})
            return out
        return run

    def _regex(self, f, what: str) -> re.Pattern:
        pattern = self._constant_text(f, f"{what}: the regular expression")
        if len(pattern) > fn.MAX_REGEX:
            raise MappingError(f"{what}: regular expression longer than {fn.MAX_REGEX} characters")
        try:
            return re.compile(pattern)
        except re.error as error:
            raise MappingError(f"{what}: bad regular expression ({error})") from None

    def _call_matches(self, args):
        search = self._regex(args[1], "matches()").search
        value = args[0]

        def run(r, it):
            v = value(r, it)
            return False if v is None else search(_bounded(v)) is not None
        return run

    def _call_extract(self, args):
        regex = self._regex(args[1], "extract()")
        group = args[2].value if len(args) > 2 and is_const(args[2]) else (1 if regex.groups else 0)
        if len(args) > 2 and not is_const(args[2]) or type(group) is not int or not 0 <= group <= regex.groups:
            raise MappingError(f"extract(): group must be a constant between 0 and {regex.groups}")
        search, value = regex.search, args[0]

        def run(r, it):
            v = value(r, it)
            if v is None:
                return None
            found = search(_bounded(v))
            return found.group(group) if found else None
        return run


def _bounded(value) -> str:
    value = fn.text(value)
    if len(value) > fn.MAX_MATCH_INPUT:
        raise RowError(f"value longer than {fn.MAX_MATCH_INPUT} characters for a regular expression")
    return value
