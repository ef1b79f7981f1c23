"""Compiling the ``fields`` template of a record rule into one closure that builds a document from a row.

Why: the literal-versus-expression rule and the type-directed shaping (references, lists, boolstrings, nested objects)
are decided here once per field, so the per-row work is a flat list of closures. See docs/mappings.md for the rules.
"""
from __future__ import annotations

from typing import Callable

from standards.model import ClassDef, FieldDef

from . import functions as fn
from .errors import MappingError, RowError
from .expressions import Scope, compile_expression, constant, describe, is_const

ENGINE_FIELDS = ("status", "dateLastModified")


class TemplateCompiler:
    """Mixin for the mapping compiler: needs ``self.doc`` (the Document) and ``self.model``."""

    def _expr(self, text: str, scope: Scope, at: tuple) -> Callable:
        file, line = self.doc.where(*at)
        try:
            return compile_expression(text[1:], scope)
        except MappingError as error:
            raise error.at(file, line, prefix=f"{_dotted(at)}: ") from None

    def _value(self, value, scope: Scope, at: tuple, coerce: Callable | None = None) -> Callable:
        """An expression or a literal (converted now) as a closure."""
        if isinstance(value, str) and value.startswith("="):
            return self._expr(value, scope, at)
        if coerce is not None and value is not None:
            try:
                value = coerce(value)
            except RowError as error:
                raise self.doc.error(f"{_dotted(at)}: {error.message}", *at) from None
        return constant(value)

    def _top(self, template: dict, cdef: ClassDef, scope: Scope, at: tuple) -> Callable:
        for key in ENGINE_FIELDS:
            if key in template:
                raise self.doc.error(f"{_dotted((*at, key))}: set by the engine, not by mappings", *at, key)
        steps = self._steps(template, cdef, scope, at)

        def build(r, it, errors: list):
            doc = {}
            for key, f in steps:
                try:
                    v = f(r, it)
                except RowError as error:
                    errors.append((f"{key}.{error.field}" if error.field else key, error.message))
                    continue
                except Exception as error:  # noqa: BLE001 - any evaluation failure rejects the row, never raises
                    errors.append((key, describe(error)))
                    continue
                if v is not None and v != "" and v != []:
                    doc[key] = v
            return doc
        return build

    def _steps(self, template: dict, cdef: ClassDef, scope: Scope, at: tuple) -> list:
        if not isinstance(template, dict):
            raise self.doc.error(f"{_dotted(at)}: expected a mapping of {cdef.name} fields", *at)
        steps = []
        for key, value in template.items():
            fd = cdef.fields.get(key)
            if fd is None:
                raise self.doc.error(f"{_dotted((*at, key))}: {cdef.name} has no field '{key}' (fields: "
                                     f"{', '.join(cdef.fields)})", *at, key)
            if fd.tier >= 3:
                raise self.doc.error(f"{_dotted((*at, key))}: credentials, government ID numbers and free-text "
                                     f"narratives (tier 3) are never stored ({cdef.name}.{key})", *at, key)
            steps.append((key, self._field(value, fd, scope, (*at, key))))
        return steps

    def _object(self, template: dict, cdef: ClassDef, scope: Scope, at: tuple) -> Callable:
        """A nested object; left out when every computed (non-literal) member is empty."""
        steps = [(key, f, is_const(f)) for key, f in self._steps(template, cdef, scope, at)]
        computed = any(not fixed for _k, _f, fixed in steps)

        def build(r, it):
            doc, filled = {}, not computed
            for key, f, fixed in steps:
                try:
                    v = f(r, it)
                except RowError as error:
                    error.field = f"{key}.{error.field}" if error.field else key
                    raise
                if v is not None and v != "" and v != []:
                    doc[key] = v
                    filled = filled or not fixed
            return doc if filled else None
        return build

    def _field(self, value, fd: FieldDef, scope: Scope, at: tuple) -> Callable:
        if not fd.many:
            return self._item(value, fd, scope, at)
        if isinstance(value, list):
            items = [self._item(v, fd, scope, (*at, i)) for i, v in enumerate(value)]
            nested = [isinstance(v, str) and v.startswith("=") for v in value]

            def many(r, it):
                out = []
                for f, flat in zip(items, nested):
                    v = f(r, it)
                    if flat and type(v) is list:
                        out.extend(x for x in v if x is not None and x != "")
                    elif v is not None and v != "":
                        out.append(v)
                return out
            return many
        one = self._item(value, fd, scope, at)

        def listed(r, it):
            v = one(r, it)
            if v is None or v == "":
                return None
            return [x for x in v if x is not None and x != ""] if type(v) is list else [v]
        return listed

    def _item(self, value, fd: FieldDef, scope: Scope, at: tuple) -> Callable:
        if fd.type == "object":
            if isinstance(value, dict):
                return self._object(value, self.model.classes[fd.cls], scope, at)
            prohibited = _prohibited(self.model.classes, fd.cls) if value is not None else ()
            if prohibited:  # a whole object from an expression could carry them
                raise self.doc.error(f"{_dotted(at)}: {fd.cls} holds prohibited (tier 3) fields "
                                     f"({', '.join(prohibited)}): map its other members one by one", *at)
            return self._value(value, scope, at)
        if fd.type == "metadata":
            return self._free(value, scope, at)
        if fd.type == "ref":
            return self._ref(value, fd.ref, scope, at)
        coerce = _COERCE.get(fd.type, _text)
        f = self._value(value, scope, at, coerce)
        if is_const(f) or not (isinstance(value, str) and value.startswith("=")):
            return f
        if fd.many:
            def each_coerced(r, it):
                v = f(r, it)
                return [None if x is None else coerce(x) for x in v] if type(v) is list else \
                    (None if v is None else coerce(v))
            return each_coerced
        if coerce is _text:
            def text_field(r, it):
                v = f(r, it)
                return v if v is None or type(v) is str else _text(v)
            return text_field

        def coerced(r, it):
            v = f(r, it)
            return None if v is None else coerce(v)
        return coerced

    def _ref(self, value, target: str, scope: Scope, at: tuple) -> Callable:
        if isinstance(value, dict):
            unknown = set(value) - {"sourcedId", "type", "href"}
            if unknown:
                raise self.doc.error(f"{_dotted(at)}: a reference has sourcedId, type and href, not "
                                     f"{', '.join(sorted(unknown))}", *at)
            template = {"type": target, **value}
            parts = [(k, self._value(v, scope, (*at, k), _text)) for k, v in template.items()]

            def ref_object(r, it):
                out = {k: f(r, it) for k, f in parts}
                return None if out.get("sourcedId") in (None, "") else out
            return ref_object
        f = self._value(value, scope, at, _text)

        def one(x):  # an id, or an object with a sourcedId (objects(...), a JSON member)
            if type(x) is dict:
                sid = x.get("sourcedId")
                return None if sid is None or sid == "" else {"type": target, **x, "sourcedId": _text(sid)}
            return {"sourcedId": x if type(x) is str else _text(x), "type": target}

        def ref(r, it):
            v = f(r, it)
            if v is None or v == "":
                return None
            if type(v) is list:
                return [ref for ref in (one(x) for x in v if x is not None and x != "") if ref is not None]
            return one(v)
        return ref

    def _free(self, value, scope: Scope, at: tuple) -> Callable:
        """metadata: any nested template, values kept as computed."""
        if isinstance(value, dict):
            parts = [(k, self._free(v, scope, (*at, k))) for k, v in value.items()]

            def obj(r, it):
                out = {}
                for k, f in parts:
                    v = f(r, it)
                    if v is not None and v != "":
                        out[k] = v
                return out or None
            return obj
        if isinstance(value, list):
            items = [self._free(v, scope, (*at, i)) for i, v in enumerate(value)]
            return lambda r, it: [f(r, it) for f in items]
        return self._value(value, scope, at)


def _text(value):
    if type(value) is str:
        return value
    if isinstance(value, (list, dict)):
        raise RowError(f"expected one value, got {type(value).__name__} {fn.show(value)}")
    return fn.text(value)


def _boolstring(value):
    return ("true" if value else "false") if type(value) is bool else _text(value)


def _boolean(value):
    if type(value) is bool:
        return value
    if type(value) is str and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise RowError(f"{fn.show(value)} is not true or false")


_COERCE = {"integer": fn.integer, "number": fn.number, "boolean": _boolean, "boolstring": _boolstring}


def _prohibited(classes, cls: str, prefix: str = "", depth: int = 0) -> list[str]:
    """Paths of the tier-3 fields inside a nested class (any depth)."""
    out = []
    for f in classes[cls].fields.values():
        if f.tier >= 3:
            out.append(prefix + f.name)
        elif f.type == "object" and depth < 4:
            out.extend(_prohibited(classes, f.cls, f"{prefix}{f.name}.", depth + 1))
    return out


def _dotted(at: tuple) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
