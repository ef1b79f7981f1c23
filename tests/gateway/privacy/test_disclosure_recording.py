"""Every response that discloses student data writes one disclosure-log entry: names and ids, never values."""

from factories import seed
from helpers import V11
from helpers import V12

from gateway.privacy.disclosures import query
from gateway.privacy.disclosures import verify


def entries(engine, **kwargs):
    return query(engine, "d1", **kwargs)


def test_one_entry_per_request_with_the_students_and_field_names_sent(client, apps, engine):
    seed(engine)
    headers = apps.headers()
    response = client.get(f"{V12}/users?limit=100", headers=headers)
    assert response.status_code == 200
    [entry] = entries(engine)
    assert entry["endpoint"] == "/ims/oneroster/rostering/v1p2/users"
    assert entry["record_type"] == "user"
    assert entry["record_ids"] == ["s1", "s2", "s3", "s4", "s5", "s6"]  # teachers are not students' data
    assert entry["student_ids"] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert "givenName" in entry["fields"] and "phone" not in entry["fields"]
    assert "Ann" not in str(entry)  # names of fields, never values


def test_field_selection_is_what_gets_logged(client, apps, engine):
    seed(engine)
    client.get(f"{V12}/students/s1?fields=givenName", headers=apps.headers())
    [entry] = entries(engine)
    assert entry["fields"] == ["givenName"] and entry["student_ids"] == ["s1"]
    assert entry["endpoint"] == "/ims/oneroster/rostering/v1p2/students/{sourcedId}"


def test_enrollments_and_demographics_are_logged_against_their_student(client, apps, engine):
    seed(engine)
    headers = apps.headers()
    client.get(f"{V12}/classes/cls1/students", headers=headers)
    client.get(f"{V12}/enrollments?filter=class.sourcedId%3D%27cls1%27", headers=headers)
    client.get(f"{V12}/demographics/s2", headers=headers)
    logged = entries(engine)
    assert [e["record_type"] for e in logged] == ["user", "enrollment", "demographics"]
    assert logged[1]["record_ids"] == ["e1", "e2"] and logged[1]["student_ids"] == ["s1", "s2"]
    assert [e["seq"] for e in entries(engine, student_id="s2")] == [e["seq"] for e in logged]


def test_records_without_student_data_are_not_logged(client, apps, engine):
    seed(engine)
    headers = apps.headers()
    for path in ("orgs", "classes", "courses", "terms", "teachers"):
        assert client.get(f"{V12}/{path}", headers=headers).status_code == 200
    assert entries(engine) == []


def test_streamed_pages_and_1p1_are_logged_too(app, client, apps, engine):
    seed(engine)
    app.config["TRELLIS_STREAM_THRESHOLD"] = 1
    scopes = ["https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"]
    response = client.get(f"{V11}/students?limit=50", headers=apps.headers(scopes=scopes))
    assert response.is_streamed and len(response.get_json()["users"]) == 6
    [entry] = entries(engine)
    assert entry["endpoint"] == "/ims/oneroster/v1p1/students" and len(entry["record_ids"]) == 6
    assert "role" in entry["fields"]  # the 1.1 field names actually sent


def test_the_log_stays_verifiable_and_can_be_switched_off_for_measurement(app, client, apps, engine):
    seed(engine)
    headers = apps.headers()
    for _ in range(3):
        client.get(f"{V12}/users", headers=headers)
    assert verify(engine).ok and verify(engine).checked == 3
    app.config["TRELLIS_DISCLOSURE_LOG"] = False
    client.get(f"{V12}/users", headers=headers)
    assert len(entries(engine)) == 3
