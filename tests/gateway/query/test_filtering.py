"""Example tests for the OneRoster filter / sort / fields parsers (reference/oneroster.md §1.4, §1.5, §1.10)."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.query import MAX_DEPTH
from gateway.query import MAX_LENGTH
from gateway.query import OPERATORS
from gateway.query import And
from gateway.query import FieldsSyntaxError
from gateway.query import FilterSyntaxError
from gateway.query import Or
from gateway.query import Predicate
from gateway.query import SortSyntaxError
from gateway.query import parse_fields
from gateway.query import parse_filter
from gateway.query import parse_sort
from gateway.query import to_text


def P(path: str, op: str, value: str) -> Predicate:
    return Predicate(tuple(path.split(".")), op, value)


def error_of(text: str, **options) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text, **options)
    return caught.value


# --- predicates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "!=", ">", ">=", "<", "<=", "~"])
def test_every_operator(op):
    assert parse_filter(f"dateLastModified{op}'2019-01-01T00:00:00Z'") == P(
        "dateLastModified", op, "2019-01-01T00:00:00Z"
    )


def test_operators_constant_lists_the_seven_predicates():
    assert OPERATORS == ("=", "!=", ">", ">=", "<", "<=", "~")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("status='active'", P("status", "=", "active")),
        ("role='student'", P("role", "=", "student")),
        ("email~'stud1'", P("email", "~", "stud1")),
        ("BarInt='4'", P("BarInt", "=", "4")),
        ("_private1='x'", P("_private1", "=", "x")),
    ],
)
def test_spec_examples(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    ["status = 'active'", "status  ='active'", "status=  'active'", "\tstatus\t=\t'active'\t", "  status='active'  "],
)
def test_optional_whitespace_around_operator_and_filter(text):
    assert parse_filter(text) == P("status", "=", "active")


@pytest.mark.parametrize("text", ["a >= '1'", "a>='1'", "a >='1'"])
def test_two_character_operators_are_read_whole(text):
    assert parse_filter(text) == P("a", ">=", "1")


def test_two_character_operators_cannot_be_split():
    assert error_of("a> ='1'").position == 3  # '>' read, then '=' where a value belongs


@pytest.mark.parametrize(
    "text, path",
    [
        ("roles.org.sourcedId='o1'", ("roles", "org", "sourcedId")),
        ("course.sourcedId='c1'", ("course", "sourcedId")),
        ("metadata.district.code='D7'", ("metadata", "district", "code")),
    ],
)
def test_dotted_paths(text, path):
    node = parse_filter(text)
    assert node.path == path
    assert node.fields() == (path,)


# --- values ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("familyName='O''Brien'", "O'Brien"),
        ("familyName=''''", "'"),
        ("familyName=''''''", "''"),
        ("familyName=''", ""),
        ("familyName='a''''b'", "a''b"),
        ('familyName="O\'Brien"', "O'Brien"),
        ('familyName="say ""hi"""', 'say "hi"'),
        ('familyName=""', ""),
        ("familyName='say \"hi\"'", 'say "hi"'),
        ("familyName='  spaced  '", "  spaced  "),
        ("familyName='a AND b=''c'' OR (d)'", "a AND b='c' OR (d)"),
        ("familyName='Łódź ß 漢字 🙂'", "Łódź ß 漢字 🙂"),
        ("familyName='back\\slash'", "back\\slash"),
        ("familyName='line\nbreak'", "line\nbreak"),
    ],
)
def test_quoted_values_and_escapes(text, value):
    assert parse_filter(text) == P("familyName", "=", value)


@pytest.mark.parametrize(
    "text, value",
    [
        ("grade=4", "4"),
        ("score>=-1.5e3", "-1.5e3"),
        ("enabledUser=true", "true"),
        ("enabledUser=FALSE", "FALSE"),
        ("dateLastModified>2019-01-01T00:00:00Z", "2019-01-01T00:00:00Z"),
        ("dateLastModified>2019-01-01T00:00:00.000+02:00", "2019-01-01T00:00:00.000+02:00"),
        ("birthDate<=2010-12-31", "2010-12-31"),
        ("sourcedId=abc-123_x", "abc-123_x"),
        ("name=José", "José"),
    ],
)
def test_bare_values(text, value):
    assert parse_filter(text).value == value


def test_bare_value_ends_at_whitespace_or_parenthesis():
    assert parse_filter("a=1 AND b=2") == And((P("a", "=", "1"), P("b", "=", "2")))
    assert parse_filter("(a=1)") == P("a", "=", "1")
    assert parse_filter("a=1   ") == P("a", "=", "1")


def test_values_are_always_strings():
    assert parse_filter("a=4").value == parse_filter("a='4'").value == "4"


