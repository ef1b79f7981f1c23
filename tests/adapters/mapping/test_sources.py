"""Source formats: encodings, delimiters, header tolerance, JSON record paths, JSON Lines, XML with namespaces (and
hostile XML refused), zip bundles, and a clear error naming the place for every unreadable input."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest

from adapters.mapping import Inputs, MappingError, SourceError
from adapters.mapping.sources import FORMATS, SourceSpec, make_source
from helpers import SHARED

CLEVER = SHARED / "samples" / "formats" / "clever_sftp"
FORMATS_DIR = SHARED / "samples" / "formats"
needs_formats = pytest.mark.skipif(not CLEVER.exists(), reason=f"format samples not found at {CLEVER}")


def source(file: str, fmt: str = "csv", **options):
    return make_source(SourceSpec("s", file, fmt, options, ("m.yaml", 3)))


def read(path, file: str, fmt: str = "csv", wanted=(), **options):
    src = source(file, fmt, **options)
    with Inputs(path) as inputs:
        src.prepare(inputs)
        rows = list(src.rows(inputs, set(wanted)))
    return rows, src.notes


@needs_formats
@pytest.mark.parametrize("variant", ["students.utf8-bom.csv", "students.cp1252-crlf.csv"])
def test_encodings_read_identically(variant):
    expected, _notes = read(CLEVER, "students.csv")
    rows, notes = read(CLEVER, variant)
    assert rows == expected
    assert rows[2][1]["Last_name"] == 'García "Gigi"' and rows[0][1]["Contact_name"] == "O'Brien, Siobhan"
    if "cp1252" in variant:
        assert notes == [f"{variant}:4: not UTF-8 (byte 0xed); read as Windows-1252"]


def test_declared_encoding_mismatch_names_file_and_line(tmp_path):
    (tmp_path / "a.csv").write_bytes("id,name\n1,ok\n2,Garc\u00eda\n".encode("cp1252"))
    with pytest.raises(SourceError, match=r"^a.csv:3: encoding: not utf-8 \(byte 0xed\)"):
        read(tmp_path, "a.csv", encoding="utf-8")
    rows, _ = read(tmp_path, "a.csv", encoding="cp1252")
    assert rows[1][1]["name"] == "García"
    (tmp_path / "b.csv").write_bytes(b"id,name\n1,\x81\x8d\n")  # undefined in Windows-1252 too
    with pytest.raises(SourceError, match=r"^b.csv:2: encoding: not cp1252"):
        read(tmp_path, "b.csv")


def test_header_case_order_whitespace_and_blank_lines(tmp_path):
    (tmp_path / "a.csv").write_text(" STUDENT_ID , last_name\n\nS1 ,  Smith \n", encoding="utf-8")
    rows, notes = read(tmp_path, "a.csv", wanted={"Student_id", "Last_name", "Grade"})
    assert rows == [(3, {"Student_id": "S1", "Last_name": "Smith"}, None)]
    assert notes == ["a.csv:1: header: no column Grade (used by the mapping; treated as empty)"]
    rows, _ = read(tmp_path, "a.csv", wanted={"Student_id"}, header_case="exact", trim=False)
    assert rows[0][1] == {"STUDENT_ID": "S1 ", "last_name": "  Smith "}


def test_tsv_and_custom_delimiter(tmp_path):
    (tmp_path / "a.tsv").write_text("id\tname\n1\tA, B\n", encoding="utf-8")
    assert read(tmp_path, "a.tsv", "tsv")[0] == [(2, {"id": "1", "name": "A, B"}, None)]
    (tmp_path / "b.csv").write_text("id;name\n1;x\n", encoding="utf-8")
    assert read(tmp_path, "b.csv", delimiter=";")[0] == [(2, {"id": "1", "name": "x"}, None)]


def test_bad_csv_rows_and_headers(tmp_path):
    (tmp_path / "a.csv").write_text("id,name\n1,x,extra\n2\n3,y,\n", encoding="utf-8")
    rows, _ = read(tmp_path, "a.csv")
    assert rows[0][2] == "row: 3 values but the header has 2 columns"
    assert rows[1] == (3, {"id": "2"}, None) and rows[2] == (4, {"id": "3", "name": "y"}, None)
    (tmp_path / "b.csv").write_text("id,ID\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"^b.csv:1: header: column 'ID' appears twice \(columns 1 and 2\)"):
        read(tmp_path, "b.csv")
    (tmp_path / "c.csv").write_text("id,name\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"^c.csv:1: header: missing required columns Student_id, Grade"):
        read(tmp_path, "c.csv", required_columns=["Student_id", "Grade", "name"])
    (tmp_path / "d.csv").write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match=r"^d.csv: empty file"):
        read(tmp_path, "d.csv")
    (tmp_path / "e.csv").write_text('id,name\n1,"unterminated\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"^e.csv:\d+: not valid CSV"):
        read(tmp_path, "e.csv")
    with pytest.raises(SourceError, match=r"^gone.csv: not found in"):
        read(tmp_path, "gone.csv")


@needs_formats
def test_json_record_path_and_nested_members():
    rows, _ = read(FORMATS_DIR / "google_classroom", "courses.json", "json", records="courses")
    assert rows[0][0] == "courses[0]" and rows[0][1]["name"] == "Algebra II"
    rows, _ = read(FORMATS_DIR / "powerschool", "ws_v1_district_student.json", "json", records="students.student",
                   columns={"first": "name.first_name"})
    assert rows[0][1]["id"] == 4916 and rows[0][1]["first"] == rows[0][1]["name.first_name"]


def test_json_errors_name_the_place(tmp_path):
    (tmp_path / "a.json").write_text('{"data": {"items": [{"id": 1}, 5]}}', encoding="utf-8")
    rows, _ = read(tmp_path, "a.json", "json", records="data.items")
    assert rows == [("data.items[0]", {"id": 1}, None), ("data.items[1]", {}, "record: not an object (int)")]
    with pytest.raises(SourceError, match=r"^a.json: no 'data.nope' in the document"):
        read(tmp_path, "a.json", "json", records="data.nope")
    (tmp_path / "b.json").write_text('{"a": [1,\n  }', encoding="utf-8")
    with pytest.raises(SourceError, match=r"^b.json:2: not valid JSON"):
        read(tmp_path, "b.json", "json")


def test_json_lines_stream_and_bad_lines_reject_only_themselves(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'\xef\xbb\xbf{"id": "1", "p": {"n": "x"}}\n\n{"id": 2\n["no"]\n{"id": "4"}\n')
    rows, _ = read(tmp_path, "a.jsonl", "jsonl")
    assert rows[0] == (1, {"id": "1", "p": {"n": "x"}, "p.n": "x"}, None)
    assert rows[1][0] == 3 and rows[1][2].startswith("line: not valid JSON")
    assert rows[2] == (4, {}, "record: not an object (str)")
    assert rows[3] == (5, {"id": "4"}, None)


SIF_NS = {"sif": "http://www.sifinfo.org/infrastructure/2.x"}


@needs_formats
def test_xml_with_namespaces_and_xpath_columns():
    rows, _ = read(FORMATS_DIR / "sif_us", "StudentPersonal.xml", "xml", records="//sif:StudentPersonal",
                   namespaces=SIF_NS, columns={"id": "@RefId", "last": "sif:Name/sif:LastName",
                                               "grade": "sif:GradeLevel/sif:Code", "none": "sif:Nope"})
    assert rows[0] == (2, {"id": "A1B2C3D4E5F60718293A4B5C6D7E8F90", "last": "O'Brien", "grade": "0K", "none": None},
                       None)
    assert rows[1][1]["last"] == "García"
    default, _ = read(FORMATS_DIR / "sif_us", "StudentPersonal.xml", "xml")
    assert default[0][1]["@RefId"] == "A1B2C3D4E5F60718293A4B5C6D7E8F90" and default[0][1]["LocalId"] == "1001"


SECTIONS_XML = """<?xml version="1.0"?>
<Sections>
  <Section id="c1"><Title>Algebra</Title><Teachers><Teacher>t1</Teacher><Teacher> t2 </Teacher><Teacher/></Teachers>
    <Grades>09,10</Grades></Section>
  <Section id="c2"><Title>Art</Title><Teachers/></Section>
