"""Fast record validation against a ModelDef.

Why: imports validate every row of files with millions of rows, so each class is compiled once into closures with
precomputed checks (no jsonschema, no per-row reflection); path strings are built only for errors and nested values.

    check = compile_validator(load_model("oneroster", "1.2"), "User")
    check(doc)  # -> [("roles[0].org.type", "'user' is not 'org'"), ...]; [] when valid

Rules: required fields present and not null (required strings also non-empty, arrays at least min_items long);
optional fields may be absent or null; types per FieldDef.type (date = real YYYY-MM-DD date, datetime = ISO 8601 with
Z or an offset, boolstring = "true"/"false", boolean = JSON true/false); enumerations, plus `ext:` terms where the
field is extensible; GUIDRefs need a sourcedId and a type equal to the expected target (href optional on input);
nested objects recursively; unknown fields are errors except inside metadata and in open classes.
Ed-Fi adds: string lengths and patterns, numeric bounds, time = HH:MM:SS, descriptor = a "namespace#codeValue" URI
(uri://ed-fi.org/SexDescriptor#Female), references as nested objects of the referenced resource's key, and key
unification (ClassDef.equal: two paths whose values must agree). Reasons never quote more than 40 characters.
Value-level tier 3 (ClassDef.prohibited, from standards/edfi/tiers.json): a field that must be absent when a descriptor
names e.g. a Social Security system; the error names the field and the descriptor, never the value.
The error path of the whole document when it is not an object is "".
"""
from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime, time
from typing import Callable

from .model import ClassDef, FieldDef, ModelDef
from .paths import values_at

Errors = list[tuple[str, str]]
Validator = Callable[[dict], Errors]

