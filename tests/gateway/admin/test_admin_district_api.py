"""Admin API, the district: opt-outs, access codes, disclosure queries and verification, the change log."""

from admin_support import app_token
from helpers import V12
from sqlalchemy import text

from gateway.privacy.disclosures import Disclosure
from gateway.privacy.disclosures import record

USERS = f"{V12}/users"


def entry(tenant, client_id, day, fields, students=("s1",)):
    return Disclosure(tenant=tenant, client_id=client_id, endpoint="/ims/oneroster/rostering/v1p2/users",
                      record_type="user", record_ids=list(students), fields=fields, student_ids=list(students),
                      purpose="reading", occurred_at=f"{day}T12:00:00.000Z")


def test_opt_outs_hide_a_student_and_are_logged(client, admin_a):
    created = admin_a.create_app()
    token = app_token(client, created["clientId"], created["clientSecret"]).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{USERS}/s1", headers=headers).status_code == 200
    response = admin_a.put(f"/students/s1/opt-outs/{created['clientId']}")
    assert response.get_json() == {"studentId": "s1", "app": created["clientId"], "optedOut": True}
    assert client.get(f"{USERS}/s1", headers=headers).status_code == 404
    assert admin_a.delete(f"/students/s1/opt-outs/{created['clientId']}").get_json()["optedOut"] is False
    assert client.get(f"{USERS}/s1", headers=headers).status_code == 200
    assert admin_a.put("/students/s2/opt-outs/directory").get_json()["app"] == "directory"
    assert client.get(f"{USERS}/s2", headers=headers).status_code == 404
    assert admin_a.put("/students/s2/opt-outs/directory").status_code == 200  # idempotent, not logged again
    changes = [(c["action"], c["target"], c["details"]) for c in admin_a.changes() if c["action"].startswith("student")]
    assert changes == [
        ("student.opt_out", "student:s1", {"app": created["clientId"], "optedOut": {"old": False, "new": True}}),
        ("student.opt_in", "student:s1", {"app": created["clientId"], "optedOut": {"old": True, "new": False}}),
        ("student.opt_out", "student:s2", {"app": "directory", "optedOut": {"old": False, "new": True}})]
    assert admin_a.put("/students/ghost/opt-outs/directory").status_code == 404
    assert admin_a.put("/students/s1/opt-outs/not-an-app").status_code == 404


def test_access_codes_are_shown_once_listed_without_the_code_and_revocable(client, admin_a, admin_b):
    issued = admin_a.post("/students/s1/access-codes", json={"days": 7})
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    body = issued.get_json()
    assert body["studentId"] == "s1" and len(body["code"].replace("-", "")) == 25
    listed = admin_a.get("/students/s1/access-codes")
    assert [item["codeId"] for item in listed.get_json()["accessCodes"]] == [body["codeId"]]
    assert body["code"] not in listed.get_data(as_text=True)
    assert admin_a.post("/students/s1/access-codes").status_code == 201  # no body: 30 days
    assert "days" in admin_a.post("/students/s1/access-codes", json={"days": 0}).get_json()["fields"]
    assert admin_a.post("/students/t-a/access-codes", json={}).status_code == 404  # a teacher is not a student
    assert admin_b.get("/students/s1/access-codes").get_json() == {"accessCodes": []}
    assert admin_b.post(f"/access-codes/{body['codeId']}/revoke").status_code == 404
    me = client.get("/privacy/v1/me/disclosures", headers={"Authorization": f"AccessCode {body['code']}"})
    assert me.status_code == 200
    assert admin_a.post(f"/access-codes/{body['codeId']}/revoke").get_json()["revoked"] is True
    assert admin_a.post(f"/access-codes/{body['codeId']}/revoke").status_code == 409
    me = client.get("/privacy/v1/me/disclosures", headers={"Authorization": f"AccessCode {body['code']}"})
    assert me.status_code == 401
    log = [c for c in admin_a.changes() if c["action"].startswith("access_code")]
    assert [c["action"] for c in log] == ["access_code.issue", "access_code.issue", "access_code.revoke"]
    assert body["code"] not in str(log) and log[0]["details"]["codeId"]["new"] == body["codeId"]


