"""Big loads: statements on a writer thread keep their order and errors; SQLite indexes are rebuilt, never lost."""

import threading

import pytest
from factories import seed
from factories import user
from sqlalchemy import select
from sqlalchemy import text

from gateway.storage import bulk
from gateway.storage.records import RecordWriter
from gateway.storage.tables import record_links
from gateway.storage.tables import records


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 100 records: a few hundred puts make a "big load" that goes to the writer thread."""
    from gateway.storage import records as records_module

    monkeypatch.setattr(records_module, "BATCH", 100)


def index_definitions(engine):
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        else:
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        return dict(conn.execute(text(query)).all())


def write_users(conn, count, prefix="u"):
    writer = RecordWriter(conn, "d1")
    for n in range(count):
        writer.put("user", f"{prefix}{n}", user(f"{prefix}{n}", "Ann", f"Lee{n}", "student", [f"sch{n % 3}"]))
    return writer


def test_a_load_bigger_than_the_table_rebuilds_the_indexes_and_they_serve_queries(engine, monkeypatch, small_batches):
    monkeypatch.setattr(bulk, "DEFER_AFTER", 100)
    before = index_definitions(engine)
    dropped = []
    with engine.begin() as conn:
        writer = write_users(conn, 700)
        writer.flush()
        writer._pipeline.wait()
        dropped = list(writer._indexes.dropped)
        stats = writer.close()
    assert stats["user"]["created"] == 700
    if engine.dialect.name == "sqlite":
        assert {name for name, _sql in dropped} >= {"ix_records_org", "ix_records_user", "ix_record_links_source"}
        assert "ix_records_version" not in {name for name, _sql in dropped}
    else:
        assert dropped == []  # PostgreSQL: DROP INDEX would lock readers out
    assert index_definitions(engine) == before
    with engine.connect() as conn:
        at_school = conn.execute(select(records.c.sourced_id).where(records.c.org_ref == "sch1")).scalars().all()
        links = conn.execute(select(record_links.c.sourced_id).where(record_links.c.target == "sch2")).scalars().all()
        if engine.dialect.name == "sqlite":
            assert integrity(conn) == "ok"
    assert len(at_school) == 233 and len(links) == 233


def integrity(conn):
    return conn.exec_driver_sql("PRAGMA integrity_check").scalar()


def test_the_commit_itself_puts_the_indexes_back_when_close_was_not_called(engine, monkeypatch, small_batches):
    monkeypatch.setattr(bulk, "DEFER_AFTER", 100)
    before = index_definitions(engine)
    with engine.begin() as conn:
        writer = write_users(conn, 500)
        writer.flush()  # no close(): the commit hook waits for the writer thread and restores
    assert index_definitions(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 500


def test_a_rolled_back_load_leaves_the_indexes_and_the_table_as_they_were(engine, monkeypatch, small_batches):
    monkeypatch.setattr(bulk, "DEFER_AFTER", 100)
    before = index_definitions(engine)
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            writer = write_users(conn, 500)
            writer.flush()
            raise RuntimeError("load aborted")
    assert index_definitions(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 0


def test_a_small_load_into_a_bigger_table_keeps_its_indexes(engine, monkeypatch, small_batches):
    monkeypatch.setattr(bulk, "DEFER_AFTER", 100)
    with engine.begin() as conn:
        write_users(conn, 600, prefix="old").close()
    with engine.begin() as conn:
        writer = write_users(conn, 150)
        writer.flush()
        writer._pipeline.wait()
        assert writer._indexes.dropped == []  # 150 new records into a table of 600
        writer.close()


def test_statements_from_other_code_wait_for_the_batch_in_flight(engine, small_batches):
    seed(engine)
    with engine.begin() as conn:
        writer = write_users(conn, 250)
        writer.flush()  # the batch is on the writer thread now
        # Any statement on the connection, here a plain count, sees every row of that batch.
        assert conn.execute(text("SELECT count(*) FROM records WHERE sourced_id LIKE 'u%'")).scalar() == 250
        writer.close()


def test_an_error_on_the_writer_thread_fails_the_load_and_nothing_is_kept(engine, small_batches):
    with pytest.raises(Exception, match="(?i)not null|null value"):
        with engine.begin() as conn:
            writer = RecordWriter(conn, "d1")
            writer.tenant = None  # every row now breaks the NOT NULL tenant column
            for n in range(250):  # batches of 100: the first two go to the writer thread
                writer.put("user", f"u{n}", user(f"u{n}", "Ann", "Lee", "student", ["sch1"]))
            writer.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 0


def test_batches_run_off_the_calling_thread(engine, small_batches):
    threads = set()
    with engine.begin() as conn:
        writer = write_users(conn, 100)  # a whole batch: a big load, with its pipeline
        writer._pipeline.submit(lambda: threads.add(threading.current_thread().name))
        writer.close()
    assert len(threads) == 1 and next(iter(threads)).startswith("trellis-writer")


def test_the_thread_switch_interval_is_shortened_only_while_loading(engine, small_batches):
    import sys

    default = sys.getswitchinterval()
    with engine.begin() as conn:
        writer = write_users(conn, 150)
        writer.flush()
        assert sys.getswitchinterval() == min(default, bulk.SWITCH_INTERVAL)
        writer.close()
        assert sys.getswitchinterval() == default
        writer.put("user", "late", user("late", "Ann", "Late", "student", ["sch1"]))
        writer.close()  # after close, batches run inline on this thread
    assert sys.getswitchinterval() == default
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 151


def test_small_writes_stay_on_the_calling_thread(engine, monkeypatch):
    # An API write or a seed of a few records is not worth a thread; only a load that fills a batch starts one.
    started = []
    monkeypatch.setattr(bulk.Pipeline, "_run", lambda self, job: started.append(job) or job())
    with engine.begin() as conn:
        writer = write_users(conn, 20)
        assert writer.close()["user"]["created"] == 20
    assert started == []


def test_rewriting_stored_records_puts_the_indexes_back_for_the_rest_of_the_load(engine, monkeypatch, small_batches):
    monkeypatch.setattr(bulk, "DEFER_AFTER", 100)
    with engine.begin() as conn:
        write_users(conn, 50, prefix="old").close()
    with engine.begin() as conn:
        writer = write_users(conn, 400)  # new: the indexes are dropped
        writer.flush()
        writer._pipeline.wait()
        if engine.dialect.name == "sqlite":
            assert writer._indexes.dropped
        writer.put("user", "old1", user("old1", "Ann", "Changed", "student", ["sch2"]))  # a stored record rewritten
        for n in range(400, 700):
            writer.put("user", f"u{n}", user(f"u{n}", "Ann", f"Lee{n}", "student", ["sch1"]))
        writer.flush()
        writer._pipeline.wait()
        assert writer._indexes.dropped == []  # back, and not dropped again in this transaction
        writer.close()
    with engine.connect() as conn:
        links = conn.execute(select(record_links.c.target).where(record_links.c.sourced_id == "old1",
                                                                 record_links.c.rel == "org")).scalars().all()
    assert links == ["sch2"]
