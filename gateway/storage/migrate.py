"""Schema migrations through Alembic, driven by the gateway's own configuration."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def require_current(engine: Engine) -> None:
    """Refuse to serve from a database whose schema is not this version's (a clear message instead of 500s)."""
    from gateway.config import ConfigError

    have, want = current(engine), head()
    if have != want:
        raise ConfigError(f"the database schema is at revision {have or 'none'}, this version needs {want}: "
                          "run `trellis db upgrade`")
