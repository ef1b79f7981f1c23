"""WSGI entry point: ``gunicorn wsgi:app``. Refuses to start on a database that needs ``trellis db upgrade``."""

from gateway import create_app
from gateway.storage.migrate import require_current

app = create_app()
require_current(app.extensions["trellis.engine"])
