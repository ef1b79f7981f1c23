"""The bundled PowerSchool mappings read the PowerSchool samples through a local API (the http source: OAuth client
credentials, page/pagesize paging, one section endpoint per school, a POSTed PowerQuery); the records they produce
and the problems they report are compared with golden files (regenerate with TRELLIS_UPDATE_GOLDEN=1 after an
intended change, and review the diff). Golden files of powerquery.yaml are in golden/powerschool/powerquery/."""

from __future__ import annotations

import copy
import json

import pytest

from bundled_golden_support import check_golden
from bundled_golden_support import produce as run_mapping
from helpers import REPO
from helpers import SHARED
from http_fixture import ApiServer, oauth_token_route, reply

SAMPLES = SHARED / "samples" / "formats" / "powerschool"
MAPPINGS = REPO / "mappings" / "powerschool"
GOLDEN = REPO / "tests" / "mappings" / "golden" / "powerschool"
CLIENT, SECRET, TOKEN = "ps-plugin-client", "ps-plugin-secret-0042", "ps-token-abcdef"
STUDENTS = "students:/ws/v1/district/student page 1"
PQ_PATH = "/ws/schema/query/com.example.trellis.students"
pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason=f"PowerSchool sample not found at {SAMPLES}")

# The samples have no school list; these two schools (fictitious, like the samples) are the ones they refer to.
SCHOOLS = {"schools": {"school": [
    {"id": 3, "name": "Lakeside Elementary", "school_number": 100, "low_grade": -1, "high_grade": 5},
    {"id": 5, "name": "Ridge High School", "school_number": 300, "low_grade": 9, "high_grade": 12},
]}}


def sample(name: str):
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


class PowerSchool(ApiServer):
    """The PowerSchool API as the mappings use it: bearer token required, pages of `pagesize` from `page` 1; a page
    past the end is the empty envelope."""

    def __init__(self, students=None, sections=None, roster=None):
        super().__init__()
        oauth_token_route(self, "/oauth/access_token", CLIENT, SECRET, TOKEN)
        students = students or sample("ws_v1_district_student.json")
        sections = sections or sample("ws_v1_school_section.json")
        self.paged("GET", "/ws/v1/district/school", "schools", "school", SCHOOLS["schools"]["school"])
        self.paged("GET", "/ws/v1/district/student", "students", "student", students["students"]["student"])
        for school in (3, 5):
            mine = [s for s in sections["sections"]["section"] if s["school_id"] == school]
            self.paged("GET", f"/ws/v1/school/{school}/section", "sections", "section", mine)
        roster = roster or sample("powerquery_class_roster.json")
        self.route("POST", PQ_PATH, self._guarded(lambda r: {**roster, "record": self._page(r, roster["record"])}))

    @staticmethod
    def _page(request, items):
        page, size = int(request.query.get("page", 1)), int(request.query.get("pagesize", 100))
        return items[(page - 1) * size:page * size]

    def _guarded(self, body):
        def handler(request):
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return reply({"message": "Invalid access token"}, 401)
            return reply(body(request))
        return handler

    def paged(self, method, path, envelope, member, items):
        def body(request):
            page = self._page(request, items)
            return {envelope: {"@expansions": "", member: page} if page else {"@expansions": ""}}
        self.route(method, path, self._guarded(body))


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("PS_CLIENT_ID", CLIENT)
    monkeypatch.setenv("PS_CLIENT_SECRET", SECRET)


def produce(mapping: str, api: ApiServer) -> tuple[dict, dict]:
    return run_mapping(MAPPINGS / mapping, api.url)


def by(records: dict, member: str, value):
    return next(r["record"] for r in records.values() if r["record"]["metadata"]["powerschool"][member] == value)


def test_records_match_the_golden_files(credentials):
    with PowerSchool() as api:
        produced, report = produce("mapping.yaml", api)
        pq_produced, pq_report = produce("powerquery.yaml", api)
        assert api.count("/oauth/access_token") == 2  # one token per run
    check_golden(GOLDEN, produced, report)
    check_golden(GOLDEN / "powerquery", pq_produced, pq_report)


