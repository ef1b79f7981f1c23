"""The expression language of mapping files, compiled once into Python closures (never ``eval``).

Why: integrators need concatenation, conditionals, conversions and crosswalks without writing Python, and a mapping
file must not be able to do anything else. Python's own parser (``ast.parse(mode="eval")``) reads the text, then this
module walks the tree with a strict whitelist and builds closures ``f(row, item)``. Allowed: column names (``Grade``,
or ``row['Column With Spaces']``), ``item`` (the current element of a rule's ``each``), constants, ``+ - * / // %``,
comparisons (``== != < <= > >= in not in``), ``and or not``, ``x if cond else y``, list literals and calls of the
functions in :mod:`.functions` (plus the calls built with the scope in :mod:`.calls`), and member access on ``item``
and on computed values (``item['a'][0]``). Everything else -- attribute access, subscripts of a bare column,
comprehensions, lambdas, f-strings, keyword arguments -- is refused when the mapping compiles. Compile errors are :class:`MappingError`; a value
that fails at run time raises :class:`RowError` (the row is rejected), never anything else.

    f = compile_expression("concat(upper(Last_name), ', ', First_name)")
    f({"Last_name": "Smith", "First_name": "Jane"}, None)   # 'SMITH, Jane'
"""
from __future__ import annotations

import ast
import operator
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from . import functions as fn
from .calls import CallBuilder
from .errors import MappingError, RowError

MAX_LENGTH = 2_000
MAX_DEPTH = 40
MAX_NODES = 500
DEFAULT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://trellis.invalid/mappings").bytes
CONSTANTS = {"true": True, "false": False, "null": None}

Compiled = Callable[[Any, Any], Any]


@dataclass
class Scope:
    """What an expression may refer to, and what it referred to (columns), for one mapping rule."""

    crosswalks: dict = field(default_factory=dict)  # name -> object with translate(value)
    lookups: dict = field(default_factory=dict)  # name -> object with columns and get(key, column)
    namespace: bytes = DEFAULT_NAMESPACE
    item: bool = False  # inside a rule with `each`
    columns: set = field(default_factory=set)  # columns named (filled while compiling)
    optional_columns: set = field(default_factory=set)  # columns named by columns(...): may be absent
    parameters: dict = field(default_factory=dict)  # name -> run parameter (its .value is set per run)


def compile_expression(source: str, scope: Scope | None = None) -> Compiled:
    """Compile expression text (without the leading '='); raises MappingError (no place: the caller adds it)."""
    if not isinstance(source, str):
        raise MappingError(f"an expression must be text, found {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise MappingError(f"expression longer than {MAX_LENGTH:,} characters")
    if not source.strip():
        raise MappingError("empty expression")
    try:
        with warnings.catch_warnings():  # '\d' in a regex literal: kept as written, as Python does, without noise
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise MappingError(f"syntax error{where}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        raise MappingError(f"cannot parse the expression ({type(error).__name__})") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise MappingError(f"expression too complex (more than {MAX_NODES} parts)")
    return _Compiler(scope or Scope()).node(tree.body, 0)


def evaluate(source: str, row: dict, item=None, scope: Scope | None = None):
    """Compile and run once (tests, previews); raises only MappingError or RowError."""
    return guarded(compile_expression(source, scope))(row, item)


def guarded(f: Compiled) -> Compiled:
    """A closure whose every failure is a RowError (the engine does the same inline)."""
    def run(row, item=None):
        try:
            return f(row, item)
        except MappingError:
            raise
        except Exception as error:  # noqa: BLE001 - any evaluation failure becomes a row problem
            raise RowError(describe(error)) from None
    return run


def describe(error: BaseException) -> str:
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, RecursionError):
        return "value nested too deeply"
    message = str(error).split("\n")[0][:120]
    return f"cannot compute the value ({type(error).__name__}: {message})" if message else \
        f"cannot compute the value ({type(error).__name__})"


def is_const(f) -> bool:
    return hasattr(f, "value")


def constant(value) -> Compiled:
    """A closure that always returns value, marked so calls on it can be computed at compile time."""
    def f(_r, _it):
        return value
    f.value = value
    return f


def _numbers(symbol: str, a, b):
    for v in (a, b):
        if type(v) not in (int, float):
            raise RowError(f"'{symbol}' needs numbers, got {fn.show(v)} (convert with int() or number())")


def _add(a, b):
    if type(a) is str or type(b) is str:
        return fn.concat(a, b)
    _numbers("+", a, b)
    return a + b


def _arith(symbol: str, op):
    def run(a, b):
        _numbers(symbol, a, b)
        return op(a, b)
    return run


_BINARY = {ast.Add: _add, ast.Sub: _arith("-", operator.sub), ast.Mult: _arith("*", operator.mul),
           ast.Div: _arith("/", operator.truediv), ast.FloorDiv: _arith("//", operator.floordiv),
           ast.Mod: _arith("%", operator.mod)}


def _contains(a, b):
    if b is None:
        return False
    if not isinstance(b, (str, list, tuple, dict)):
        raise RowError(f"'in' needs text or a list on the right, got {fn.show(b)}")
    if isinstance(b, str) and not isinstance(a, str):
        a = fn.text(a)
    return a in b


def _ordered(op):
    def run(a, b):
        try:
            return op(a, b)
        except TypeError:
            raise RowError(f"cannot compare {fn.show(a)} with {fn.show(b)} (convert with int() or text())") from None
    return run


_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: _ordered(operator.lt),
            ast.LtE: _ordered(operator.le), ast.Gt: _ordered(operator.gt), ast.GtE: _ordered(operator.ge),
            ast.In: _contains, ast.NotIn: lambda a, b: not _contains(a, b)}

