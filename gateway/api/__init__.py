"""HTTP API: OneRoster endpoints and discovery documents."""

from flask import Flask


def init_app(app: Flask) -> None:
    from gateway.api import discovery
    from gateway.api import oneroster

    oneroster.register_routes(app)
    discovery.init_app(app)