def test_planted_edge_cases(credentials):
    with PowerSchool() as api:
        produced, report = produce("mapping.yaml", api)
        pq, pq_report = produce("powerquery.yaml", api)
    assert report["errors"] == [] and pq_report["errors"] == []
    users = {u["record"]["username"]: u for u in produced["user"].values()}
    assert users["lobrien406"]["record"]["grades"] == ["KG"]  # grade_level 0
    assert users["mtran633"]["record"]["grades"] == ["PK"]  # grade_level -1
    assert users["ggarcia520"]["record"]["grades"] == ["10"]
    assert users["lobrien406"]["from"] == "students:/ws/v1/district/student page 1 record 0"
    assert users["mtran633"]["record"]["enabledUser"] == "true"  # pre-registered
    assert "email" not in users["lobrien406"]["record"] and users["ggarcia520"]["record"]["email"]
    assert len(produced["demographics"]) == 1  # only one student has the demographics expansion
    classes = produced["class"]
    assert by(classes, "expression", "1(A)2(B-C)")["periods"] == ["1", "2"]
    assert by(classes, "expression", "8(A-E)")["periods"] == ["8"]
    assert by(classes, "expression", "3(A-E)")["classCode"] == "3H" and len(produced["course"]) == 2
    # the PowerQuery's text values give the same grades, and its students the ids /ws/v1 would give the same dcid
    pq_users = {u["record"]["identifier"]: u["record"] for u in pq["user"].values()}
    assert [pq_users[n]["grades"] for n in ("1001", "3002", "1003")] == [["KG"], ["10"], ["PK"]]
    assert pq_users["1001"]["familyName"] == "O'Brien" and pq_users["3002"]["familyName"] == "García"


def test_invalid_data_rejects_only_its_row(credentials):
    students = sample("ws_v1_district_student.json")
    bad = students["students"]["student"]
    bad[0]["school_enrollment"]["grade_level"] = 99  # not a PowerSchool grade
    bad[1]["school_enrollment"] = ""  # an empty expansion: no school, so no role
    bad[2]["name"] = ""
    sections = copy.deepcopy(sample("ws_v1_school_section.json"))
    sections["sections"]["section"][1]["expression"] = "period 1"
    with PowerSchool(students=students, sections=sections) as api:
        produced, report = produce("mapping.yaml", api)
    rejected = json.loads((GOLDEN / "demographics.json").read_text(encoding="utf-8")).popitem()[0]
    assert report["errors"] == [
        f"{STUDENTS} record 0: grades: 99 is not in crosswalk 'grades' (grades.csv)",
        f"{STUDENTS} record 1: roles: required field missing",
        f"{STUDENTS} record 2: givenName: required field missing",
        f"{STUDENTS} record 2: familyName: required field missing",
        f"{STUDENTS} record 0: sourcedId: depends on rejected user '{rejected}' ({STUDENTS} record 0)",  # demographics
        "sections:/ws/v1/school/3/section page 1 record 1: periods: expression period 1: not a PowerSchool "
        "expression such as 1(A)2(B-C) (of at most 4 periods)",
    ]
    assert "user" not in produced and len(produced["class"]) == 2


def test_errors_name_the_endpoint_never_the_secret(monkeypatch):
    monkeypatch.setenv("PS_CLIENT_ID", CLIENT)
    monkeypatch.setenv("PS_CLIENT_SECRET", "a-wrong-secret")
    from adapters.mapping import SourceError

    with PowerSchool() as api, pytest.raises(SourceError) as caught:
        produce("mapping.yaml", api)
    assert str(caught.value) == "schools: token endpoint /oauth/access_token: HTTP 401 Unauthorized (invalid_client)"
    assert "a-wrong-secret" not in str(caught.value)
