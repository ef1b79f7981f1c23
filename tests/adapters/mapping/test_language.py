"""The language features that lift the old limits: each over columns chosen by a header pattern and over cross
products (with item_filter), computed column names, rule-level deletions, multi-valued and unique-checked lookups,
optional references and run parameters -- each with the place of every problem, never a traceback."""

from __future__ import annotations

import pytest

from adapters.mapping import MappingError
from mapping_support import compile_error, run_mapping


def run(tmp_path, mapping: str, files: dict, params=None, **options):
    return run_mapping(tmp_path, mapping, files, params=params, **options)


ORGS = "sources:\n  orgs: {file: orgs.csv}\n"
GRADES = """\
version: 1
name: t
sources:
  book: {file: book.csv}
lookups:
  points:
    source: book
    key: =Student
    filter: "=Student == 'Points'"
    columns: all
records:
  items:
    source: book
    class: LineItem
    filter: "=Student != 'Points'"
    each:
      assignment: "=columns_matching('^(?P<title>.+) \\\\((?P<id>\\\\d+)\\\\)$')"
      section: "=split(Sections, ',')"
    item_filter: "=item['assignment']['value'] != ''"
    fields:
      sourcedId: "=concat(item['assignment']['id'], '-', item['section'], '-', Student)"
      title: "=item['assignment']['title']"
      class: =item['section']
      category: c1
      school: sch
      assignDate: 2024-01-01T00:00:00Z
      dueDate: 2024-01-01T00:00:00Z
      resultValueMax: "=number(lookup('points', 'Points', item['assignment']['column']))"
      description: "=concat(item['assignment']['groups'][0], '/', column(concat('Note ', item['assignment']['id'])))"
"""
BOOK = ("Student,Sections,Quiz (1),Essay (Draft) (2),Total Score,Note 1,Note 2\n"
        "Points,,10,25,,,\n"
        "ann,\"s1,s2\",9,,80,n1,n2\n"
        "bob,s1,7,20,70,,m2\n")


def test_each_over_header_pattern_cross_product_and_computed_columns(tmp_path):
    records, errors, engine = run(tmp_path, GRADES, {"book.csv": BOOK})
    assert errors == []
    docs = {sid: doc for (_t, sid), doc in records.items()}
    assert sorted(docs) == ["1-s1-ann", "1-s1-bob", "1-s2-ann", "2-s1-bob"]  # ann's blank essay: no item
    essay = docs["2-s1-bob"]
    assert (essay["title"], essay["resultValueMax"], essay["class"]["sourcedId"]) == ("Essay (Draft)", 25, "s1")
    assert essay["description"] == "Essay (Draft)/m2"  # groups[0]; column('Note 2') by computed name
    assert docs["1-s2-ann"]["description"] == "Quiz/n1"
    assert engine.stats["items"].filtered == 1 and engine.stats["items"].produced == 4


def test_row_subscript_with_a_computed_name_ignores_case(tmp_path):
    mapping = GRADES.replace("column(concat('Note ', item['assignment']['id']))",
                             "row[concat('NOTE ', item['assignment']['id'])]")
    records, errors, _ = run(tmp_path, mapping, {"book.csv": BOOK})
    assert errors == [] and records[("lineItem", "2-s1-bob")]["description"] == "Essay (Draft)/m2"


def test_a_cross_product_too_large_rejects_the_row(tmp_path):
    mapping = GRADES.replace("section: \"=split(Sections, ',')\"", "section: \"=split(Sections, ',')\"\n"
                             "      n: \"=split(Many, ',')\"").replace("Note 2\n", "Note 2,Many\n")
    book = BOOK.replace("Note 2\n", "Note 2,Many\n").replace("n2\n", "n2,\"" + ",".join(map(str, range(6000)))
                                                                    + "\"\n")
    _records, errors, _ = run(tmp_path, mapping, {"book.csv": book})
    assert errors == ["book.csv:3: each: more than 10,000 combinations (2 x 2 x 6000)"]


@pytest.mark.parametrize("change, message", [
    (("(?P<id>", "(?P<value>"), "m.yaml:17: records.items.each.assignment: columns_matching(): a group may not be "
                                "named value"),
    (("lookup('points', 'Points', item", "lookup('nope', 'Points', item"), "unknown lookup table 'nope'"),
    (("    item_filter:", "    item_filters:"), "records.items.item_filters: unknown key"),
])
def test_compile_errors_name_the_line(tmp_path, change, message):
    assert message in compile_error(tmp_path, GRADES.replace(*change))


