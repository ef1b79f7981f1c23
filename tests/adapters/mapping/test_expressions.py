"""The expression language: what it computes, what it refuses at compile time, and (hypothesis) that nothing but a
mapping error ever escapes it and that it cannot reach files, imports or attributes."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.mapping.compiler import Crosswalk
from adapters.mapping.errors import MappingError, RowError
from adapters.mapping.expressions import DEFAULT_NAMESPACE, Scope, compile_expression, evaluate, guarded


class Table:
    columns = ["School_id", "Last_name"]

    def get(self, key, column):
        return {"T10": {"School_id": "100", "Last_name": "Smith"}}.get(key, {}).get(column)


def scope(item=False) -> Scope:
    grades = Crosswalk("grades", {"k": "KG", "kindergarten": "KG", "0": "KG", "10": "10"}, origin="grades.csv")
    return Scope(crosswalks={"grades": grades}, lookups={"teachers": Table()}, item=item)


ROW = {"First_name": "Jane", "Last_name": "Smith", "DOB": "09/14/2019", "Grade": "10-12", "Empty": "",
       "Teacher 2": "T20", "n": "7", "Teacher_2_id": "T20", "Teacher_3_id": "", "Teacher_4_id": "T40"}


@pytest.mark.parametrize("text, expected", [
    ("First_name", "Jane"),
    ("'lit'", "lit"),
    ("First_name + ' ' + Last_name", "Jane Smith"),
    ("concat(upper(Last_name), ', ', First_name)", "SMITH, Jane"),
    ("row['Teacher 2']", "T20"),
    ("Missing", None),
    ("int(n) * 2 + 1", 15),
    ("number('2.5') / 2", 1.25),
    ("7 // 2", 3),
    ("int(n) % 4", 3),
    ("-int(n)", -7),
    ("'big' if int(n) > 5 else 'small'", "big"),
    ("Empty or 'fallback'", "fallback"),
    ("First_name and Last_name", "Smith"),
    ("not Empty", True),
    ("Grade in ('10-12', '9')", True),
    ("'-' in Grade", True),
    ("'x' not in Grade", True),
    ("1 < int(n) <= 7", True),
    ("date(DOB, '%m/%d/%Y')", "2019-09-14"),
    ("date(DOB, '%m/%d/%Y', '%Y')", "2019"),
    ("date(Empty, '%m/%d/%Y')", None),
    ("split(Grade, '-')", ["10", "12"]),
    ("split(Grade, '-', 0)", "10"),
    ("split(Grade, '-', 5)", None),
    ("join(['a', Empty, 'b'], '/')", "a/b"),
    ("replace(Grade, '-', ' to ')", "10 to 12"),
    ("substr(Last_name, 0, 2)", "Sm"),
    ("lpad(n, 3, '0')", "007"),
    ("trim('  x ')", "x"),
    ("lower(Last_name)", "smith"),
    ("length(Last_name)", 5),
    ("text(12)", "12"),
    ("default(Empty, 'd')", "d"),
    ("coalesce(Empty, Missing, Last_name)", "Smith"),
    ("map('Kindergarten', 'grades')", "KG"),
    ("map(extract(Grade, '^(\\\\d+)-\\\\d+$') or Grade, 'grades')", "10"),
    ("map(Empty, 'grades')", None),
    ("lookup('teachers', 'T10', 'Last_name')", "Smith"),
    ("lookup('teachers', 'T99', 'Last_name')", None),
    ("columns('Teacher_{}_id', 2, 4)", ["T20", "T40"]),
    ("matches(Last_name, '^Sm')", True),
    ("extract('Period 3', '\\\\d+')", "3"),
    ("get(item_like, 'a')", None),
    ("true", True),
    ("null", None),
])
def test_values(text, expected):
    assert evaluate(text, ROW, scope=scope()) == expected


def test_id_is_uuid5_of_the_parts_and_empty_parts_give_none():
    expected = str(uuid.uuid5(uuid.UUID(bytes=DEFAULT_NAMESPACE), "enrollment\x1fS1\x1f7"))
    assert evaluate("id('enrollment', 'S1', int(n))", ROW) == expected
    assert evaluate("id('enrollment', Empty)", ROW) is None


def test_item_and_item_members_in_each_rules():
    assert evaluate("concat(item['name'], '-', item[0] if false else 'x')", ROW, {"name": "a"}, scope(True)) == "a-x"
    assert evaluate("get(item, 'a.b')", ROW, {"a": {"b": 3}}, scope(True)) == 3


@pytest.mark.parametrize("text, message", [
    ("().__class__", "attribute access"),
    ("Last_name.upper()", "only functions of the mapping language can be called"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("__import__('os')", "unknown function '__import__'"),
    ("eval('1')", "unknown function 'eval'"),
    ("getattr(Last_name, 'x')", "unknown function 'getattr'"),
    ("__builtins__", "name '__builtins__' not allowed"),
    ("[x for x in Grade]", "comprehensions"),
    ("lambda: 1", "lambda"),
    ("f'{Last_name}'", "f-strings"),
    ("Last_name[0]", "subscripts are allowed only"),
    ("row[0]", "subscripts are allowed only"),
    ("row", "'row' needs a column name"),
    ("item", "'item' exists only in rules with 'each'"),
    ("lower(x=1)", "keyword arguments"),
    ("lower(*a)", "'*' arguments"),
    ("{'a': 1}", "dict literals"),
    ("(a := 1)", "':='"),
    ("2 ** 3", "operator Pow not allowed"),
    ("a is None", "comparison Is not allowed"),
    ("b'x'", "constant b'x' not allowed"),
    ("lower()", "lower() takes 1 argument, got 0"),
    ("concat()", "concat() takes at least 1 argument"),
    ("map(Grade, 'nope')", "unknown crosswalk 'nope'"),
    ("map(Grade, Last_name)", "must be written as a quoted constant"),
    ("lookup('nope', Grade, 'x')", "unknown lookup table 'nope'"),
    ("lookup('teachers', Grade, 'Nope')", "has no column 'Nope'"),
    ("matches(Grade, '(')", "bad regular expression"),
    ("matches(Grade, '" + "a" * 300 + "')", "longer than 200"),
    ("date(DOB, 'yyyy')", "not a date format"),
    ("int('abc')", "always fails"),
    ("columns('T_id', 1, 2)", "exactly one {}"),
    ("columns('T_{}', 1, 500)", "at most 100 apart"),
    ("1 +", "syntax error"),
    ("", "empty expression"),
    ("lower(" * 60 + "1" + ")" * 60, "nested more than 40 levels"),
    ("1 + " * 400 + "1", "too complex"),
    ("x" * 3000, "longer than 2,000"),
])
def test_refused_at_compile_time(text, message):
    with pytest.raises(MappingError) as caught:
        compile_expression(text, scope())
    assert not isinstance(caught.value, RowError)
    assert message in str(caught.value)


@pytest.mark.parametrize("text, message", [
    ("date('02/29/2010', '%m/%d/%Y')", None),
    ("date(DOB, '%Y-%m-%d')", "'09/14/2019': does not match for the format %Y-%m-%d"),
    ("map(Last_name, 'grades')", "'Smith' is not in crosswalk 'grades' (grades.csv)"),
    ("int(Last_name)", "'Smith' is not a whole number"),
    ("Last_name * 2", "'*' needs numbers"),
    ("Last_name < 3", "cannot compare 'Smith' with 3"),
    ("int(n) / (int(n) - 7)", "division by zero"),
    ("fail(concat('bad ', Last_name))", "bad Smith"),
    ("lpad(n, 100000)", "lpad width above"),
    ("matches(concat(Last_name, lpad('', 2000, 'x')), 'S')", "longer than 1000"),
    ("1 in int(n)", "'in' needs text or a list"),
])
def test_row_errors(text, message):
    with pytest.raises(MappingError) as caught:
        evaluate(text, ROW, scope=scope())
    if message is None:  # folded at compile time: an always-failing constant is the mapping's error
        assert "not a real date" in str(caught.value)
        return
    assert isinstance(caught.value, RowError)
    assert message in str(caught.value)


# -- properties ---------------------------------------------------------------------------------------------------
TOKENS = st.sampled_from([
    "Last_name", "First_name", "Grade", "n", "Empty", "Missing", "item", "row", "row['Teacher 2']", "'x'", "'10-12'",
    "0", "1", "-1", "2.5", "None", "True", "(", ")", "[", "]", ",", "+", "-", "*", "/", "//", "%", "**", "==", "<",
    ">=", " in ", " not in ", " and ", " or ", "not ", " if ", " else ", ".", "__class__", "__import__", "open",
    "lower(", "concat(", "split(", "date(", "int(", "number(", "map(", "lookup(", "id(", "columns(", "matches(",
    "extract(", "lpad(", "get(", "substr(", "join(", "'%m/%d/%Y'", "'grades'", "'teachers'", "'Last_name'",
    "lambda x: ", "for", "import os", ":=", "{", "}", "'{}'", "f'", "\\", "\n", "#", "@", "yield"])
VALUES = st.one_of(st.none(), st.text(max_size=30), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                   st.booleans(), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(TOKENS, max_size=14), row=st.dictionaries(
    st.sampled_from(["Last_name", "First_name", "Grade", "n", "Empty", "Teacher 2"]), VALUES), item=VALUES)
def test_compiling_and_running_raise_only_mapping_errors(parts, row, item):
    text = "".join(parts)
    for inside_each in (False, True):
        try:
            compiled = compile_expression(text, scope(inside_each))
        except MappingError:
            continue
        try:
            guarded(compiled)(row, item)
        except MappingError:
            pass


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60))
def test_arbitrary_text_raises_only_mapping_errors(text):
    try:
        compile_expression(text, scope())
    except MappingError:
        pass


ESCAPES = ["__import__('os')", "open('/etc/passwd')", "().__class__.__bases__", "lower.__globals__",
           "(lambda: 0)()", "[c for c in ().__class__.__subclasses__()]", "getattr(row, 'x')", "globals()",
           "exec('x')", "compile('1', 'f', 'eval')", "vars()", "type(1)", "row.keys()", "item.__class__"]


@settings(max_examples=300, deadline=None)
@given(escape=st.sampled_from(ESCAPES), prefix=st.sampled_from(["", "lower(", "concat('a', ", "1 if "]),
       suffix=st.sampled_from(["", ")", " else 2", ", 'b')"]))
def test_files_imports_and_attributes_are_unreachable(escape, prefix, suffix):
    with pytest.raises(MappingError) as caught:
        compile_expression(prefix + escape + suffix, scope(True))
    assert not isinstance(caught.value, RowError)


def test_member_access_on_item_and_on_computed_values():
    item = {"a": {"b": [10, 20], "x.y": 1}}
    assert evaluate("item['a']['b'][1]", ROW, item, scope(True)) == 20
    assert evaluate("item['a']['x.y']", ROW, item, scope(True)) == 1  # a member name with a dot, as written
    assert evaluate("item['a']['nope']", ROW, item, scope(True)) is None
    assert evaluate("item['a']['b'][5]", ROW, item, scope(True)) is None
    assert evaluate("split(Grade, '-')[1]", ROW) == "12"
    assert evaluate("row[concat('First', '_name')]", ROW) == "Jane"
    assert evaluate("column(concat('first_', 'NAME'))", ROW) == "Jane"  # a computed name: case ignored
    assert evaluate("column('Nope')", ROW) is None


def test_objects_and_columns_matching():
    assert evaluate("objects('a, b,,c', 'sourcedId')", ROW) == [{"sourcedId": "a"}, {"sourcedId": "b"},
                                                                 {"sourcedId": "c"}]
    assert evaluate("objects(split(Grade, '-'), 'code', '-')", ROW) == [{"code": "10"}, {"code": "12"}]
    assert evaluate("objects(Empty, 'code')", ROW) == []
    found = evaluate(r"columns_matching('^Teacher_(?P<n>\d+)_id$')", ROW)
    assert found == [{"column": "Teacher_2_id", "value": "T20", "groups": ["2"], "n": "2"},
                     {"column": "Teacher_3_id", "value": "", "groups": ["3"], "n": "3"},
                     {"column": "Teacher_4_id", "value": "T40", "groups": ["4"], "n": "4"}]


@pytest.mark.parametrize("text, message", [
    ("item[1.5]", "a member name or a list position"),
    ("param('x')", "param(): unknown parameter 'x' (declared: none)"),
    ("columns_matching(Grade)", "must be written as a quoted constant"),
    ("columns_matching('(?P<groups>x)')", "a group may not be named groups"),
    ("objects('a', '')", "objects(): always fails: objects needs a member name"),
])
def test_new_calls_refused_at_compile_time(text, message):
    with pytest.raises(MappingError, match=re.escape(message)):
        compile_expression(text, scope(True))
