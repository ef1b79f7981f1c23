"""The disclosure log: hash chain, tamper detection, concurrent appends, district queries, names-only entries."""

import hashlib
import threading

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy import text

from gateway.privacy.disclosures import GENESIS
from gateway.privacy.disclosures import ChainError
from gateway.privacy.disclosures import Disclosure
from gateway.privacy.disclosures import query
from gateway.privacy.disclosures import record
from gateway.privacy.disclosures import VerifyResult
from gateway.privacy.disclosures import verify
from gateway.storage.tables import disclosure_student_days
from gateway.storage.tables import disclosures

USERS = "/ims/oneroster/rostering/v1p2/users"
USER = "/ims/oneroster/rostering/v1p2/users/{sourcedId}"
ENROLLMENTS = "/ims/oneroster/rostering/v1p2/enrollments"


def entry(n=0, tenant="d1", client_id="app-a", endpoint=USERS, record_type="user", record_ids=None,
          fields=("sourcedId", "givenName", "familyName"), student_ids=None, purpose="reading practice",
          occurred_at=None):
    return Disclosure(tenant=tenant, client_id=client_id, endpoint=endpoint, record_type=record_type,
                      record_ids=record_ids if record_ids is not None else [f"u{n}", f"t{n}"],
                      fields=fields, student_ids=student_ids if student_ids is not None else [f"u{n}"],
                      purpose=purpose, occurred_at=occurred_at)


def chain(engine, count=5):
    return [record(engine, entry(n)) for n in range(1, count + 1)]


def sql(engine, statement, **params):
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def cli_verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_a_chain_of_entries_verifies_and_links_each_hash(engine, app):
    assert chain(engine) == [1, 2, 3, 4, 5]
    assert verify(engine).ok and verify(engine).checked == 5
    with engine.connect() as conn:
        rows = conn.execute(select(disclosures).order_by(disclosures.c.seq)).all()
    assert rows[0].prev_hash == GENESIS
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.hash
    body = {name: getattr(rows[2], name) for name in ("seq", "tenant", "client_id", "occurred_at", "endpoint",
                                                       "purpose", "record_type", "prev_hash")}
    body.update({name: orjson.loads(getattr(rows[2], name)) for name in ("record_ids", "fields", "student_ids")})
    assert rows[2].hash == hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    result = cli_verify(app)
    assert result.exit_code == 0 and result.output.strip() == "ok: 5 entries verified"


def test_an_empty_log_verifies(engine, app):
    assert verify(engine).ok and verify(engine).checked == 0
    assert cli_verify(app).output.strip() == "ok: 0 entries verified"


def _swap(engine, a, b):
    sql(engine, "UPDATE disclosures SET seq = -1 WHERE seq = :a", a=a)
    sql(engine, "UPDATE disclosures SET seq = :a WHERE seq = :b", a=a, b=b)
    sql(engine, "UPDATE disclosures SET seq = :b WHERE seq = -1", b=b)


def _unindex(engine, student):
    sql(engine, "DELETE FROM disclosure_student_days WHERE student_id = :s", s=student)


