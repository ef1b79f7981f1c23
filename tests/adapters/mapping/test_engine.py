"""The engine: rows to validated records, and a clear reason (with file:line) for every rejected row -- dedupe,
each, filters, lookups, references within the run and to the store, self references in any order."""

from __future__ import annotations

import pytest

from adapters.mapping import SourceError
from mapping_support import run_mapping

HEADER = """\
version: 1
name: t
sources:
  orgs: {file: orgs.csv}
  classes: {file: classes.csv, optional: true}
  enrollments: {file: enrollments.csv, optional: true}
crosswalks:
  grades: {values: {K: KG, Kindergarten: KG, "0": KG, "1": "01"}}
records:
  orgs:
    source: orgs
    class: Org
    fields:
      sourcedId: =id
      name: =name
      type: =kind or 'school'
      identifier: =id
      parent: =parent
"""
CLASSES = """\
  classes:
    source: classes
    class: Class
    fields:
      sourcedId: =id
      title: =title
      course: =course
      school: =school
      terms: [t1]
      grades: ["=map(grade, 'grades')"]
"""
ENROLLMENTS = """\
  enrollments:
    source: enrollments
    class: Enrollment
    fields:
      sourcedId: "=id('e', class_id, user)"
      user: =user
      class: =class_id
      school: =school
      role: =role
      beginDate: "=date(begin, '%m/%d/%Y')"
"""


def run(tmp_path, mapping: str, files: dict, existing=None, snapshot=True):
    return run_mapping(tmp_path, mapping, files, existing=existing, snapshot=snapshot)


ORGS = "id,name,kind,parent\nd1,District,district,\ns1,School One,,d1\n"


def test_self_references_resolve_in_any_order(tmp_path):
    records, errors, _ = run(tmp_path, HEADER, {"orgs.csv": "id,name,kind,parent\ns1,School,,d1\ns2,Two,,s1\n"
                                                            "d1,District,district,\nx,X,,nope\ny,Y,,x\n"})
    assert sorted(sid for _t, sid in records) == ["d1", "s1", "s2"]
    assert errors == ["orgs.csv:5: parent: unknown org 'nope'", "orgs.csv:6: parent: depends on rejected org 'x' (orgs.csv:5)"]


def test_references_unknown_and_rejected(tmp_path):
    files = {"orgs.csv": ORGS,
             "classes.csv": "id,title,course,school,grade\nc1,Math,k1,s1,K\nc2,Art,k1,s1,Z\nc3,Gym,k1,s9,1\n",
             "enrollments.csv": "class_id,user,school,role,begin\nc1,u1,s1,student,09/01/2024\n"
                                "c2,u1,s1,student,09/01/2024\nc1,u2,s1,pupil,09/01/2024\nc1,u3,s1,student,02/30/2024\n"}
    stored = {"user": {"u1", "u2"}, "course": {"k1"}, "academicSession": {"t1"}}
    records, errors, engine = run(tmp_path, HEADER + CLASSES + ENROLLMENTS, files, existing=stored.get)
    assert records[("class", "c1")]["grades"] == ["KG"]
    assert errors == [
        "classes.csv:3: grades: 'Z' is not in crosswalk 'grades' (inline)",
        "classes.csv:4: school: unknown org 's9'",
        "enrollments.csv:3: class: depends on rejected class 'c2' (classes.csv:3)",
        "enrollments.csv:4: role: 'pupil' is not one of administrator, proctor, student, teacher (or ext:…)",
        "enrollments.csv:5: beginDate: '02/30/2024': not a real date for the format %m/%d/%Y",
    ]
    assert [s.rejected for s in engine.stats.values()] == [0, 2, 3]
    assert engine.reasons["Class.school: unknown org …"] == 1


def test_references_to_types_the_mapping_does_not_produce_use_the_store(tmp_path):
    files = {"orgs.csv": ORGS, "enrollments.csv": "class_id,user,school,role,begin\nc1,u1,s1,student,\n"
                                                  "c1,u9,s1,student,\n"}
    _records, errors, _ = run(tmp_path, HEADER + ENROLLMENTS, files, existing=lambda t: {"c1", "u1"})
    assert errors == ["enrollments.csv:3: user: unknown user 'u9'"]
    _records, errors, _ = run(tmp_path, HEADER + ENROLLMENTS, files)  # no store: unchecked
    assert errors == []


def test_delta_mode_references_may_point_to_stored_records_of_covered_types(tmp_path):
    files = {"orgs.csv": "id,name,kind,parent\ns2,Two,,d1\n"}
    _r, errors, _ = run(tmp_path, HEADER, files, existing=lambda t: {"d1"}, snapshot=True)
    assert errors == ["orgs.csv:2: parent: unknown org 'd1'"]
    _r, errors, _ = run(tmp_path, HEADER, files, existing=lambda t: {"d1"}, snapshot=False)
    assert errors == []


