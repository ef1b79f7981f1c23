"""Access codes: issued for a district's students only, high-entropy, kept as hashes, expiring, revocable, and bound
to one student of one district (two districts are seeded with the same ids on purpose)."""

import hashlib
import re
import time

import pytest
from factories import seed
from sqlalchemy import select

from gateway.auth.secrets import token_key
from gateway.privacy import access_codes as ac
from gateway.storage.records import RecordWriter
from gateway.storage.tables import access_codes

CODE = re.compile(r"([0-9A-HJKMNP-TV-Z]{5}-){4}[0-9A-HJKMNP-TV-Z]{5}")


@pytest.fixture
def districts(engine):
    seed(engine, "d1")
    seed(engine, "d2")
    return engine


def issue(engine, tenant="d1", student="s1", created_by="admin-1", **kwargs):
    with engine.begin() as conn:
        return ac.issue_code(conn, tenant, student, created_by=created_by, **kwargs)


def resolve(engine, code):
    with engine.connect() as conn:
        return ac.resolve(conn, code)


def stored(engine):
    with engine.connect() as conn:
        return [row._asdict() for row in conn.execute(select(access_codes))]


def test_a_code_is_long_random_typable_and_kept_only_as_its_hash(districts):
    before = int(time.time())
    issued = issue(districts)
    assert CODE.fullmatch(issued.code)  # 25 base32 characters: 125 bits
    assert len(issued.code.replace("-", "")) * 5 >= 100
    assert issued.student_id == "s1" and before + 30 * 86400 <= issued.expires_at <= int(time.time()) + 30 * 86400
    [row] = stored(districts)
    assert row["code_hash"] == hashlib.sha256(issued.code.replace("-", "").encode()).hexdigest()
    assert row["code_id"] == issued.code_id and row["tenant"] == "d1" and row["student_id"] == "s1"
    assert row["created_by"] == "admin-1" and row["revoked"] == 0 and row["expires_at"] == issued.expires_at
    flat = " ".join(str(value) for value in row.values())
    assert issued.code not in flat and issued.code.replace("-", "") not in flat
    assert len({issue(districts).code for _ in range(20)}) == 20


def test_a_code_resolves_to_its_student_and_district_however_it_is_typed(districts):
    d1 = issue(districts)
    d2 = issue(districts, "d2")
    assert resolve(districts, d1.code) == ("d1", "s1")
    assert resolve(districts, d2.code) == ("d2", "s1")
    typed = d1.code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert resolve(districts, f"  {typed} ") == ("d1", "s1")
    assert resolve(districts, d1.code.replace("-", "")) == ("d1", "s1")


@pytest.mark.parametrize("garbage", ["", "ABCDE", "A" * 25, "U" * 25, "-" * 10_000, None, 12345, b"bytes"])
def test_anything_else_resolves_to_nothing(districts, garbage):
    issue(districts)
    assert resolve(districts, garbage) is None


def test_expired_and_revoked_codes_resolve_to_nothing(districts):
    expired, revoked, kept = issue(districts), issue(districts), issue(districts)
    with districts.begin() as conn:
        conn.execute(access_codes.update().where(access_codes.c.code_id == expired.code_id)
                     .values(expires_at=int(time.time()) - 1))
        ac.revoke_code(conn, "d1", revoked.code_id)
        ac.revoke_code(conn, "d1", revoked.code_id)  # twice is harmless
    assert resolve(districts, expired.code) is None
    assert resolve(districts, revoked.code) is None
    assert resolve(districts, kept.code) == ("d1", "s1")


@pytest.mark.parametrize("days", [0, 366, -1, True, 1.5, "30", None])
def test_days_must_be_a_whole_number_from_1_to_365(districts, days):
    with pytest.raises(ac.AccessCodeError, match="days"):
        issue(districts, days=days)
    assert stored(districts) == []


def test_days_bounds_are_inclusive(districts):
    now = int(time.time())
    assert issue(districts, days=1).expires_at - now in range(86400, 86400 + 5)
    assert issue(districts, days=365).expires_at - now in range(365 * 86400, 365 * 86400 + 5)


@pytest.mark.parametrize("tenant,student", [("d1", "t-a"), ("d1", "ghost"), ("d3", "s1"), ("d1", ""),
                                            ("d1", "sch1")])
def test_only_a_student_of_that_district_gets_a_code(districts, tenant, student):
    with pytest.raises(ac.AccessCodeError, match="no student"):
        issue(districts, tenant, student)
    assert stored(districts) == []


def test_a_deleted_student_gets_no_code(districts):
    with districts.begin() as conn:
        RecordWriter(conn, "d1").tombstone("user", ["s3"])
    with pytest.raises(ac.AccessCodeError, match="no student 's3' in district 'd1'"):
        issue(districts, student="s3")
    assert issue(districts, "d2", "s3").student_id == "s3"


def test_the_issuer_is_recorded(districts):
    with pytest.raises(ac.AccessCodeError, match="created_by"):
        issue(districts, created_by=" ")


def test_revoking_is_bound_to_the_district(districts):
    d1 = issue(districts)
    with districts.begin() as conn:
        with pytest.raises(ac.AccessCodeError, match="no access code"):
            ac.revoke_code(conn, "d2", d1.code_id)
        with pytest.raises(ac.AccessCodeError, match="no access code"):
            ac.revoke_code(conn, "d1", "ac-nothing")
    assert resolve(districts, d1.code) == ("d1", "s1")


def test_list_codes_shows_one_districts_codes_never_the_codes_or_hashes(districts):
    first = issue(districts, student="s1")
    second = issue(districts, student="s2", days=7)
    other = issue(districts, "d2", "s1")
    with districts.begin() as conn:
        ac.revoke_code(conn, "d1", first.code_id)
        listed = ac.list_codes(conn, "d1")
        only_s2 = ac.list_codes(conn, "d1", student_id="s2")
        d2 = ac.list_codes(conn, "d2")
    assert [entry["code_id"] for entry in listed] == [first.code_id, second.code_id]
    assert set(listed[0]) == {"code_id", "student_id", "created_at", "created_by", "expires_at", "revoked"}
    assert listed[0]["revoked"] is True and listed[1]["revoked"] is False
    assert only_s2 == [listed[1]]
    assert only_s2[0]["expires_at"] == ac.iso_instant(second.expires_at)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", only_s2[0]["expires_at"])
    assert [entry["code_id"] for entry in d2] == [other.code_id]
    text = repr(listed + d2)
    for issued in (first, second, other):
        assert issued.code not in text and token_key(ac.normalise(issued.code)) not in text