</Sections>"""


def test_xml_list_columns_read_every_match(tmp_path):
    (tmp_path / "s.xml").write_text(SECTIONS_XML, encoding="utf-8")
    rows, _ = read(tmp_path, "s.xml", "xml", columns={"id": "@id", "teachers": {"xpath": "Teachers/Teacher",
                                                                                  "list": True},
                                                      "first": {"xpath": "Teachers/Teacher"}})
    assert [r[1] for r in rows] == [{"id": "c1", "teachers": ["t1", "t2"], "first": "t1"},
                                    {"id": "c2", "teachers": [], "first": None}]
    with pytest.raises(MappingError, match=r"^m.yaml:3: sources.s: columns.t: an XPath, or \{xpath: ..., list: true\}"):
        source("s.xml", "xml", columns={"t": {"path": "x"}})
    with pytest.raises(MappingError, match=r"^m.yaml:3: sources.s: columns.t: a dotted path inside the record"):
        source("s.json", "json", columns={"t": {"xpath": "x"}})


def test_xml_lists_and_comma_lists_become_references_and_objects(tmp_path):
    """End to end: a list column feeds a list of references; objects() turns a comma list into a list of objects."""
    from adapters.mapping import Engine, load_plan

    data = tmp_path / "data"
    data.mkdir()
    (data / "s.xml").write_text(SECTIONS_XML, encoding="utf-8")
    (tmp_path / "m.yaml").write_text("""\