def test_item_filter_needs_each(tmp_path):
    mapping = GRADES.replace("    each:\n", "    eachx:\n")
    assert "m.yaml:" in compile_error(tmp_path, mapping)
    no_each = ("version: 1\n" + ORGS + "records:\n  orgs:\n    source: orgs\n    class: Org\n    item_filter: =True\n"
               "    fields: {sourcedId: =id, name: =id, type: school, identifier: =id}\n")
    assert compile_error(tmp_path, no_each).endswith("m.yaml:8: records.orgs.item_filter: only in rules with 'each'")


DELETES = """\
version: 1
name: t
sources:
  orgs: {file: orgs.csv}
records:
  orgs:
    source: orgs
    class: Org
    delete: "=status == 'tobedeleted'"
    fields:
      sourcedId: =id
      name: =name
      type: =kind
      identifier: =id
      parent: =parent
"""


def test_delete_produces_tobedeleted_records_that_need_only_their_id(tmp_path):
    records, errors, _ = run(tmp_path, DELETES, {"orgs.csv": "id,name,kind,parent,status\n"
                                                             "s1,One,school,,active\n"
                                                             "s2,,,gone,tobedeleted\n"
                                                             "s3,,school,,active\n"
                                                             ",,,,tobedeleted\n"})
    assert records[("org", "s1")]["status"] == "active"
    assert records[("org", "s2")]["status"] == "tobedeleted"  # no name, bad type, unknown parent: still deleted
    assert errors == ["orgs.csv:4: name: required field missing", "orgs.csv:5: sourcedId: required field missing"]


def test_a_delete_expression_that_fails_rejects_the_row(tmp_path):
    mapping = DELETES.replace("=status == 'tobedeleted'", "=int(status) > 0")
    _records, errors, _ = run(tmp_path, mapping, {"orgs.csv": "id,name,kind,parent,status\ns1,One,school,,x\n"})
    assert errors == ["orgs.csv:2: delete: 'x' is not a whole number"]


LOOKUPS = """\
version: 1
name: t
sources:
  people: {file: people.csv}
  phones: {file: phones.csv}
lookups:
  phones:
    source: phones
    key: =person
    columns: [number, kind]
    many: true
  owner:
    source: phones
    key: =number
    columns: [person]
    unique: UNIQUE
records:
  users:
    source: people
    class: User
    fields:
      sourcedId: =id
      enabledUser: true
      givenName: =id
      familyName: =id
      roles: [{roleType: primary, role: student, org: o1}]
      phone: "=join(lookup('phones', id, 'number'), ';')"
      sms: "=lookup('owner', '555', 'person')"
      metadata: {mobile: "=lookup('phones', id)"}
"""


def test_many_lookups_give_lists_and_unique_warns_with_both_places(tmp_path):
    mapping = LOOKUPS.replace("UNIQUE", "warn")
    files = {"people.csv": "id\na\nb\n", "phones.csv": "person,number,kind\na,555,home\na,556,mobile\nb,555,work\n"}
    records, errors, engine = run(tmp_path, mapping, files)
    assert errors == []
    a = records[("user", "a")]
    assert a["phone"] == "555;556" and a["sms"] == "a"  # the first row of a repeated key is kept
    assert a["metadata"]["mobile"] == [{"number": "555", "kind": "home"}, {"number": "556", "kind": "mobile"}]
    assert records[("user", "b")]["phone"] == "555"
    assert engine.warnings == ["phones.csv:4: lookup owner: duplicate key '555' (first at phones.csv:2); the first "
                               "row is kept"]


def test_unique_error_rejects_the_rows_that_look_up_a_repeated_key(tmp_path):
    mapping = LOOKUPS.replace("UNIQUE", "error")
    files = {"people.csv": "id\na\n", "phones.csv": "person,number,kind\na,555,home\nb,555,work\n"}
    records, errors, engine = run(tmp_path, mapping, files)
    assert errors == ["people.csv:2: sms: lookup table 'owner': key '555' is not unique (phones.csv:2 and "
                      "phones.csv:3)"]
    assert engine.warnings == []


def test_many_and_unique_together_is_a_mapping_error(tmp_path):
    mapping = LOOKUPS.replace("    many: true\n", "    many: true\n    unique: warn\n").replace("UNIQUE", "warn")
    assert "m.yaml:12: lookups.phones.unique: a many table keeps every row of a key" in compile_error(tmp_path, mapping)