TAMPERING = {
    "altered purpose": (3, lambda e: sql(e, "UPDATE disclosures SET purpose = 'none' WHERE seq = 3")),
    "altered client": (2, lambda e: sql(e, "UPDATE disclosures SET client_id = 'app-b' WHERE seq = 2")),
    "altered fields list": (3, lambda e: sql(e, """UPDATE disclosures SET fields = '["sourcedId"]' WHERE seq = 3""")),
    "altered record id": (4, lambda e: sql(e, """UPDATE disclosures SET record_ids = '["u4"]' WHERE seq = 4""")),
    "unreadable list": (2, lambda e: sql(e, "UPDATE disclosures SET student_ids = 'x' WHERE seq = 2")),
    "deleted middle entry": (3, lambda e: (_unindex(e, "u3"), sql(e, "DELETE FROM disclosures WHERE seq = 3"))),
    "deleted last entry": (5, lambda e: (_unindex(e, "u5"), sql(e, "DELETE FROM disclosures WHERE seq = 5"))),
    "deleted first entry": (1, lambda e: sql(e, "DELETE FROM disclosures WHERE seq = 1")),
    "swapped entries": (2, lambda e: _swap(e, 2, 4)),
    "student hidden from index": (3, lambda e: _unindex(e, "u3")),
    "student added to index": (1, lambda e: sql(
        e, "INSERT INTO disclosure_student_days (tenant, student_id, day, client_id) "
           "SELECT 'd1', 'u9', day, client_id FROM disclosure_student_days WHERE student_id = 'u2'")),
    "head rolled back": (5, lambda e: sql(e, "UPDATE disclosure_head SET seq = 4")),
    "head hash replaced": (5, lambda e: sql(e, "UPDATE disclosure_head SET hash = :h", h="f" * 64)),
    "head removed": (6, lambda e: sql(e, "DELETE FROM disclosure_head")),
    "orphan index row": (6, lambda e: sql(
        e, "INSERT INTO disclosure_student_days (tenant, student_id, day, client_id) "
           "VALUES ('d1', 'u9', '2020-01-01', 'app-z')")),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_reported_at_the_first_bad_entry(engine, app, case):
    bad_seq, tamper = TAMPERING[case]
    chain(engine)
    tamper(engine)
    result = verify(engine)
    assert (result.ok, result.first_bad_seq) == (False, bad_seq), result
    assert result.checked <= 5 and result.reason
    cli = cli_verify(app)
    assert cli.exit_code == 1
    assert cli.output.startswith(f"TAMPERED at entry {bad_seq}: "), cli.output


def test_a_deleted_middle_entry_is_named_as_missing(engine):
    chain(engine)
    sql(engine, "DELETE FROM disclosures WHERE seq = 3")
    assert "missing" in verify(engine).reason


def test_verify_streams_in_batches(engine):
    chain(engine, 7)
    assert verify(engine, batch=2).checked == 7
    sql(engine, "UPDATE disclosures SET endpoint = '/x' WHERE seq = 6")
    assert verify(engine, batch=2).first_bad_seq == 6


def test_appending_over_a_removed_head_fails_closed(engine):
    chain(engine, 2)
    sql(engine, "DELETE FROM disclosure_head")
    with pytest.raises(ChainError):
        record(engine, entry(3))
    assert verify(engine).first_bad_seq == 3


@pytest.mark.parametrize("threads,each", [(4, 50)])
def test_concurrent_appends_build_one_gap_free_chain(engine, threads, each):
    errors, seqs = [], []

    def worker(t):
        try:
            for n in range(each):
                seqs.append(record(engine, entry(client_id=f"app-{t}", record_ids=[f"r{t}-{n}"],
                                                 student_ids=[f"s{t}-{n}"])))
        except Exception as error:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(error)

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    total = threads * each
    assert sorted(seqs) == list(range(1, total + 1))
    assert verify(engine) == VerifyResult(True, total)
    for t in range(threads):
        assert len(query(engine, "d1", client_id=f"app-{t}", limit=1000)) == each


def test_verify_during_live_appends_sees_one_consistent_snapshot(engine):
    chain(engine, 3)
    done, results = threading.Event(), []

    def appender():
        for n in range(60):
            record(engine, entry(n))
        done.set()

    worker = threading.Thread(target=appender)
    worker.start()
    while not done.is_set():
        results.append(verify(engine))
    worker.join()
    assert results and all(result.ok for result in results), [r for r in results if not r.ok][:1]
    assert verify(engine).checked == 63


def populate(engine):
    record(engine, entry(client_id="app-a", record_ids=["s1", "t1"], student_ids=["s1"],
                         fields=["sourcedId", "givenName"], occurred_at="2026-01-10T08:00:00.000Z"))
    record(engine, entry(client_id="app-b", endpoint="/ims/oneroster/rostering/v1p2/demographics/{sourcedId}",
                         record_type="demographics", record_ids=["s1"], student_ids=["s1"],
                         fields=["sourcedId", "birthDate", "sex"], occurred_at="2026-01-20T09:30:00.000Z"))
    record(engine, entry(client_id="app-a", endpoint=ENROLLMENTS, record_type="enrollment", record_ids=["e1", "e2"],
                         student_ids=["s2", "s3"], fields=["sourcedId", "user", "class"],
                         occurred_at="2026-01-31T23:59:59.999Z"))
    record(engine, entry(client_id="app-a", record_ids=["s2"], student_ids=["s2"], fields=["birthDate"],
                         occurred_at="2026-02-01T00:00:00.000Z"))
    record(engine, entry(tenant="d2", client_id="app-z", record_ids=["s1"], student_ids=["s1"],
                         fields=["birthDate", "givenXname"], occurred_at="2026-01-15T00:00:00.000Z"))


def seqs(entries):
    return [e["seq"] for e in entries]


def test_queries_by_app_date_field_and_student(engine):
    populate(engine)
    assert seqs(query(engine, "d1")) == [1, 2, 3, 4]
    assert seqs(query(engine, "d1", client_id="app-a")) == [1, 3, 4]
    assert seqs(query(engine, "d1", client_id="app-a", since="2026-01-15", until="2026-01-31")) == [3]
    assert seqs(query(engine, "d1", since="2026-01-20T09:30:00Z", until="2026-02-01T00:00:00.000Z")) == [2, 3]
    assert seqs(query(engine, "d1", since="2026-01-20T10:30:00+01:00")) == [2, 3, 4]
    assert seqs(query(engine, "d1", field="birthDate")) == [2, 4]
    assert {e["client_id"] for e in query(engine, "d1", field="birthDate")} == {"app-a", "app-b"}
    assert query(engine, "d1", field="birth") == []  # whole names only
    assert seqs(query(engine, "d1", student_id="s1")) == [1, 2]
    assert seqs(query(engine, "d1", student_id="s2")) == [3, 4]
    assert seqs(query(engine, "d1", student_id="s2", field="user")) == [3]
    found = query(engine, "d1", student_id="s1", client_id="app-b")[0]
    assert found["fields"] == ["birthDate", "sex", "sourcedId"] and found["record_ids"] == ["s1"]
    assert found["endpoint"].endswith("/demographics/{sourcedId}") and found["purpose"] == "reading practice"


def test_queries_page_with_after_seq_and_limit(engine):
    populate(engine)
    assert seqs(query(engine, "d1", limit=2)) == [1, 2]
    assert seqs(query(engine, "d1", limit=2, after_seq=2)) == [3, 4]
    with pytest.raises(ValueError):
        query(engine, "d1", limit=0)
    with pytest.raises(ValueError):
        query(engine, "d1", since="last tuesday")


def test_a_student_query_never_matches_an_id_differing_only_in_case(engine):
    # SQLite's LIKE ignores ASCII case: a parent of 'abc' must not see the entry that named only 'ABC'.
    day = "2026-03-02T10:00:00.000Z"
    record(engine, entry(record_ids=["abc"], student_ids=["abc"], occurred_at=day))
    record(engine, entry(record_ids=["ABC"], student_ids=["ABC"], fields=["birthDate"], occurred_at=day))
    assert seqs(query(engine, "d1", student_id="abc")) == [1]
    assert seqs(query(engine, "d1", student_id="ABC")) == [2]
    assert seqs(query(engine, "d1", field="birthdate")) == []


@pytest.mark.parametrize("bound", [{"until": "9999-12-31"}, {"since": "0001-01-01T00:00:00+05:00"}])
def test_a_date_bound_out_of_range_is_a_value_error(engine, bound):
    with pytest.raises(ValueError, match="out of range"):
        query(engine, "d1", **bound)


def test_queries_never_cross_tenants(engine):
    populate(engine)
    assert seqs(query(engine, "d2")) == [5]
    assert seqs(query(engine, "d2", student_id="s1")) == [5]
    assert seqs(query(engine, "d1", student_id="s1")) == [1, 2]
    assert query(engine, "d1", client_id="app-z") == []
    assert seqs(query(engine, "d2", field="givenXname")) == [5]
    assert query(engine, "d1", field="givenXname") == []
    assert query(engine, "d2", field="given_name") == []  # "_" is not a LIKE wildcard here
    assert query(engine, "d3") == []
    with pytest.raises(ValueError):
        query(engine, "")


@pytest.mark.parametrize("fields,error", [
    ({"givenName": "Ann"}, TypeError),
    ("givenName", TypeError),
    ([("givenName", "Ann")], TypeError),
    (["givenName", "Ann Smith"], ValueError),
    (["123-45-6789"], ValueError),
    (["2010-05-01"], ValueError),
    (["ann@example.org"], ValueError),
    (['{"birthDate": "2010-05-01"}'], ValueError),
])
def test_entries_take_field_names_never_values(fields, error):
    with pytest.raises(error) as raised:
        entry(fields=fields)
    assert "Ann" not in str(raised.value) and "6789" not in str(raised.value)


@pytest.mark.parametrize("changes", [
    {"endpoint": "/ims/oneroster/rostering/v1p2/users?filter=givenName='Ann'"},
    {"endpoint": "users"},
    {"record_ids": "u1"},
    {"student_ids": {"s1": "Ann"}},
    {"tenant": ""},
    {"occurred_at": "yesterday"},
])
def test_malformed_entries_are_refused(changes):
    with pytest.raises((TypeError, ValueError)):
        entry(**changes)


def test_stored_entries_hold_names_and_ids_only(engine):
    record(engine, entry(fields=["givenName", "userProfiles[].credentials.type", "givenName"], record_ids=["u1"],
                         student_ids=["u1", "u1"]))
    with engine.connect() as conn:
        row = conn.execute(select(disclosures)).one()
        index = conn.execute(select(disclosure_student_days.c.student_id)).scalars().all()
    assert row.fields == '["givenName","userProfiles[].credentials.type"]'
    assert row.student_ids == '["u1"]' and index == ["u1"]


def test_show_lists_a_districts_disclosures(engine, app):
    populate(engine)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "show", "--district", "d1", "--field", "birthDate"])
    assert result.exit_code == 0, result.output
    assert "app-b" in result.output and "2026-02-01T00:00:00.000Z" in result.output
    assert "app-z" not in result.output and "2 entries" in result.output
    result = runner.invoke(args=["audit", "show", "--district", "d1", "--student", "s2", "--app", "app-a",
                                 "--since", "2026-01-01", "--until", "2026-01-31", "--limit", "1"])
    assert result.exit_code == 0 and "enrollment" in result.output and "--after 3" in result.output
    result = runner.invoke(args=["audit", "show", "--district", "d1", "--since", "soon"])
    assert result.exit_code == 2 and "not an ISO date" in result.output


