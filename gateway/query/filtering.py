"""Parsers for the OneRoster ``filter``, ``sort``/``orderBy`` and ``fields`` query parameters.

Pure values and functions only (no SQL, no Flask), so the grammar can be tested and fuzzed on its own and every
storage backend compiles the same AST. Grammar: reference/oneroster.md §1.5, made as lenient as mature providers::

    filter    := or
    or        := and (OR and)*                      AND binds tighter than OR
    and       := atom (AND atom)*                   keywords any case, set off by whitespace or a parenthesis
    atom      := '(' or ')' | predicate             parentheses are an extension, nested at most 32 deep
    predicate := path op value                      optional whitespace around op
    path      := ident ('.' ident)*                 ident = [A-Za-z_][A-Za-z0-9_]*
    op        := = | != | > | >= | < | <= | ~
    value     := '...' | "..." | bare               a quote inside is doubled; bare: printable, no quotes, '(' or
                                                    operator characters, ends at whitespace, ')' or end

Positions in errors are 0-based character offsets into the filter text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

MAX_LENGTH = 4096
MAX_DEPTH = 32
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
_LONGEST_FIRST = ("!=", ">=", "<=", "=", ">", "<", "~")
_OPERATOR_LIST = "(" + ", ".join(OPERATORS) + ")"
_WHITESPACE = frozenset(" \t\r\n")
_IDENT_START = frozenset(string.ascii_letters + "_")
_IDENT_CHARS = _IDENT_START | frozenset(string.digits)
_NOT_BARE = frozenset("'\"(=!<>~")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class FilterSyntaxError(ValueError):
    """A malformed ``filter``; callers answer 400. ``position`` is the 0-based offset where parsing failed."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"filter: {self.message} at position {self.position}"


class FieldsSyntaxError(ValueError):
    """A ``fields`` entry that cannot be a field name (before any check against the entity's fields)."""


class SortSyntaxError(ValueError):
    """A malformed ``sort`` or ``orderBy``; ``parameter`` names which one."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class Node:
    """Base of the filter AST (``Predicate``, ``And``, ``Or``)."""

    __slots__ = ()

    def fields(self) -> tuple[tuple[str, ...], ...]:
        """Every field path used, once each in order of appearance, so callers can check them against an allow-list."""
        return tuple(dict.fromkeys(p.path for p in self.predicates()))

    def predicates(self) -> tuple[Predicate, ...]:
        """The leaves, left to right."""
        if isinstance(self, Predicate):
            return (self,)
        return tuple(p for item in self.items for p in item.predicates())


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    """``path op value``; the value is always the unquoted text: typing it is the compiler's job."""

    path: tuple[str, ...]
    op: str
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", tuple(self.path))


def _flatten(kind: type, items: tuple) -> tuple[Node, ...]:
    """Merge same-kind children (AND is associative), so every filter has exactly one AST and equality means sameness."""
    flat: list[Node] = []
    for item in items:
        if not isinstance(item, Node):
            raise TypeError(f"{kind.__name__} items must be filter nodes, not {type(item).__name__}")
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if len(flat) < 2:
        raise ValueError(f"{kind.__name__} needs at least two items")
    return tuple(flat)


