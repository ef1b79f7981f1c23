"""The record store: change versions, unchanged detection, tombstones, links."""

from factories import DISTRICT
from factories import seed
from factories import user
from sqlalchemy import select

from gateway.storage.records import RecordWriter
from gateway.storage.tables import record_links
from gateway.storage.tables import records


def rows(engine, rtype="user"):
    with engine.connect() as conn:
        return {r.sourced_id: r for r in conn.execute(select(records).where(records.c.type == rtype))}


def test_every_write_gets_a_new_increasing_change_version(engine):
    seed(engine)
    versions = sorted(r.change_version for r in rows(engine).values())
    assert len(set(versions)) == len(versions)
    before = rows(engine)["s1"]
    with engine.begin() as conn:
        writer = RecordWriter(conn, "d1", now="2030-01-01T00:00:00.000Z")
        writer.put("user", "s1", user("s1", "Ann", "Leigh", "student", ["sch1"]))
        assert writer.close()["user"]["updated"] == 1
    after = rows(engine)["s1"]
    assert after.change_version > max(r.change_version for r in rows(engine).values() if r.sourced_id != "s1")
    assert after.change_version > before.change_version
    assert after.date_last_modified == "2030-01-01T00:00:00.000Z"


def test_writing_the_same_content_again_changes_nothing(engine):
    seed(engine)
    before = {sid: (r.change_version, r.date_last_modified) for sid, r in rows(engine).items()}
    stats = seed(engine)
    assert all(set(counter) == {"unchanged"} for counter in stats.values())
    assert {sid: (r.change_version, r.date_last_modified) for sid, r in rows(engine).items()} == before


def test_tombstones_keep_the_row_and_bump_the_version(engine):
    seed(engine)
    before = rows(engine)["s2"]
    with engine.begin() as conn:
        writer = RecordWriter(conn, "d1")
        assert writer.tombstone("user", ["s2", "nobody"]) == 1
        assert writer.tombstone("user", ["s2"]) == 0  # already deleted: untouched
    after = rows(engine)["s2"]
    assert after.status == "tobedeleted" and after.doc == before.doc
    assert after.change_version > before.change_version


def test_a_tombstoned_record_written_again_becomes_active(engine):
    seed(engine)
    with engine.begin() as conn:
        RecordWriter(conn, "d1").tombstone("user", ["s2"])
    seed(engine)
    assert rows(engine)["s2"].status == "active"


def test_links_follow_the_document(engine):
    seed(engine)
    with engine.begin() as conn:
        writer = RecordWriter(conn, "d1")
        writer.put("user", "s1", user("s1", "Ann", "Lee", "student", ["sch2"]))
        writer.close()
    with engine.connect() as conn:
        links = {(r.rel, r.target) for r in conn.execute(select(record_links).where(record_links.c.sourced_id == "s1"))}
    assert ("org", "sch2") in links and ("org", "sch1") not in links and ("role", "student") in links


def test_a_failed_transaction_leaves_nothing_half_written(engine):
    import pytest

    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            writer = RecordWriter(conn, "d1")
            for doc in DISTRICT["user"]:
                writer.put("user", doc["sourcedId"], doc)
            writer.flush()
            raise RuntimeError("import aborted")
    assert rows(engine) == {}


def test_serving_refuses_a_database_that_needs_an_upgrade(tmp_path):
    import pytest

    from gateway.config import ConfigError
    from gateway.storage import migrate
    from gateway.storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    migrate.upgrade(engine, "0001")
    with pytest.raises(ConfigError, match="trellis db upgrade"):
        migrate.require_current(engine)
    migrate.upgrade(engine)
    migrate.require_current(engine)