def test_the_student_index_grows_per_student_day_and_app_not_per_entry(engine):
    day = "2026-03-02T{:02d}:00:00.000Z"
    for hour in range(5):  # an app syncing the same roster all day
        record(engine, entry(client_id="app-a", record_ids=["s1", "s2"], student_ids=["s1", "s2"],
                             occurred_at=day.format(hour)))
    record(engine, entry(client_id="app-b", record_ids=["s1"], student_ids=["s1"], occurred_at=day.format(6)))
    record(engine, entry(client_id="app-a", record_ids=["s1"], student_ids=["s1"],
                         occurred_at="2026-03-03T01:00:00.000Z"))
    with engine.connect() as conn:
        rows = conn.execute(select(disclosure_student_days)).all()
    assert len(rows) == 4  # s1 and s2 for app-a on day 1, s1 for app-b on day 1, s1 for app-a on day 2
    assert seqs(query(engine, "d1", student_id="s1")) == [1, 2, 3, 4, 5, 6, 7]
    assert seqs(query(engine, "d1", student_id="s2")) == [1, 2, 3, 4, 5]
    assert seqs(query(engine, "d1", student_id="s2", client_id="app-b")) == []
    assert verify(engine).ok


@pytest.mark.parametrize("odd_id", ['a"b', "a_b", "a%b", "a\\b"])
def test_student_queries_match_ids_exactly_whatever_characters_they_hold(engine, odd_id):
    lookalike = {'a"b': "a'b", "a_b": "axb", "a%b": "axxb", "a\\b": "a/b"}[odd_id]
    record(engine, entry(record_ids=["r1"], student_ids=[lookalike]))
    record(engine, entry(record_ids=["r2"], student_ids=[odd_id]))
    assert seqs(query(engine, "d1", student_id=odd_id)) == [2]
    assert seqs(query(engine, "d1", student_id=lookalike)) == [1]