def test_disclosure_queries_by_app_dates_field_and_student(admin_a, admin_b, engine):
    first, second = admin_a.create_app()["clientId"], admin_a.create_app(name="Maths")["clientId"]
    record(engine, entry("d1", first, "2027-01-10", ["sourcedId", "givenName"]))
    record(engine, entry("d1", first, "2027-02-10", ["sourcedId", "birthDate"], ("s2",)))
    record(engine, entry("d1", second, "2027-02-11", ["sourcedId", "givenName"]))
    record(engine, entry("d2", "other-app", "2027-02-12", ["sourcedId", "birthDate"], ("z1",)))

    def seqs(query):
        response = admin_a.get("/disclosures" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["seq"] for item in response.get_json()["disclosures"]]

    assert seqs("") == [1, 2, 3]
    assert seqs(f"?app={first}") == [1, 2]
    assert seqs(f"?app={first}&since=2027-02-01&until=2027-02-28") == [2]
    assert seqs("?field=birthDate") == [2]  # which apps received birthDate: only the first, only once
    assert seqs("?student=s2") == [2]
    assert seqs("?app=other-app") == []
    page = admin_a.get("/disclosures?limit=2").get_json()
    assert [item["seq"] for item in page["disclosures"]] == [1, 2] and page["next"] == 2
    assert seqs("?after=2") == [3]
    shown = admin_a.get("/disclosures?limit=1").get_json()["disclosures"][0]
    assert shown["app"] == first and shown["fields"] == ["givenName", "sourcedId"] and shown["studentIds"] == ["s1"]
    assert [item["seq"] for item in admin_b.get("/disclosures").get_json()["disclosures"]] == [4]
    for query, field in (("?since=soon", "since"), ("?limit=0", "limit"), ("?field=a b", "field"),
                         ("?colour=red", "colour"), ("?after=x", "after")):
        response = admin_a.get("/disclosures" + query)
        assert response.status_code == 400 and field in response.get_json()["fields"], query
    for query in ("/disclosures?until=9999-12-31", "/disclosures/apps?since=0001-01-01T00:00:00%2B05:00"):
        assert admin_a.get(query).status_code == 400, query  # were 500s (date overflow)


def test_which_apps_received_a_field(admin_a, admin_b, engine):
    first, second = admin_a.create_app()["clientId"], admin_a.create_app(name="Maths")["clientId"]
    record(engine, entry("d1", first, "2027-01-10", ["sourcedId", "birthDate"]))
    record(engine, entry("d1", first, "2027-02-10", ["sourcedId", "birthDate"], ("s2",)))
    record(engine, entry("d1", second, "2027-02-11", ["sourcedId", "givenName"]))
    record(engine, entry("d2", "other-app", "2027-02-12", ["sourcedId", "birthDate"], ("z1",)))
    apps = admin_a.get("/disclosures/apps?field=birthDate").get_json()["apps"]
    assert apps == [{"app": first, "entries": 2, "firstAt": "2027-01-10T12:00:00.000Z",
                     "lastAt": "2027-02-10T12:00:00.000Z"}]
    assert [a["app"] for a in admin_a.get("/disclosures/apps?since=2027-02-01").get_json()["apps"]] == sorted(
        [first, second])
    assert [a["app"] for a in admin_a.get("/disclosures/apps?student=s2").get_json()["apps"]] == [first]
    assert admin_b.get("/disclosures/apps?field=birthDate").get_json()["apps"][0]["app"] == "other-app"
    response = admin_a.get("/disclosures/apps?limit=5")
    assert response.status_code == 400 and "limit" in response.get_json()["fields"]


def test_disclosure_verification_reports_only_ok_and_the_first_bad_seq(admin_a, engine):
    for day in ("2027-01-01", "2027-01-02", "2027-01-03"):
        record(engine, entry("d1", "app-x", day, ["sourcedId"]))
    assert admin_a.get("/disclosures/verify").get_json() == {"ok": True, "firstBadSeq": None}
    with engine.begin() as conn:
        conn.execute(text("UPDATE disclosures SET fields = '[\"sourcedId\",\"ssn\"]' WHERE seq = 2"))
    assert admin_a.get("/disclosures/verify").get_json() == {"ok": False, "firstBadSeq": 2}


def test_the_change_log_pages_and_belongs_to_one_district(admin_a, admin_b):
    for number in range(3):
        admin_a.create_app(name=f"app {number}")
    admin_b.create_app(name="theirs")
    first = admin_a.get("/changes?limit=2").get_json()
    assert len(first["changes"]) == 2 and first["next"] == first["changes"][-1]["seq"]
    rest = admin_a.get(f"/changes?after={first['next']}").get_json()
    everything = first["changes"] + rest["changes"]
    assert rest["next"] is None and [c["action"] for c in everything] == ["admin.create"] + ["app.create"] * 3
    assert all(c["actor"] in {"cli:test", f"admin:{admin_a.admin_id}"} for c in everything)
    assert "theirs" not in str(everything)
    assert "limit" in admin_a.get("/changes?limit=5000").get_json()["fields"]