def test_each_over_a_many_lookup(tmp_path):
    mapping = """\
    version: 1
    name: t
    sources:
      people: {file: people.csv}
      phones: {file: phones.csv}
    lookups:
      phones: {source: phones, key: =person, columns: all, many: true}
    records:
      orgs:
        source: people
        class: Org
        each: "=lookup('phones', id)"
        fields:
          sourcedId: "=item['number']"
          name: "=item['kind']"
          type: school
          identifier: =id
    """
    files = {"people.csv": "id\na\nb\n", "phones.csv": "person,number,kind\na,555,home\na,556,mobile\nc,557,x\n"}
    records, errors, _ = run(tmp_path, mapping, files)
    assert errors == [] and sorted(sid for _t, sid in records) == ["555", "556"]


OPTIONAL = """\
version: 1
name: t
sources:
  users: {file: users.csv}
records:
  users:
    source: users
    class: User
    optional_references: [agents, primaryOrg, roles.org]
    fields:
      sourcedId: =id
      enabledUser: true
      givenName: =id
      familyName: =id
      roles: [{roleType: primary, role: student, org: =org}]
      primaryOrg: =org
      agents: "=split(agents, ' ')"
"""


def test_optional_references_are_dropped_with_a_warning(tmp_path):
    files = {"users.csv": "id,org,agents\nu1,o1,u2 p9\nu2,o1,\nu3,o2,u1\n"}
    records, errors, engine = run(tmp_path, OPTIONAL, files, existing=lambda rtype: {"o1"} if rtype == "org" else set(),
                                  snapshot=False)
    assert records[("user", "u1")]["agents"] == [{"sourcedId": "u2", "type": "user"}]
    assert "users.csv:2: agents: unknown user 'p9'; the optional reference is dropped" in engine.warnings
    # u3's org is unknown: primaryOrg is dropped, but roles[].org is required: the row is still rejected
    assert ("user", "u3") not in records
    assert errors == ["users.csv:4: roles[0].org: required field missing"]
    assert any(w.startswith("users.csv:4: primaryOrg: unknown org 'o2'; the optional reference is dropped")
               for w in engine.warnings)


def test_optional_references_must_name_a_reference(tmp_path):
    message = compile_error(tmp_path, OPTIONAL.replace("[agents, primaryOrg, roles.org]", "[agents, givenName]"))
    assert "m.yaml:9: records.users.optional_references[1]: 'givenName' is not a reference of User" in message


PARAMS = """\
version: 1
name: t
parameters:
  term: {description: the term, format: integer}
  region: {default: north}
sources:
  orgs: {file: orgs.csv}
records:
  orgs:
    source: orgs
    class: Org
    fields:
      sourcedId: =id
      name: "=concat(name, ' ', param('region'), ' ', param('term') + 1)"
      type: school
      identifier: =id
"""


def test_parameters_reach_expressions_converted(tmp_path):
    records, errors, _ = run(tmp_path, PARAMS, {"orgs.csv": "id,name\ns1,One\n"}, params={"term": "3"})
    assert errors == [] and records[("org", "s1")]["name"] == "One north 4"
    records, _e, _ = run(tmp_path, PARAMS, {"orgs.csv": "id,name\ns1,One\n"}, params={"term": 2, "region": "x"})
    assert records[("org", "s1")]["name"] == "One x 3"


@pytest.mark.parametrize("params, message", [
    ({}, "m.yaml:4: missing parameter term (the term): give it with --param term=VALUE"),
    ({"term": "x"}, "m.yaml:4: parameter term: 'x' is not a whole number"),
    ({"term": "1", "terms": "2"}, "unknown parameter terms (the mapping declares: region, term)"),
])
def test_parameter_problems_stop_the_run_naming_the_parameter(tmp_path, params, message):
    with pytest.raises(MappingError) as caught:
        run(tmp_path, PARAMS, {"orgs.csv": "id,name\ns1,One\n"}, params=params)
    assert str(caught.value).endswith(message)


@pytest.mark.parametrize("change, message", [
    (("param('region')", "param('regio')"), "param(): unknown parameter 'regio' (declared: region, term)"),
    (("format: integer", "format: integer, default: 'x'"), "m.yaml:4: parameters.term.default: 'x' is not a whole"),
    (("format: integer", "format: week"), "m.yaml:4: parameters.term.format"),
])
def test_parameter_declarations_are_checked(tmp_path, change, message):
    assert message in compile_error(tmp_path, PARAMS.replace(*change))


def test_objects_feed_a_list_of_references(tmp_path):
    mapping = OPTIONAL.replace("=split(agents, ' ')", "=objects(agents, 'sourcedId', ' ')")
    records, errors, _ = run(tmp_path, mapping, {"users.csv": "id,org,agents\nu1,o1,u2  u3\nu2,o1,\nu3,o1,\n"})
    assert errors == [] and records[("user", "u1")]["agents"] == [{"type": "user", "sourcedId": "u2"},
                                                                  {"type": "user", "sourcedId": "u3"}]
