"""HTTP API: OneRoster endpoints and discovery documents."""

from flask import Flask


def init_app(app: Flask) -> None:
    from gateway import admin
    from gateway.api import discovery
    from gateway.api import oneroster
    from gateway.api import privacy_me

    oneroster.register_routes(app)
    discovery.init_app(app)
    privacy_me.init_app(app)
    admin.init_app(app)
