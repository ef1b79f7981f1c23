"""Loading and compiling mapping files: every mistake is reported as file:line: message."""

from __future__ import annotations

import textwrap

import pytest

from adapters.mapping import MappingError, MappingErrors, load_mapping, load_plan
from adapters.mapping.loader import MAPPINGS_DIR, schema

GOOD = """\
version: 1
name: t
sources:
  people: {file: people.csv}
crosswalks:
  grades: {values: {K: KG, "1": "01"}}
records:
  users:
    source: people
    class: User
    fields:
      sourcedId: =id
      enabledUser: true
      givenName: =first
      familyName: =last
      roles: [{roleType: primary, role: student, org: =school}]
"""


def write(tmp_path, text: str, name: str = "m.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(MappingError) as caught:
        load_plan(path)
    return str(caught.value)


def test_good_mapping_compiles(tmp_path):
    plan = load_plan(write(tmp_path, GOOD))
    assert [r.name for r in plan.rules] == ["users"]
    assert plan.columns["people"] == {"id", "first", "last", "school"}


def test_schema_file_is_valid_and_reserves_http():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    assert "http" in schema()["$defs"]["source"]["properties"]["format"]["enum"]
    assert (MAPPINGS_DIR / "schema.json").is_file()


@pytest.mark.parametrize("old, new, expected", [
    ("version: 1", "version: 2", "m.yaml:1: version: 1 was expected"),
    ("    class: User", "    class: User\n    feilds: {}", "m.yaml:11: records.users.feilds: unknown key"),
    ("  people: {file: people.csv}", "  people: {file: people.csv, delimeter: ';'}",
     "m.yaml:4: sources.people.delimeter: unknown key"),
    ("    class: User", "    class: Person", "m.yaml:10: records.users.class: 'Person' is not a record class"),
    ("    class: User", "    class: Role", "m.yaml:10: records.users.class: 'Role' is not a record class"),
    ("      givenName: =first", "      givenNam: =first", "m.yaml:14: records.users.fields.givenNam: User has no "
                                                          "field 'givenNam'"),
    ("      givenName: =first", "      givenName: =lowr(first)", "m.yaml:14: records.users.fields.givenName: unknown "
                                                                  "function 'lowr'"),
    ("      givenName: =first", "      givenName: \"=map(first, 'grade')\"",
     "m.yaml:14: records.users.fields.givenName: map(): unknown crosswalk 'grade' (known: grades)"),
    ("      givenName: =first", "      givenName: =first.upper()", "m.yaml:14: records.users.fields.givenName: only "
                                                                     "functions"),
    ("      givenName: =first", "      password: =first", "m.yaml:14: records.users.fields.password: credentials"),
    ("      givenName: =first", "      status: active", "m.yaml:14: records.users.fields.status: set by the engine"),
    ("    source: people", "    source: persons", "m.yaml:9: records.users.source: unknown source 'persons'"),
    ("      roles: [{roleType: primary, role: student, org: =school}]",
     "      roles: [{roleType: primary, rol: student, org: =school}]", "m.yaml:16: records.users.fields.roles[0].rol: "
                                                                       "Role has no field 'rol'"),
    ("      enabledUser: true", "      enabledUser: true\n      enabledUser: false", "m.yaml:14: duplicate key "
                                                                                  "'enabledUser' (first at line 13)"),
    ("      givenName: =first", "      givenName: [=first", "m.yaml:15: not valid YAML"),
    ("      sourcedId: =id", "      sourcedId: \"=id(\"", "m.yaml:12: records.users.fields.sourcedId: syntax error"),
    ("    fields:", "    each: =first\n    fields:", None),
])
def test_errors_name_file_and_line(tmp_path, old, new, expected):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    if expected is None:
        load_plan(path)
        return
    message = error_of(path)
    file, _, rest = expected.partition(":")
    assert message.startswith(str(tmp_path / file) + ":" + rest.split(":", 1)[0] + ":"), message
    assert rest.split(":", 1)[1].strip() in message, message


def test_several_schema_errors_are_all_reported_in_line_order(tmp_path):
    path = write(tmp_path, GOOD.replace("version: 1", "version: 1\nextra: 1").replace("    class: User",
                                                                                       "    class: User\n    x: 1"))
    with pytest.raises(MappingErrors) as caught:
        load_mapping(path)
    lines = [e.line for e in caught.value.errors]
    assert lines == sorted(lines) and len(lines) == 2


def test_missing_and_empty_and_non_utf8_files(tmp_path):
    assert error_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"
    assert error_of(write(tmp_path, "")) .endswith("m.yaml:1: empty mapping file")
    (tmp_path / "bad.yaml").write_bytes(b"version: 1\nname: \xff\n")
    assert error_of(tmp_path / "bad.yaml").endswith("bad.yaml:2: not UTF-8 (byte 0xff)")


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}]" for i in range(1, 9)]
    assert "nodes (aliases expanded); refused" in error_of(write(tmp_path, "\n".join(lines) + "\n"))