_REFUSED = {ast.Attribute: "attribute access ('.')", ast.Lambda: "lambda", ast.ListComp: "comprehensions",
            ast.SetComp: "comprehensions", ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
            ast.JoinedStr: "f-strings (use concat)", ast.Dict: "dict literals", ast.Set: "set literals",
            ast.Starred: "'*' arguments", ast.NamedExpr: "':='", ast.Slice: "slices", ast.Await: "await",
            ast.Yield: "yield", ast.YieldFrom: "yield"}


class _Compiler(CallBuilder):
    def __init__(self, scope: Scope):
        self.scope = scope

    def node(self, node: ast.AST, depth: int) -> Compiled:
        if depth > MAX_DEPTH:
            raise MappingError(f"expression nested more than {MAX_DEPTH} levels deep")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            what = _REFUSED.get(type(node), type(node).__name__)
            raise MappingError(f"{what} not allowed in expressions")
        return method(node, depth + 1)

    def _Constant(self, node: ast.Constant, _depth) -> Compiled:
        if node.value is not None and type(node.value) not in (str, int, float, bool):
            raise MappingError(f"constant {node.value!r} not allowed (text, numbers, True, False, None)")
        return constant(node.value)

    def _Name(self, node: ast.Name, _depth) -> Compiled:
        name = node.id
        if name in CONSTANTS:
            return constant(CONSTANTS[name])
        if name == "item":
            if not self.scope.item:
                raise MappingError("'item' exists only in rules with 'each'")
            return lambda _r, it: it
        if name == "row":
            raise MappingError("'row' needs a column name: row['Column Name']")
        if name.startswith("__"):
            raise MappingError(f"name '{name}' not allowed")
        self.scope.columns.add(name)
        return lambda r, _it: r.get(name)

    def _Subscript(self, node: ast.Subscript, depth) -> Compiled:
        """row['Column'] (or row[computed name]); member access on item and on computed values (item['a'][0],
        lookup('t', key)['column']); never on a bare column, whose text is not a container."""
        key, base = node.slice, node.value
        if isinstance(base, ast.Name) and base.id == "row":
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                name = key.value
                self.scope.columns.add(name)
                return lambda r, _it: r.get(name)
            if not isinstance(key, ast.Constant):
                return self._call_column([self.node(key, depth)])
        elif isinstance(base, (ast.Subscript, ast.Call)) or isinstance(base, ast.Name) and base.id == "item":
            if isinstance(key, ast.Constant) and type(key.value) not in (str, int):
                raise MappingError(f"subscript {key.value!r}: a member name or a list position")
            value, index = self.node(base, depth), self.node(key, depth)
            return self._fold(fn.member, [value, index], pure=True, name="[]")
        raise MappingError("subscripts are allowed only as row['Column'], item['member'] or on a function's "
                           "result (lookup('t', key)['column'])")

    def _BinOp(self, node: ast.BinOp, depth) -> Compiled:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise MappingError(f"operator {type(node.op).__name__} not allowed (+ - * / // % only)")
        return self._fold(op, [self.node(node.left, depth), self.node(node.right, depth)], pure=True)

    def _UnaryOp(self, node: ast.UnaryOp, depth) -> Compiled:
        operand = self.node(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return self._fold(operator.not_, [operand], pure=True)
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            multiply = _arith("-" if isinstance(node.op, ast.USub) else "+", operator.mul)
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return self._fold(lambda v: multiply(sign, v), [operand], pure=True)
        raise MappingError("operator ~ not allowed")

    def _BoolOp(self, node: ast.BoolOp, depth) -> Compiled:
        parts = [self.node(v, depth) for v in node.values]
        if isinstance(node.op, ast.And):
            def run_and(r, it):
                value = None
                for part in parts:
                    value = part(r, it)
                    if not value:
                        return value
                return value
            return run_and

        def run_or(r, it):
            value = None
            for part in parts:
                value = part(r, it)
                if value:
                    return value
            return value
        return run_or

    def _Compare(self, node: ast.Compare, depth) -> Compiled:
        ops = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise MappingError(f"comparison {type(op).__name__} not allowed (== != < <= > >= in, not in)")
            ops.append(_COMPARE[type(op)])
        left = self.node(node.left, depth)
        rights = [self.node(c, depth) for c in node.comparators]
        if len(ops) == 1:
            op, right = ops[0], rights[0]
            return lambda r, it: op(left(r, it), right(r, it))

        def chain(r, it):
            a = left(r, it)
            for op, right in zip(ops, rights):
                b = right(r, it)
                if not op(a, b):
                    return False
                a = b
            return True
        return chain

    def _IfExp(self, node: ast.IfExp, depth) -> Compiled:
        test, body, orelse = (self.node(n, depth) for n in (node.test, node.body, node.orelse))
        if is_const(test):
            return body if test.value else orelse
        return lambda r, it: body(r, it) if test(r, it) else orelse(r, it)

    def _List(self, node, depth) -> Compiled:
        items = [self.node(e, depth) for e in node.elts]
        if all(is_const(i) for i in items):
            values = [i.value for i in items]
            return lambda _r, _it: list(values)
        return lambda r, it: [i(r, it) for i in items]

    _Tuple = _List

    def _Call(self, node: ast.Call, depth) -> Compiled:
        if not isinstance(node.func, ast.Name):
            raise MappingError("only functions of the mapping language can be called (e.g. lower(x))")
        name = node.func.id
        if node.keywords:
            raise MappingError(f"{name}(): keyword arguments not allowed")
        if name in fn.FUNCTIONS:
            spec = fn.FUNCTIONS[name]
        elif name in fn.SPECIAL:
            spec = (None, *fn.SPECIAL[name])
        else:
            known = ", ".join(sorted({*fn.FUNCTIONS, *fn.SPECIAL}))
            raise MappingError(f"unknown function '{name}' (known: {known})")
        least, most = spec[1], spec[2]
        count = len(node.args)
        if count < least or (most is not None and count > most):
            expected = str(least) if least == most else f"{least} to {most}" if most else f"at least {least}"
            raise MappingError(f"{name}() takes {expected} argument{'s' if expected != '1' else ''}, got {count}")
        args = [self.node(a, depth) for a in node.args]
        if name in fn.SPECIAL:
            return getattr(self, "_call_" + name)(args)
        if name == "date":
            for a in args[1:]:
                problem = fn.check_date_format(a.value) if is_const(a) else None
                if problem:
                    raise MappingError(f"date(): {problem}")
        return self._fold(spec[0], args, pure=name not in fn.IMPURE, name=name)

    def _fold(self, function, args, *, pure: bool, name: str = "") -> Compiled:
        """A call; computed now when every argument is constant (errors then belong to the mapping)."""
        if pure and all(is_const(a) for a in args):
            try:
                return constant(function(*(a.value for a in args)))
            except RowError as error:
                raise MappingError(f"{name + '(): ' if name else ''}always fails: {error.message}") from None
            except Exception as error:  # noqa: BLE001 - a constant expression that cannot be computed
                raise MappingError(f"{name + '(): ' if name else ''}always fails: {describe(error)}") from None
        if len(args) == 1:
            a = args[0]
            return lambda r, it: function(a(r, it))
        if len(args) == 2:
            a, b = args
            return lambda r, it: function(a(r, it), b(r, it))
        if len(args) == 3:
            a, b, c = args
            return lambda r, it: function(a(r, it), b(r, it), c(r, it))
        if len(args) == 4:
            a, b, c, d = args
            return lambda r, it: function(a(r, it), b(r, it), c(r, it), d(r, it))
        return lambda r, it: function(*[a(r, it) for a in args])