MISSING = "required field missing"
_EXT = re.compile(r"ext:[a-zA-Z0-9.\-_]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)
_WS = re.compile(r"\s")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(?:\.\d+)?", re.ASCII)
DESCRIPTOR_MAX = 306  # namespace (255) + "#" + codeValue (50)
# The Ed-Fi JSON Schemas use three patterns; say what they mean instead of quoting them.
_PATTERN_REASONS = {r"^(?!\s).*(?<!\s)$": "must not start or end with whitespace",
                    r"^(?!\s)(.*\S)$": "must not start or end with whitespace",
                    r"^(?!\s*$).+": "must not be blank"}
_REF_KEYS = frozenset({"href", "sourcedId", "type"})


def _ecma(pattern: str) -> re.Pattern:
    """A JSON Schema (ECMA-262) pattern for Python: a final ``$`` is the end of the text there, while Python's also
    matches before a trailing newline ("Smith\\n" would pass "must not end with whitespace")."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern)


def _show(v: object) -> str:
    s = v if isinstance(v, str) else repr(v)
    return f"'{s[:40]}…'" if len(s) > 40 else f"'{s}'"


# Scalar checks: value -> reason or None. Called only for values that are present and not None.
def _string(required: bool):
    def check(v):
        if type(v) is not str:
            return "not a string"
        if required and not v:
            return "must not be empty"
        return None
    return check


@functools.lru_cache(maxsize=4096)  # bulk files repeat the same few dates and timestamps on most rows
def _date_str(v: str):
    if not _DATE.fullmatch(v):
        return "not a date (YYYY-MM-DD)"
    try:
        date.fromisoformat(v)
    except ValueError:
        return "not a real date"
    return None


@functools.lru_cache(maxsize=4096)
def _datetime_str(v: str):
    if not _DATETIME.fullmatch(v):
        return "not a date-time (ISO 8601 with Z or offset)"
    try:
        datetime.fromisoformat(v)
    except ValueError:
        return "not a real date-time"
    return None


def _limited_string(f: FieldDef, required: bool):
    """A string with Ed-Fi limits (lengths, pattern); plain strings keep the cheaper :func:`_string`."""
    most, least = f.max_length, f.min_length or 0
    pattern = _ecma(f.pattern) if f.pattern else None
    pattern_reason = _PATTERN_REASONS.get(f.pattern or "", f"does not match the pattern {f.pattern}")

    def check(v):
        if type(v) is not str:
            return "not a string"
        if not v:
            if required:
                return "must not be empty"
            return f"shorter than {least} characters" if least else None
        if most is not None and len(v) > most:
            return f"longer than {most} characters ({len(v)})"
        if len(v) < least:
            return f"shorter than {least} characters ({len(v)})"
        if pattern is not None and not pattern.search(v):
            return pattern_reason
        return None
    return check


def _bounded(base: Callable, f: FieldDef):
    """A number check plus the field's minimum/maximum."""
    low, high = f.minimum, f.maximum

    def check(v):
        r = base(v)
        if r:
            return r
        if low is not None and v < low:
            return f"{v} is less than {low}"
        if high is not None and v > high:
            return f"{v} is more than {high}"
        return None
    return check


@functools.lru_cache(maxsize=1024)
def _time_str(v: str):
    if not _TIME.fullmatch(v):
        return "not a time (HH:MM:SS)"
    try:
        time.fromisoformat(v)
    except ValueError:
        return "not a real time"
    return None


def _time(v):
    return _time_str(v) if type(v) is str else "not a time (HH:MM:SS)"


def _descriptor(v):
    if type(v) is not str:
        return "not a string"
    if len(v) > DESCRIPTOR_MAX:
        return f"longer than {DESCRIPTOR_MAX} characters ({len(v)})"
    namespace, hash_, code = v.partition("#")
    if not namespace or not hash_ or not code or _WS.match(v) or _WS.search(v[-1]):
        return f"{_show(v)} is not a descriptor URI (namespace#codeValue)"
    return None


def _date(v):
    return _date_str(v) if type(v) is str else "not a date (YYYY-MM-DD)"


def _datetime(v):
    return _datetime_str(v) if type(v) is str else "not a date-time (ISO 8601 with Z or offset)"


def _uri(v):
    # Lenient: CSV-sourced profile ids and 1.1 '~/' hrefs are not absolute URIs, but never contain whitespace.
    if type(v) is not str or not v:
        return "not a URI"
    return "not a URI (contains whitespace)" if _WS.search(v) else None


def _integer(v):
    return None if type(v) is int else "not an integer"


def _number(v):
    if type(v) is int or (type(v) is float and math.isfinite(v)):
        return None
    return "not a number"


def _boolean(v):
    return None if type(v) is bool else "not a boolean (true/false)"


def _boolstring(v):
    return None if v == "true" or v == "false" else 'not "true" or "false"'


def _metadata(v):
    return None if type(v) is dict else "not an object"


def _enum(f: FieldDef, required: bool):
    allowed = frozenset(f.enum)
    pattern = re.compile(f.pattern) if f.pattern else None
    ext = f.ext
    suffix = " (or ext:…)" if ext else (" (or an extension)" if pattern else "")
    listing = ", ".join(f.enum) + suffix

    def check(v):
        if type(v) is not str:
            return "not a string"
        if v in allowed:
            return None
        if required and not v:
            return "must not be empty"
        if ext and _EXT.fullmatch(v):
            return None
        if pattern is not None and pattern.fullmatch(v):
            return None
        return f"{_show(v)} is not one of {listing}"
    return check


_SCALARS = {"date": _date, "datetime": _datetime, "time": _time, "uri": _uri, "integer": _integer, "number": _number,
            "boolean": _boolean, "boolstring": _boolstring, "metadata": _metadata, "descriptor": _descriptor}


class _Compiler:
    def __init__(self, model: ModelDef):
        self.model = model
        self.objects: dict[str, Callable] = {}

    # Complex checks take (value, path, errors) and append; scalar checks return a reason.
    def item_check(self, f: FieldDef) -> tuple[bool, Callable]:
        if f.type == "ref":
            return True, self.ref_check(f.ref)
        if f.type == "object":
            return True, self.object_check(f.cls)
        if f.type == "string":
            required = f.required and not f.many
            if f.enum:
                return False, _enum(f, required)
            limited = f.max_length is not None or f.min_length or f.pattern
            return False, (_limited_string(f, required) if limited else _string(required))
        if f.type in ("integer", "number") and (f.minimum is not None or f.maximum is not None):
            return False, _bounded(_SCALARS[f.type], f)
        if f.type in _SCALARS:
            return False, _SCALARS[f.type]
        raise ValueError(f"cannot validate type {f.type!r} of {f.name}")

    def field_check(self, f: FieldDef) -> tuple[bool, Callable]:
        complex_, item = self.item_check(f)
        if not f.many:
            return complex_, item
        need = f.min_items or 0

        def check_list(v, path, errs):
            if type(v) is not list:
                errs.append((path, "not a list"))
                return
            if len(v) < need:
                errs.append((path, f"needs at least {need} item{'s' if need > 1 else ''}"))
            for i, x in enumerate(v):
                if x is None:
                    errs.append((f"{path}[{i}]", "null item"))
                elif complex_:
                    item(x, f"{path}[{i}]", errs)
                else:
                    r = item(x)
                    if r:
                        errs.append((f"{path}[{i}]", r))
        return True, check_list

    def ref_check(self, target: str) -> Callable:
        allowed = frozenset(self.model.ref_types(target))
        expected = " or ".join(f"'{t}'" for t in sorted(allowed))

        def check_ref(v, path, errs):
            if type(v) is not dict:
                errs.append((path, "not a reference object"))
                return
            sid = v.get("sourcedId")
            if sid is None:
                errs.append((f"{path}.sourcedId", MISSING))
            elif type(sid) is not str:
                errs.append((f"{path}.sourcedId", "not a string"))
            elif not sid:
                errs.append((f"{path}.sourcedId", "must not be empty"))
            t = v.get("type")
            if t is None:
                errs.append((f"{path}.type", MISSING))
            elif type(t) is not str or t not in allowed:
                errs.append((f"{path}.type", f"{_show(t)} is not {expected}"))
            href = v.get("href")
            if href is not None:
                r = _uri(href)
                if r:
                    errs.append((f"{path}.href", r))
            if not _REF_KEYS.issuperset(v):
                errs.extend((f"{path}.{k}", "unknown field") for k in v if k not in _REF_KEYS)
        return check_ref

    def object_check(self, name: str) -> Callable:
        """Compiled checker for one class; nested objects use the same function with a path prefix."""
        if name in self.objects:
            return self.objects[name]
        cdef: ClassDef = self.model.classes[name]
        checks: dict[str, tuple[bool, Callable]] = {}
        self.objects[name] = lambda v, path, errs: run(v, path, errs)  # placeholder for recursive classes
        for f in cdef.fields.values():
            checks[f.name] = self.field_check(f)
        required = tuple(f.name for f in cdef.fields.values() if f.required)
        required_set = frozenset(required)
        is_open = cdef.open
        equal = tuple((a, tuple(a.replace("[*]", "").split(".")), b, tuple(b.replace("[*]", "").split(".")))
                      for a, b in cdef.equal)
        prohibited = tuple((field, when, re.compile(pattern)) for field, when, pattern in cdef.prohibited)

        def run(doc, path, errs):
            if type(doc) is not dict:
                errs.append((path, "not an object"))
                return
            prefix = path + "." if path else ""
            saw_null = False
            for k, v in doc.items():
                c = checks.get(k)
                if c is None:
                    if not is_open:
                        errs.append((prefix + k, "unknown field"))
                    continue
                if v is None:
                    saw_null = True
                    continue
                if c[0]:
                    c[1](v, prefix + k, errs)
                else:
                    r = c[1](v)
                    if r:
                        errs.append((prefix + k, r))
            if saw_null or not required_set.issubset(doc.keys()):
                for k in required:
                    if doc.get(k) is None:
                        errs.append((prefix + k, MISSING))
            for a, a_parts, b, b_parts in equal:
                wanted = set(_values(doc, b_parts))
                if len(wanted) == 1:
                    target = next(iter(wanted))
                    if any(v != target for v in _values(doc, a_parts)):
                        errs.append((prefix + a, f"must equal {b} ({_show(target)})"))
            for field, when, pattern in prohibited:
                system = doc.get(when)
                if doc.get(field) is not None and type(system) is str and pattern.search(system.rpartition("#")[2]):
                    errs.append((prefix + field, f"prohibited (tier 3): {when} names a national or government ID "
                                                 "system; such numbers are never stored"))

        self.objects[name] = run
        return run


def _values(doc, parts: tuple) -> list:
    """Scalar values at a dotted path, descending into lists (key unification paths such as sessions[*].x)."""
    return [v for v in values_at(doc, parts) if type(v) is not dict and type(v) is not list]


def compile_validator(model: ModelDef, class_name: str) -> Validator:
    """Compile a validator for one class: doc -> list of (field path, reason); empty when the doc is valid."""
    if class_name not in model.classes:
        raise KeyError(f"{model.standard} {model.version} has no class {class_name!r}")
    run = _Compiler(model).object_check(class_name)

    def validate(doc: dict) -> Errors:
        errs: Errors = []
        run(doc, "", errs)
        return errs

    validate.__name__ = f"validate_{class_name}"
    return validate
