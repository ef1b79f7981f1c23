"""Engine creation and the Flask glue for the database.

SQLite (the embedded default) runs in WAL mode with foreign keys on; PostgreSQL goes through psycopg 3. Several
gateway processes may share one database: nothing here keeps state that another process could invalidate.
"""

from __future__ import annotations

import os

from flask import Flask
from flask import current_app
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.pool import StaticPool


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        memory = ":memory:" in url or url in {"sqlite://", "sqlite:///"}
        # hide_parameters: a database error logged with its SQL must not carry student values.
        engine = create_engine(url, poolclass=StaticPool, hide_parameters=True) if memory else create_engine(
            url, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        # pysqlite's own transaction handling defers BEGIN; take control so writes are serialised from the start.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


def get_engine() -> Engine:
    return current_app.extensions["trellis.engine"]


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def init_app(app: Flask) -> None:
    app.extensions["trellis.engine"] = make_engine(app.config["TRELLIS_DATABASE_URL"])
