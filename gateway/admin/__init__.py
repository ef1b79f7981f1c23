"""The district admin API (``/admin/v1``), admin credentials and the admin change log.

Layers: :mod:`~gateway.admin.service` makes and logs each change (used by the API and the command line),
:mod:`~gateway.admin.auth` authenticates admins, :mod:`~gateway.admin.api` and :mod:`~gateway.admin.api_district`
are the views, :mod:`~gateway.admin.openapi` documents them and :mod:`~gateway.admin.cli` is the command line.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from gateway.admin import api  # noqa: F401  (registers its routes on the blueprint)
    from gateway.admin import api_district  # noqa: F401
    from gateway.admin import auth
    from gateway.admin.http import bp

    auth.init_app(app)
    app.register_blueprint(bp)
    app.extensions["trellis.ratelimit"].guard(app, "admin.token")  # a per-address brake on guessing secrets