# --- logical operators -------------------------------------------------------------------------------------------


def test_and_and_or_from_the_spec():
    assert parse_filter("role='student' AND dateLastModified>'2019-01-01'") == And(
        (P("role", "=", "student"), P("dateLastModified", ">", "2019-01-01"))
    )
    assert parse_filter("username='stud1' OR email~'stud1'") == Or(
        (P("username", "=", "stud1"), P("email", "~", "stud1"))
    )


@pytest.mark.parametrize("keyword", ["and", "And", "aNd", "AND"])
def test_keywords_are_case_insensitive(keyword):
    assert parse_filter(f"a='1' {keyword} b='2'") == And((P("a", "=", "1"), P("b", "=", "2")))


@pytest.mark.parametrize("spaces", [" ", "  ", "\t", " \n "])
def test_any_whitespace_around_keywords(spaces):
    assert parse_filter(f"a='1'{spaces}OR{spaces}b='2'") == Or((P("a", "=", "1"), P("b", "=", "2")))


def test_chains_are_flat():
    assert parse_filter("a='1' AND b='2' AND c='3'") == And((P("a", "=", "1"), P("b", "=", "2"), P("c", "=", "3")))
    assert parse_filter("a='1' OR b='2' OR c='3'") == Or((P("a", "=", "1"), P("b", "=", "2"), P("c", "=", "3")))


def test_and_binds_tighter_than_or():
    a, b, c, d = (P(x, "=", "1") for x in "abcd")
    assert parse_filter("a='1' AND b='1' OR c='1'") == Or((And((a, b)), c))
    assert parse_filter("a='1' OR b='1' AND c='1'") == Or((a, And((b, c))))
    assert parse_filter("a='1' OR b='1' AND c='1' OR d='1'") == Or((a, And((b, c)), d))
    assert parse_filter("a='1' AND b='1' OR c='1' AND d='1'") == Or((And((a, b)), And((c, d))))


def test_parentheses_group():
    a, b, c = (P(x, "=", "1") for x in "abc")
    assert parse_filter("(a='1' OR b='1') AND c='1'") == And((Or((a, b)), c))
    assert parse_filter("a='1' AND (b='1' OR c='1')") == And((a, Or((b, c))))
    assert parse_filter("((a='1'))") == a
    assert parse_filter("( a='1' )") == a
    assert parse_filter("(a='1' AND b='1') AND c='1'") == And((a, b, c))
    assert parse_filter("a='1' OR (b='1' OR c='1')") == Or((a, b, c))
    assert parse_filter("(a='1')AND(b='1')") == And((a, b))
    assert parse_filter("a='1' AND(b='1')") == And((a, b))


def test_keyword_like_field_names_and_values():
    assert parse_filter("AND='x'") == P("AND", "=", "x")
    assert parse_filter("orgs.sourcedId='x' OR ORDER='y'") == Or((P("orgs.sourcedId", "=", "x"), P("ORDER", "=", "y")))
    assert parse_filter("a=and") == P("a", "=", "and")
    assert parse_filter("a=OR OR b=AND") == Or((P("a", "=", "OR"), P("b", "=", "AND")))


def test_nesting_up_to_the_limit_is_accepted():
    text = "(" * MAX_DEPTH + "a='1'" + ")" * MAX_DEPTH
    assert parse_filter(text) == P("a", "=", "1")


def test_long_chains_do_not_recurse():
    text = " AND ".join(f"f{i}={i}" for i in range(300))
    assert len(text) <= MAX_LENGTH
    assert len(parse_filter(text).items) == 300


# --- AST ---------------------------------------------------------------------------------------------------------