def test_includes_merge_and_duplicates_name_both_places(tmp_path):
    write(tmp_path, """\
        version: 1
        records:
          more:
            source: people
            class: Org
            fields: {sourcedId: =school, name: =school, type: school, identifier: =school}
        """, "more.yaml")
    plan = load_plan(write(tmp_path, GOOD + "include: [more.yaml]\n"))
    assert [r.name for r in plan.rules] == ["more", "users"]  # orgs first: users refer to them
    write(tmp_path, GOOD.replace("name: t\n", ""), "dup.yaml")
    message = error_of(write(tmp_path, GOOD + "include: [dup.yaml]\n", "main.yaml"))
    assert "dup.yaml:3: sources.people: already defined at" in message and "main.yaml:4" in message
    assert "include: no such file" in error_of(write(tmp_path, GOOD + "include: [gone.yaml]\n", "x.yaml"))
    write(tmp_path, "version: 1\ninclude: [loop2.yaml]\n", "loop1.yaml")
    write(tmp_path, "version: 1\ninclude: [loop1.yaml]\n", "loop2.yaml")
    assert "include cycle" in error_of(tmp_path / "loop1.yaml")


def test_errors_in_an_included_file_name_that_file(tmp_path):
    write(tmp_path, "version: 1\nrecords:\n  r:\n    source: people\n    class: Org\n    fields:\n"
                    "      sourcedId: =x\n      nam: =y\n", "inc.yaml")
    message = error_of(write(tmp_path, GOOD + "include: [inc.yaml]\n"))
    assert message.startswith(f"{tmp_path / 'inc.yaml'}:8: records.r.fields.nam: Org has no field 'nam'")


def test_crosswalk_files(tmp_path):
    (tmp_path / "g.csv").write_text("source,target\nK,KG\nk,KG\n1,01\n", encoding="utf-8")
    mapping = GOOD.replace('{values: {K: KG, "1": "01"}}', "{file: g.csv}")
    assert load_plan(write(tmp_path, mapping)).crosswalks["grades"].translate(" k ") == "KG"
    (tmp_path / "g.csv").write_text("source,target\nK,KG\nk,PK\n", encoding="utf-8")
    assert error_of(tmp_path / "m.yaml") == f"{tmp_path / 'g.csv'}:3: 'k' maps to 'KG' on line 2 and to 'PK' here"
    (tmp_path / "g.csv").unlink()
    assert "m.yaml:6: crosswalk file" in error_of(tmp_path / "m.yaml")


def test_literals_are_typed_by_the_target_field(tmp_path):
    mapping = GOOD.replace("      enabledUser: true", "      enabledUser: yes-please")
    plan = load_plan(write(tmp_path, mapping))
    errors: list = []
    doc = plan.rules[0].build({"id": "u1", "first": "A", "last": "B", "school": "s"}, None, errors)
    assert doc["enabledUser"] == "yes-please" and not errors  # validation (not the compiler) rejects it
    assert doc["roles"] == [{"roleType": "primary", "role": "student", "org": {"sourcedId": "s", "type": "org"}}]
