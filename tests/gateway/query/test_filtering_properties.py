"""Property tests: the filter parser fails only with FilterSyntaxError, and rendered ASTs parse back unchanged."""

from __future__ import annotations

import re

from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from gateway.query import MAX_LENGTH
from gateway.query import OPERATORS
from gateway.query import And
from gateway.query import FieldsSyntaxError
from gateway.query import FilterSyntaxError
from gateway.query import Node
from gateway.query import Or
from gateway.query import Predicate
from gateway.query import SortSyntaxError
from gateway.query import parse_fields
from gateway.query import parse_filter
from gateway.query import parse_sort
from gateway.query import to_text

# Fragments that steer generated text into every corner of the grammar rather than failing at position 0.
FRAGMENTS = [
    "a", "b.c", "roles.org.sourcedId", "_x1", "AND", "and", "OR", "Or", " AND ", " OR ", " ", "\t", "\n",
    "=", "!=", ">", ">=", "<", "<=", "~", "!", "'", "''", '"', '""', "(", ")", ".", "1", "-2.5", "true",
    "2019-01-01T00:00:00Z", "é", "\x00", "\x7f", "\u00a0", "\ud800", "🙂", "\\", ",",
]  # fmt: skip
grammarish = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(st.text(), grammarish, st.text(alphabet=st.sampled_from("a=' ()AND OR\"."), max_size=60))


def check_error(error: FilterSyntaxError, text: str) -> None:
    assert isinstance(error, ValueError)
    assert 0 <= error.position <= max(len(text), MAX_LENGTH)
    assert str(error) == f"filter: {error.message} at position {error.position}"


@settings(max_examples=1000)
@given(any_text, st.sampled_from([None, 0, 1, 2, 5]), st.booleans())
def test_parse_filter_returns_a_node_or_raises_filter_syntax_error(text, max_predicates, allow_mixed):
    try:
        node = parse_filter(text, max_predicates=max_predicates, allow_mixed=allow_mixed)
    except FilterSyntaxError as error:
        check_error(error, text)
    else:
        assert isinstance(node, Node)
        assert parse_filter(to_text(node)) == node  # whatever parses has one canonical spelling


@given(any_text)
def test_canonical_text_is_a_fixed_point(text):
    try:
        node = parse_filter(text)
    except FilterSyntaxError:
        return
    assert to_text(parse_filter(to_text(node))) == to_text(node)


@given(st.integers(min_value=MAX_LENGTH + 1, max_value=3 * MAX_LENGTH), st.sampled_from(FRAGMENTS))
def test_oversized_input_is_rejected_up_front(size, fragment):
    text = (fragment * size)[:size]
    try:
        parse_filter(text)
    except FilterSyntaxError as error:
        assert error.position == MAX_LENGTH
    else:
        raise AssertionError("oversized filter accepted")


# --- round trip --------------------------------------------------------------------------------------------------

IDENT_START = "abcxyzABCXYZ_"
identifiers = st.builds(str.__add__, st.sampled_from(IDENT_START), st.text(IDENT_START + "019", max_size=8))
paths = st.lists(identifiers, min_size=1, max_size=4).map(tuple)
values = st.one_of(st.text(st.characters(blacklist_characters="\x00"), max_size=20), st.sampled_from(["", "'", "''", '"', "O'Brien", " AND ", ") OR (", "2019-01-01"]))
predicates = st.builds(Predicate, paths, st.sampled_from(OPERATORS), values)


def groups(children):
    items = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(items.map(And), items.map(Or))


nodes = st.recursive(predicates, groups, max_leaves=12)


def kinds(node: Node) -> set[type]:
    if isinstance(node, Predicate):
        return set()
    return {type(node)}.union(*(kinds(item) for item in node.items))


@given(nodes)
def test_rendered_ast_parses_back_equal(node):
    text = to_text(node)
    assume(len(text) <= MAX_LENGTH)
    assert parse_filter(text) == node


@given(nodes)
def test_fields_are_the_predicate_paths(node):
    assert set(node.fields()) == {p.path for p in node.predicates()}
    assert len(node.fields()) == len(set(node.fields()))


@given(nodes)
def test_strict_options_accept_exactly_the_1_1_subset(node):
    text = to_text(node)
    assume(len(text) <= MAX_LENGTH)
    allowed = len(node.predicates()) <= 2 and len(kinds(node)) <= 1
    try:
        parsed = parse_filter(text, max_predicates=2, allow_mixed=False)
    except FilterSyntaxError:
        assert not allowed
    else:
        assert allowed and parsed == node


BARE_SAFE = re.compile(r"[^\s'\"()=!<>~]+")


@st.composite
def lenient_text(draw, node: Node) -> str:
    """Render with the liberties providers accept: spacing, keyword case, quote style, bare values, extra parens."""
    space = st.sampled_from(["", " ", "  ", "\t", "\n"])
    if isinstance(node, Predicate):
        value = node.value
        styles = ["single", "double"]
        if BARE_SAFE.fullmatch(value) and value.isprintable():
            styles.append("bare")
        style = draw(st.sampled_from(styles))
        if style == "single":
            value = "'" + value.replace("'", "''") + "'"
        elif style == "double":
            value = '"' + value.replace('"', '""') + '"'
        text = ".".join(node.path) + draw(space) + node.op + draw(space) + value
        if style == "bare":
            text += " "  # a bare value must not run into a following ')'-less keyword
        if draw(st.booleans()):
            text = "(" + draw(space) + text + draw(space) + ")"
        return text
    word = "AND" if isinstance(node, And) else "OR"
    parts = []
    for item in node.items:
        part = draw(lenient_text(item))
        if isinstance(node, And) and isinstance(item, Or):
            part = f"({part})"
        parts.append(part)
    keyword = draw(st.sampled_from([word, word.lower(), word.capitalize()]))
    joined = "".join(
        part + draw(st.sampled_from([" ", "  ", "\t"])) + keyword + draw(st.sampled_from([" ", "\n"]))
        for part in parts[:-1]
    )
    return joined + parts[-1]


@given(st.data(), nodes)
def test_lenient_spellings_parse_to_the_same_ast(data, node):
    text = data.draw(lenient_text(node))
    assume(len(text) <= MAX_LENGTH)
    assert parse_filter(text) == node


# --- fields and sort ---------------------------------------------------------------------------------------------


@given(any_text)
def test_parse_fields_returns_names_or_raises_fields_syntax_error(text):
    try:
        names = parse_fields(text)
    except FieldsSyntaxError as error:
        assert str(error).startswith("fields: ")
    else:
        assert all(re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name, re.ASCII) for name in names)


@given(st.lists(st.lists(identifiers, min_size=1, max_size=3).map(".".join), max_size=6))
def test_parse_fields_keeps_given_names_in_order(names):
    assert parse_fields(" , ".join(names)) == tuple(dict.fromkeys(names))


@given(st.one_of(st.none(), any_text), st.one_of(st.none(), any_text, st.sampled_from(["asc", "DESC", "acs"])))
def test_parse_sort_returns_or_raises_sort_syntax_error(sort, order_by):
    try:
        result = parse_sort(sort, order_by)
    except SortSyntaxError as error:
        assert error.parameter in ("sort", "orderBy")
    else:
        assert result is None or (isinstance(result[0], tuple) and isinstance(result[1], bool))


@given(paths, st.sampled_from(["asc", "desc", "Asc", "DESC", "acs", None]))
def test_parse_sort_round_trip(path, order_by):
    assert parse_sort(".".join(path), order_by) == (path, order_by is not None and order_by.lower() == "desc")