@dataclass(frozen=True, slots=True)
class And(Node):
    """All items hold. Never directly contains another ``And``."""

    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _flatten(And, tuple(self.items)))


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Any item holds. Never directly contains another ``Or``."""

    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _flatten(Or, tuple(self.items)))


def to_text(node: Node) -> str:
    """Render canonically (single quotes, one space around keywords); ``parse_filter`` reads it back to an equal AST."""
    if isinstance(node, Predicate):
        return ".".join(node.path) + node.op + "'" + node.value.replace("'", "''") + "'"
    keyword = " AND " if isinstance(node, And) else " OR "
    return keyword.join(_operand_text(item, node) for item in node.items)


def _operand_text(item: Node, parent: Node) -> str:
    """Parenthesise only what precedence requires: an OR inside an AND."""
    text = to_text(item)
    return f"({text})" if isinstance(parent, And) and isinstance(item, Or) else text


class _Parser:
    """Recursive descent over one filter string; holds the cursor and the 1.1 strictness bookkeeping."""

    def __init__(self, text: str, max_predicates: int | None, allow_mixed: bool) -> None:
        self.text, self.pos, self.depth = text, 0, 0
        self.max_predicates, self.allow_mixed = max_predicates, allow_mixed
        self.count, self.first_keyword = 0, ""

    def fail(self, message: str, position: int | None = None) -> NoReturn:
        raise FilterSyntaxError(message, self.pos if position is None else position)

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_whitespace(self) -> None:
        while self.peek() in _WHITESPACE:
            self.pos += 1

    def parse(self) -> Node:
        node = self.disjunction()
        self.skip_whitespace()
        if self.peek() == ")":
            self.fail("unexpected ')' without a matching '('")
        if self.peek():
            self.fail("expected AND, OR or end of filter")
        return node

    def disjunction(self) -> Node:
        """ORs of AND chains, so AND binds tighter (as in SQL and the S7 parser)."""
        return self.chain("OR", Or, self.conjunction)

    def conjunction(self) -> Node:
        return self.chain("AND", And, self.atom)

    def chain(self, word: str, kind: type, operand: Callable[[], Node]) -> Node:
        items = [operand()]
        while self.keyword(word):
            items.append(operand())
        return items[0] if len(items) == 1 else kind(tuple(items))

    def keyword(self, word: str) -> bool:
        """Consume ``AND``/``OR`` in any case; a following identifier character makes it part of a longer word."""
        start = self.pos
        self.skip_whitespace()
        end = self.pos + len(word)
        candidate = self.text[self.pos : end]
        if not (candidate.isascii() and candidate.upper() == word) or self.text[end : end + 1] in _IDENT_CHARS:
            self.pos = start
            return False
        if self.pos == start and self.text[start - 1] != ")":
            self.fail(f"expected whitespace before {word}")
        if not self.first_keyword:
            self.first_keyword = word
        elif word != self.first_keyword and not self.allow_mixed:
            self.fail("AND and OR cannot be mixed in one filter")
        self.pos = end
        return True

    def atom(self) -> Node:
        self.skip_whitespace()
        return self.group() if self.peek() == "(" else self.predicate()

    def group(self) -> Node:
        opened = self.pos
        if self.depth >= MAX_DEPTH:
            self.fail(f"parentheses nested deeper than {MAX_DEPTH}")
        self.depth += 1
        self.pos += 1
        node = self.disjunction()
        self.skip_whitespace()
        if not self.peek():
            self.fail("expected a matching ')' for the '('", opened)
        if self.peek() != ")":
            self.fail("expected AND, OR or ')'")
        self.pos += 1
        self.depth -= 1
        return node

    def predicate(self) -> Predicate:
        start = self.pos
        self.count += 1
        if self.max_predicates is not None and self.count > self.max_predicates:
            self.fail(f"too many predicates (at most {self.max_predicates} allowed)", start)
        path = self.path()
        self.skip_whitespace()
        op = self.operator()
        self.skip_whitespace()
        return Predicate(path, op, self.value())

    def path(self) -> tuple[str, ...]:
        parts = [self.identifier("expected a field name")]
        while self.peek() == ".":
            self.pos += 1
            parts.append(self.identifier("expected a field name after '.'"))
        return tuple(parts)

    def identifier(self, expected: str) -> str:
        start = self.pos
        if self.peek() not in _IDENT_START:
            self.fail(expected)
        while self.peek() in _IDENT_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def operator(self) -> str:
        for op in _LONGEST_FIRST:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        self.fail(f"expected an operator {_OPERATOR_LIST}")

    def value(self) -> str:
        if self.peek() in ("'", '"'):
            return self.quoted(self.peek())
        start = self.pos
        while self.peek() and self.peek() not in _WHITESPACE and self.peek() != ")":
            char = self.peek()
            if char in _NOT_BARE or not char.isprintable():
                if self.pos == start:
                    break
                self.fail(f"unexpected {char!r} in an unquoted value (quote the value)")
            self.pos += 1
        if self.pos == start:
            self.fail("expected a value ('quoted', \"quoted\" or bare)")
        return self.text[start : self.pos]

    def quoted(self, quote: str) -> str:
        """Read up to the closing quote; a doubled quote stands for one quote character."""
        opened, chunks, cursor = self.pos, [], self.pos + 1
        while (end := self.text.find(quote, cursor)) >= 0:
            chunks.append(self.text[cursor:end])
            if not self.text.startswith(quote, end + 1):
                if (nul := self.text.find("\x00", opened, end)) >= 0:  # no stored value holds one; PostgreSQL refuses it
                    self.fail("a NUL character (%00) is not allowed in a value", nul)
                self.pos = end + 1
                return "".join(chunks)
            chunks.append(quote)
            cursor = end + 2
        self.fail(f"expected a closing {quote} for the value opened", opened)


def parse_filter(text: str, *, max_predicates: int | None = None, allow_mixed: bool = True) -> Node:
    """Parse a ``filter`` value; ``max_predicates=2, allow_mixed=False`` enforces the OneRoster 1.1 limit.

    Raises only :class:`FilterSyntaxError`, for any string. An empty filter is an error: callers decide first whether
    an absent or blank parameter means "no filter".
    """
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(text, max_predicates, allow_mixed).parse()


def _shorten(text: str, limit: int = 60) -> str:
    """Quote user input in messages without echoing kilobytes of it."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_fields(text: str) -> tuple[str, ...]:
    """Split ``fields=a,b.c`` into names (spaces stripped, empties and repeats dropped, order kept).

    Only the syntax is checked here; whether a name exists is the caller's ``invalid_selection_field`` decision.
    """
    if len(text) > MAX_LENGTH:
        raise FieldsSyntaxError(f"fields: longer than {MAX_LENGTH} characters")
    names: dict[str, None] = {}
    for raw in text.split(","):
        name = raw.strip()
        if name and not _PATH.fullmatch(name):
            raise FieldsSyntaxError(f"fields: {_shorten(name)} is not a field name (letters, digits, '_', dots)")
        if name:
            names[name] = None
    return tuple(names)


def parse_sort(sort: str | None, order_by: str | None) -> tuple[tuple[str, ...], bool] | None:
    """Return ``(path, descending)``, or None when no ``sort`` is given (``orderBy`` is still validated).

    ``acs`` is read as ``asc`` because the 1.1 OpenAPI copy spells its enum that way and clients generated from it send it.
    """
    direction = (order_by or "").strip().lower()
    if direction not in ("", "asc", "acs", "desc"):
        raise SortSyntaxError("orderBy", f"expected asc or desc, got {_shorten(order_by or '')}")
    name = (sort or "").strip()
    if not name:
        return None
    if len(name) > MAX_LENGTH or not _PATH.fullmatch(name):
        raise SortSyntaxError("sort", f"expected one field name (letters, digits, '_', dots), got {_shorten(name)}")
    return tuple(name.split(".")), direction == "desc"