def test_duplicates_without_and_with_a_dedupe_rule(tmp_path):
    files = {"orgs.csv": "id,name,kind,parent\ns1,A,,\ns1,A,,\ns1,B,,\n"}
    _r, errors, _ = run(tmp_path, HEADER, files)
    assert errors == ["orgs.csv:3: sourcedId: duplicate 's1' (first at orgs.csv:2)",
                      "orgs.csv:4: sourcedId: duplicate 's1' (first at orgs.csv:2)"]
    deduped = HEADER.replace("    class: Org\n", "    class: Org\n    dedupe: {key: =id, keep: first}\n")
    records, errors, engine = run(tmp_path, deduped, files)
    assert errors == [] and records[("org", "s1")]["name"] == "A"
    assert engine.warnings == ["orgs.csv:4: duplicate 's1' in orgs, values differ from orgs.csv:2; the first row is "
                               "kept"]
    assert engine.stats["orgs"].duplicates == 2
    _r, errors, _ = run(tmp_path, deduped.replace("keep: first", "keep: error"), files)
    assert errors[0] == "orgs.csv:3: dedupe: duplicate key 's1' (first at orgs.csv:2)"


def test_each_filter_and_lookup(tmp_path):
    mapping = HEADER.replace("  classes: {file: classes.csv, optional: true}",
                             "  sections: {file: sections.csv}") + """\
  teachers:
    source: sections
    class: Enrollment
    filter: "=status != 'inactive'"
    each: "=columns('Teacher_{}_id', 1, 3)"
    fields:
      sourcedId: "=id(Section_id, item)"
      user: =item
      class: =Section_id
      school: "=lookup('schools', Section_id, 'school')"
      role: teacher
      primary: "=item == Teacher_1_id"
lookups:
  schools:
    source: sections
    key: =Section_id
    columns: {school: =School}
"""
    files = {"orgs.csv": ORGS, "sections.csv": "Section_id,School,status,Teacher_1_id,Teacher_2_id,Teacher_3_id\n"
                                               "c1,s1,,t1,,t3\nc2,s1,inactive,t1,,\n"}
    records, errors, engine = run(tmp_path, mapping, files)
    docs = [d for (t, _s), d in records.items() if t == "enrollment"]
    assert errors == [] and engine.stats["teachers"].filtered == 1
    assert [(d["user"]["sourcedId"], d["primary"], d["school"]["sourcedId"]) for d in docs] == [
        ("t1", "true", "s1"), ("t3", "false", "s1")]


def test_missing_sources_are_named_and_optional_ones_warn(tmp_path):
    with pytest.raises(SourceError, match=r"^orgs.csv: not found in"):
        run(tmp_path, HEADER + CLASSES, {})
    _r, errors, engine = run(tmp_path, HEADER + CLASSES, {"orgs.csv": ORGS})
    assert errors == [] and any("classes.csv: not in" in w for w in engine.warnings)


def test_json_lines_and_xml_sources_through_a_mapping(tmp_path):
    mapping = """\
    version: 1
    sources:
      users: {file: users.jsonl}
      schools:
        file: schools.xml
        records: //s:School
        namespaces: {s: "urn:schools"}
        columns: {id: "@id", name: "s:Name"}
    records:
      schools:
        source: schools
        class: Org
        fields: {sourcedId: =id, name: =name, type: school, identifier: =id}
      users:
        source: users
        class: User
        fields:
          sourcedId: =id
          enabledUser: "=get(profile, 'active')"
          givenName: =row['profile.given']
          familyName: "=default(row['profile.family'], 'Unknown')"
          roles: [{roleType: primary, role: student, org: =school}]
    """
    files = {"users.jsonl": '{"id": 7, "school": "s1", "profile": {"given": "Ann", "active": true}}\n{"id": 8}\n',
             "schools.xml": '<Schools xmlns="urn:schools"><School id="s1"><Name>One</Name></School></Schools>'}
    records, errors, _ = run(tmp_path, mapping, files)
    assert records[("user", "7")]["enabledUser"] == "true" and records[("user", "7")]["familyName"] == "Unknown"
    assert records[("org", "s1")]["name"] == "One"
    assert errors == ["users.jsonl:2: enabledUser: required field missing",
                      "users.jsonl:2: givenName: required field missing",
                      "users.jsonl:2: roles: required field missing"]


def test_a_compiled_plan_runs_again_over_other_inputs_without_the_first_runs_findings(tmp_path):
    from adapters.mapping import Engine, Inputs, load_plan

    (tmp_path / "m.yaml").write_text("version: 1\nname: t\nsources:\n  orgs: {file: orgs.csv}\nrecords:\n  orgs:\n"
                                     "    source: orgs\n    class: Org\n    fields:\n      sourcedId: =id\n"
                                     "      name: =name\n      type: school\n      identifier: =id\n",
                                     encoding="utf-8")
    plan = load_plan(tmp_path / "m.yaml")
    for folder, data in (("utf8", "id,name\no1,Zoë\n".encode("utf-8")), ("cp1252", "id,name\no1,Zoë\n".encode("cp1252"))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "orgs.csv").write_bytes(data)
        with Inputs(tmp_path / folder) as inputs:
            engine = Engine(plan, inputs)
            outcomes = list(engine.run())
        # The second run detects its own encoding (it used to reuse the first run's utf-8 and reject the row).
        assert [o.errors for o in outcomes] == [[]] and outcomes[0].records[0][2]["name"] == "Zoë", folder