version: 1
name: t
sources:
  sections:
    file: s.xml
    records: //Section
    columns: {id: "@id", title: Title, teachers: {xpath: Teachers/Teacher, list: true}, grades: Grades}
records:
  classes:
    source: sections
    class: Class
    fields:
      sourcedId: =id
      title: =title
      course: co1
      school: s1
      terms: [t1]
      grades: "=split(grades, ',')"
      metadata: {teacherRefs: "=objects(teachers, 'sourcedId')", gradeObjects: "=objects(grades, 'code')"}
  enrollments:
    source: sections
    class: Enrollment
    each: =teachers
    fields: {sourcedId: "=concat(id, '-', item)", user: =item, class: =id, school: s1, role: teacher}
""", encoding="utf-8")
    with Inputs(data) as inputs:
        outcomes = list(Engine(load_plan(tmp_path / "m.yaml"), inputs).run())
    docs = {sid: doc for o in outcomes for _t, sid, doc in o.records}
    assert not any(o.errors for o in outcomes)
    assert docs["c1"]["metadata"] == {"teacherRefs": [{"sourcedId": "t1"}, {"sourcedId": "t2"}],
                                      "gradeObjects": [{"code": "09"}, {"code": "10"}]}
    assert docs["c1"]["grades"] == ["09", "10"] and sorted(docs) == ["c1", "c1-t1", "c1-t2", "c2"]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz><r><a>&lol3;</a></r></lolz>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><root><r><a>&xxe;</a></r></root>"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL])
def test_hostile_xml_is_refused(tmp_path, text):
    (tmp_path / "x.xml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=r"^x.xml: document type declarations \(DOCTYPE, entities\) are refused"):
        read(tmp_path, "x.xml", "xml")


def test_xml_errors(tmp_path):
    (tmp_path / "x.xml").write_text("<a>\n<b>\n</a>", encoding="utf-8")
    with pytest.raises(SourceError, match=r"^x.xml:3: not well-formed XML"):
        read(tmp_path, "x.xml", "xml")
    with pytest.raises(MappingError, match=r"^m.yaml:3: sources.s: records: bad XPath"):
        source("x.xml", "xml", records="//[")
    # lxml raises TypeError, not an XPath error, for an empty prefix: it used to escape as a traceback
    with pytest.raises(MappingError, match=r"^m.yaml:3: sources.s: records: bad XPath"):
        source("x.xml", "xml", records="//a", namespaces={"": "urn:x"})


def test_zip_bundle_nested_folder_member_and_truncated_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("export/a.csv", "id,name\n" + "".join(f"{i},n{i}\n" for i in range(3000)))
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as nested:
            nested.writestr("b.csv", "id\n7\n")
        bundle.writestr("inner.zip", inner.getvalue())
    rows, _ = read(tmp_path / "bundle.zip", "a.csv")
    assert len(rows) == 3000 and rows[-1] == (3001, {"id": "2999", "name": "n2999"}, None)
    assert read(tmp_path / "bundle.zip", "inner.zip", member="b.csv")[0] == [(2, {"id": "7"}, None)]
    data = (tmp_path / "bundle.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"^cut.zip: not a readable zip file \(truncated or corrupt"):
        Inputs(tmp_path / "cut.zip")
    with pytest.raises(SourceError, match=r"no such file or directory"):
        Inputs(tmp_path / "missing")


def test_corrupt_zip_member_names_the_file(tmp_path):
    with zipfile.ZipFile(tmp_path / "b.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("a.csv", "id,name\n" + "".join(f"{i},{i * 7919 % 1000}\n" for i in range(20000)))
    data = bytearray((tmp_path / "b.zip").read_bytes())
    data[200:260] = b"\x00" * 60  # damage the compressed stream, keep the directory
    (tmp_path / "b.zip").write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"^a.csv: cannot be read \(truncated or corrupt"):
        read(tmp_path / "b.zip", "a.csv")


def test_single_file_input_and_registry(tmp_path):
    (tmp_path / "students.csv").write_text("id\n1\n", encoding="utf-8")
    assert read(tmp_path / "students.csv", "students.csv")[0] == [(2, {"id": "1"}, None)]
    assert set(FORMATS) >= {"csv", "tsv", "json", "jsonl", "xml", "http"}
    with pytest.raises(MappingError, match=r"^m.yaml:3: sources.s: delimiter: not an option of format json"):
        source("x.json", "json", delimiter=";")
    shutil.rmtree(tmp_path)
