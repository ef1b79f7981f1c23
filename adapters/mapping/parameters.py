"""Run parameters: values a mapping declares (``parameters:``) and a run gives (``--param name=value``), read by
expressions with ``param('name')``.

Why: some facts are not in the export -- the date it was taken, the term it covers -- and differ per run; before
parameters, mappings hard-coded them in constant crosswalks and had to be edited for every export. A parameter is
declared once (with a description, an optional default and an optional format) and checked before any row is read:
a missing or malformed value stops the run with a message naming the parameter and where it is declared.

    parameters:
      export_date: {description: Date of the export, format: date, default: "2024-12-20"}

Formats: ``text`` (default), ``date`` (YYYY-MM-DD), ``datetime`` (ISO 8601, e.g. 2024-12-20T08:00:00Z), ``integer``,
``number``, ``boolean`` (true/false); integer, number and boolean values reach expressions converted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import functions as fn
from .errors import MappingError, RowError

FORMATS = ("text", "date", "datetime", "integer", "number", "boolean")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
_UNSET = object()


@dataclass
class Parameter:
    name: str
    description: str = ""
    format: str = "text"
    default: Any = _UNSET
    declared: tuple = ("", None)  # (mapping file, line)
    value: Any = None  # the value of the current run (set by bind)

    @property
    def required(self) -> bool:
        return self.default is _UNSET

    def convert(self, value) -> Any:
        """The value in its format; RowError naming what is wrong."""
        if self.format == "integer":
            return fn.integer(value)
        if self.format == "number":
            return fn.number(value)
        if self.format == "boolean":
            if type(value) is bool:
                return value
            if fn.text(value).strip().lower() in ("true", "false"):
                return fn.text(value).strip().lower() == "true"
            raise RowError(f"{fn.show(value)} is not true or false")
        value = fn.text(value)
        if self.format == "date":
            try:
                if not _DATE.fullmatch(value):
                    raise ValueError
                date.fromisoformat(value)
            except ValueError:
                raise RowError(f"{fn.show(value)} is not a date (YYYY-MM-DD)") from None
        elif self.format == "datetime":
            try:
                if not _DATETIME.fullmatch(value):
                    raise ValueError
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise RowError(f"{fn.show(value)} is not a date-time (ISO 8601, e.g. 2024-12-20T08:00:00Z)") \
                    from None
        return value


def declare(name: str, spec: dict, declared: tuple) -> Parameter:
    """A parameter from its declaration; a default that does not fit the format is a mapping error."""
    parameter = Parameter(name, spec.get("description", ""), spec.get("format", "text"),
                          spec["default"] if "default" in spec else _UNSET, declared)
    if not parameter.required and parameter.default is not None:
        try:
            parameter.default = parameter.convert(parameter.default)
        except RowError as error:
            raise MappingError(f"parameters.{name}.default: {error.message}", *declared) from None
    return parameter


def bind(parameters: dict[str, Parameter], given: dict | None, mapping: str) -> None:
    """Set each parameter's value for a run: given, else its default. An unknown name, a missing required
    parameter or a malformed value is a MappingError (the run stops before reading anything)."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(parameters))
    if unknown:
        declared = ", ".join(sorted(parameters)) or "none"
        raise MappingError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (the mapping "
                           f"declares: {declared})", mapping)
    for parameter in parameters.values():
        if parameter.name in given:
            try:
                parameter.value = parameter.convert(given[parameter.name])
            except RowError as error:
                raise MappingError(f"parameter {parameter.name}: {error.message}", *parameter.declared) from None
        elif parameter.required:
            about = f" ({parameter.description})" if parameter.description else ""
            raise MappingError(f"missing parameter {parameter.name}{about}: give it with --param "
                               f"{parameter.name}=VALUE", *parameter.declared)
        else:
            parameter.value = parameter.default


def parse_assignments(pairs) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}`` (command lines); ValueError naming a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--param {pair}: expected name=value")
        if name.strip() in out:
            raise ValueError(f"--param {name.strip()}: given twice")
        out[name.strip()] = value
    return out
