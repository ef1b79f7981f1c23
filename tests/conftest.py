"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TRELLIS_TEST_POSTGRES_URL`` or 127.0.0.1:5432 (user postgres, database test). Each test session
creates its own database there and drops it afterwards. When PostgreSQL cannot be reached the PostgreSQL variants are
skipped with the reason, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy import make_url
from sqlalchemy import text

from gateway import create_app
from helpers import Apps
from gateway.storage import migrate
from gateway.storage.db import make_engine
from gateway.storage.tables import metadata

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_admin_url() -> str:
    url = os.environ.get("TRELLIS_TEST_POSTGRES_URL", DEFAULT_PG)
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def postgres_url():
    admin_url = _postgres_admin_url()
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any driver or network failure means "not reachable"
        reason = f"PostgreSQL not reachable at {make_url(admin_url).render_as_string()}: {type(error).__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI=true requires PostgreSQL)")
        pytest.skip(reason)
    name = f"trellis_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "trellis.db")
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def reset(engine) -> None:
    """Empty every table (the change counter starts again at zero)."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(text("INSERT INTO change_counter (id, value) VALUES (1, 0)"))


@pytest.fixture
def app(database_url, tmp_path):
    application = create_app({"TRELLIS_DATABASE_URL": database_url, "TESTING": True})
    application.instance_path = str(tmp_path)
    reset(application.extensions["trellis.engine"])
    yield application
    application.extensions["trellis.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def engine(app):
    return app.extensions["trellis.engine"]


@pytest.fixture
def apps(app, client):
    return Apps(app, client)