def test_nodes_are_immutable_and_hashable():
    node = parse_filter("a='1' AND b='2'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.items = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.items[0].value = "x"
    assert hash(node) == hash(parse_filter("a = '1' and b = \"2\""))


def test_constructors_normalise():
    a, b, c = (P(x, "=", "1") for x in "abc")
    assert And([a, And([b, c])]) == And((a, b, c))
    assert Or((Or((a, b)), c)) == Or((a, b, c))
    assert And((Or((a, b)), c)).items[0] == Or((a, b))
    assert Predicate(["x", "y"], "=", "1").path == ("x", "y")
    with pytest.raises(ValueError):
        And((a,))
    with pytest.raises(TypeError):
        Or((a, "b='1'"))


def test_fields_lists_each_path_once_in_order():
    node = parse_filter("b.c='1' AND (a='1' OR b.c='2') AND a~'x'")
    assert node.fields() == (("b", "c"), ("a",))
    assert [p.value for p in node.predicates()] == ["1", "1", "2", "x"]


@pytest.mark.parametrize(
    "node, text",
    [
        (P("a", "=", "1"), "a='1'"),
        (P("a.b", "~", "O'Brien"), "a.b~'O''Brien'"),
        (And((P("a", "=", "1"), Or((P("b", "=", "2"), P("c", "=", "3"))))), "a='1' AND (b='2' OR c='3')"),
        (Or((P("a", "=", "1"), And((P("b", "=", "2"), P("c", "=", "3"))))), "a='1' OR b='2' AND c='3'"),
    ],
)
def test_to_text(node, text):
    assert to_text(node) == text
    assert parse_filter(text) == node


# --- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, position, expected",
    [
        ("", 0, "expected a field name"),
        ("   ", 3, "expected a field name"),
        ("='x'", 0, "expected a field name"),
        ("1a='x'", 0, "expected a field name"),
        ("ñame='x'", 0, "expected a field name"),
        ("a..b='x'", 2, "expected a field name after '.'"),
        ("a.='x'", 2, "expected a field name after '.'"),
        ("givenName'x'", 9, "expected an operator (=, !=, >, >=, <, <=, ~)"),
        ("givenName 'x'", 10, "expected an operator (=, !=, >, >=, <, <=, ~)"),
        ("givenName", 9, "expected an operator"),
        ("a=='x'", 2, "expected a value"),
        ("a<>'x'", 2, "expected a value"),
        ("a!'x'", 1, "expected an operator"),
        ("a=", 2, "expected a value"),
        ("a= ", 3, "expected a value"),
        ("a=)", 2, "expected a value"),
        ("a='x", 2, "expected a closing ' for the value opened"),
        ("a='O''Brien", 2, "expected a closing ' for the value opened"),
        ("a='x''", 2, "expected a closing '"),
        ('a="x', 2, 'expected a closing " for the value opened'),
        ("a=b=c", 3, "unexpected '=' in an unquoted value"),
        ("a=b'c'", 3, "unexpected \"'\" in an unquoted value"),
        ("a=b(c)", 3, "unexpected '(' in an unquoted value"),
        ("a=b\x00c", 3, "unexpected '\\x00' in an unquoted value"),
        ("a=\x07", 2, "expected a value"),
        ("a='x' b='y'", 6, "expected AND, OR or end of filter"),
        ("a='x'b='y'", 5, "expected AND, OR or end of filter"),
        ("a='x' ANDROID='y'", 6, "expected AND, OR or end of filter"),
        ("a='x' XOR b='y'", 6, "expected AND, OR or end of filter"),
        ("a='x' && b='y'", 6, "expected AND, OR or end of filter"),
        ("a='x'AND b='y'", 5, "expected whitespace before AND"),
        ("a='x'or b='y'", 5, "expected whitespace before OR"),
        ("a='x' AND", 9, "expected a field name"),
        ("a='x' AND ", 10, "expected a field name"),
        ("a='x' OR 'y'", 9, "expected a field name"),
        ("AND a='x'", 4, "expected an operator"),
        ("a='x' AND AND b='y'", 14, "expected an operator"),
        ("a='x')", 5, "unexpected ')' without a matching '('"),
        (")", 0, "expected a field name"),
        ("()", 1, "expected a field name"),
        ("(a='x'", 0, "expected a matching ')' for the '('"),
        ("((a='x')", 0, "expected a matching ')' for the '('"),
        ("(a='x' b='y')", 7, "expected AND, OR or ')'"),
        ("(a='x'))", 7, "unexpected ')' without a matching '('"),
    ],
)
def test_errors_name_position_and_expectation(text, position, expected):
    error = error_of(text)
    assert error.position == position
    assert expected in error.message
    assert str(error) == f"filter: {error.message} at position {position}"
    assert isinstance(error, ValueError)


def test_error_message_format_from_the_brief():
    assert str(error_of("givenName'x'")) == "filter: expected an operator (=, !=, >, >=, <, <=, ~) at position 9"


def test_error_args_allow_reconstruction():
    error = error_of("a='x")
    assert error.args == (error.message, error.position)
    assert str(FilterSyntaxError(*error.args)) == str(error)


def test_input_is_capped():
    ok = "a='" + "x" * (MAX_LENGTH - 4) + "'"
    assert len(ok) == MAX_LENGTH
    assert parse_filter(ok).value == "x" * (MAX_LENGTH - 4)
    error = error_of(ok + " ")
    assert error.position == MAX_LENGTH
    assert f"longer than {MAX_LENGTH} characters" in str(error)
    assert error_of("a='1' " * 100_000).position == MAX_LENGTH


