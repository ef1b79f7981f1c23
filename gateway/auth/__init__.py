"""Authentication: app credentials, the OAuth 2.0 token endpoint and bearer-token checks."""

from gateway.auth.server import init_app
from gateway.auth.server import require

__all__ = ["init_app", "require"]
