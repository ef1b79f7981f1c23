"""Trellis: a privacy-first Ed-Fi / OneRoster interoperability gateway.

:func:`create_app` only assembles the parts; each subsystem registers itself with ``init_app``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from gateway import config as configuration


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application. ``overrides`` (tests) win over the instance file and ``TRELLIS_*`` variables."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(configuration.load(app.instance_path, overrides))
    if overrides:
        app.config.update({key: value for key, value in overrides.items() if not key.startswith("TRELLIS_")})
    logging.basicConfig(level=app.config["TRELLIS_LOG_LEVEL"].upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Authlib's DEBUG records carry issued access tokens and client objects: never below INFO, whatever the level.
    logging.getLogger("authlib").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    if not app.config["TRELLIS_SECRET_KEY"]:
        import secrets

        app.config["TRELLIS_SECRET_KEY"] = secrets.token_hex(32)
    app.config["SECRET_KEY"] = app.config["TRELLIS_SECRET_KEY"]

    from gateway import api
    from gateway import auth
    from gateway import cli
    from gateway import errors
    from gateway.storage import db

    db.init_app(app)
    errors.register_error_handlers(app)
    auth.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app
