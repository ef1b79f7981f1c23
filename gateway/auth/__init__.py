"""Authentication: app credentials, the OAuth 2.0 token endpoint, bearer tokens, OAuth 1.0a signatures, rate limits."""

from flask import Flask

from gateway.auth import oauth1
from gateway.auth import ratelimit
from gateway.auth import server
from gateway.auth.server import require

__all__ = ["init_app", "require"]


def init_app(app: Flask) -> None:
    server.init_app(app)
    oauth1.init_app(app)
    ratelimit.init_app(app)  # after server: it limits the OAuth blueprint
