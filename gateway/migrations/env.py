"""Alembic environment: the URL comes from the Trellis configuration, never from alembic.ini."""

from alembic import context
from sqlalchemy import create_engine

from gateway.storage.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