def test_nesting_is_capped():
    text = "(" * (MAX_DEPTH + 1) + "a='1'" + ")" * (MAX_DEPTH + 1)
    error = error_of(text)
    assert error.position == MAX_DEPTH
    assert f"nested deeper than {MAX_DEPTH}" in error.message
    assert error_of("(" * 4000).position == MAX_DEPTH


@pytest.mark.parametrize("text", ["\x00", "\ufeffa='1'", "a\u00a0='1'", "a='1'\u2028OR b='2'", "\ud800", "🙂"])
def test_odd_characters_are_syntax_errors(text):
    error_of(text)


# --- OneRoster 1.1 strict options ----------------------------------------------------------------------------------


STRICT = {"max_predicates": 2, "allow_mixed": False}


@pytest.mark.parametrize(
    "text",
    ["a='1'", "a='1' AND b='2'", "a='1' OR b='2'", "(a='1') AND (b='2')"],
)
def test_strict_accepts_what_1_1_allows(text):
    assert parse_filter(text, **STRICT) == parse_filter(text)


def test_strict_rejects_a_third_predicate_at_its_position():
    error = error_of("a='1' AND b='2' AND c='3'", **STRICT)
    assert error.position == 20
    assert "too many predicates (at most 2 allowed)" in error.message


def test_max_predicates_alone():
    assert parse_filter("a='1' AND b='2' OR c='3'", max_predicates=3)
    assert error_of("a='1' OR b='2'", max_predicates=1).position == 9
    assert error_of("a='1'", max_predicates=0).position == 0


@pytest.mark.parametrize(
    "text, position",
    [
        ("a='1' AND b='2' OR c='3'", 16),
        ("a='1' OR b='2' AND c='3'", 15),
        ("(a='1' OR b='2') AND c='3'", 17),
    ],
)
def test_allow_mixed_false_rejects_and_with_or(text, position):
    error = error_of(text, allow_mixed=False)
    assert error.position == position
    assert "AND and OR cannot be mixed" in error.message


def test_allow_mixed_false_accepts_long_single_kind_chains():
    assert len(parse_filter("a=1 OR b=2 OR c=3 or d=4", allow_mixed=False).items) == 4


# --- fields --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sourcedId,status", ("sourcedId", "status")),
        (" sourcedId , status ", ("sourcedId", "status")),
        ("sourcedId,,status,", ("sourcedId", "status")),
        ("sourcedId,status,sourcedId", ("sourcedId", "status")),
        ("roles.org.sourcedId", ("roles.org.sourcedId",)),
        ("", ()),
        (" , ,", ()),
    ],
)
def test_parse_fields(text, expected):
    assert parse_fields(text) == expected


@pytest.mark.parametrize("text", ["a b", "a,b-c", "1a", "a.", ".a", "a..b", "a;b", "a,ñ", "x" * 5000])
def test_parse_fields_rejects_non_names(text):
    with pytest.raises(FieldsSyntaxError) as caught:
        parse_fields(text)
    assert str(caught.value).startswith("fields: ")
    assert len(str(caught.value)) < 200
    assert isinstance(caught.value, ValueError)


# --- sort / orderBy ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sort, order_by, expected",
    [
        ("familyName", None, (("familyName",), False)),
        ("familyName", "asc", (("familyName",), False)),
        ("familyName", "ASC", (("familyName",), False)),
        ("familyName", "acs", (("familyName",), False)),
        ("familyName", "desc", (("familyName",), True)),
        ("familyName", " Desc ", (("familyName",), True)),
        ("familyName", "", (("familyName",), False)),
        (" course.sourcedId ", "desc", (("course", "sourcedId"), True)),
        (None, None, None),
        ("", "desc", None),
        ("  ", None, None),
    ],
)
def test_parse_sort(sort, order_by, expected):
    assert parse_sort(sort, order_by) == expected


@pytest.mark.parametrize(
    "sort, order_by, parameter",
    [
        ("familyName", "descending", "orderBy"),
        ("familyName", "up", "orderBy"),
        (None, "sideways", "orderBy"),
        ("family name", None, "sort"),
        ("familyName,givenName", "asc", "sort"),
        ("a.", None, "sort"),
        ("-familyName", None, "sort"),
        ("x" * 5000, None, "sort"),
    ],
)
def test_parse_sort_errors_name_the_parameter(sort, order_by, parameter):
    with pytest.raises(SortSyntaxError) as caught:
        parse_sort(sort, order_by)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter}: ")
    assert len(str(caught.value)) < 200
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["givenName<'\x00'", "givenName='a\x00b'", 'givenName="\x00"'])
def test_a_nul_character_is_a_syntax_error_not_a_database_error(text):
    # Found by test_robustness on PostgreSQL: a NUL in a value reached the driver and answered 500.
    with pytest.raises(FilterSyntaxError, match="NUL"):
        parse_filter(text)
