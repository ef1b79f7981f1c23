"""Configuration: defaults → optional instance file → ``TRELLIS_*`` environment → test overrides.

Every setting the gateway reads is declared once in :data:`SETTINGS`, with its type and default, so the whole
configuration surface is greppable and validated at start-up (a bad value stops the process with a clear message).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable


class ConfigError(Exception):
    """A setting has a value the gateway cannot run with."""


def _int(minimum: int) -> Callable[[str], int]:
    def parse(value: Any) -> int:
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be at least {minimum}")
        return number

    return parse


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _database_url(value: Any) -> str:
    text = str(value)
    if not (text.startswith("sqlite") or text.startswith("postgresql")):
        raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
    if text.startswith("postgresql://"):
        text = "postgresql+psycopg://" + text[len("postgresql://") :]
    return text


def _ratelimit_storage(value: Any) -> str:
    text = str(value)
    if not text.startswith(("memory://", "redis://", "rediss://")):
        raise ValueError("must be memory:// or a redis:// (rediss://) URL")
    return text


def _rates(value: Any) -> str:
    """Rates in flask-limiter notation ("1200/minute", "20/second;1200/minute"); empty: no limit."""
    from limits import parse_many

    text = str(value).strip()
    if text:
        parse_many(text)  # ValueError names the rate it cannot read
    return text


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[Any], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", _database_url, None, "SQLAlchemy URL; default: SQLite file instance/trellis.db (WAL)"),
    Setting("DEFAULT_LIMIT", _int(1), 100, "page size when a request gives no limit"),
    Setting("MAX_LIMIT", _int(1), 10000, "largest accepted limit (the standard sets none)"),
    Setting("TOKEN_LIFETIME", _int(60), 3600, "access-token lifetime in seconds"),
    Setting("PUBLIC_URL", str, "", "absolute base URL used in hrefs and Link headers; default: the request's host"),
    Setting("STREAM_THRESHOLD", _int(1), 1000, "pages larger than this are streamed row by row"),
    Setting("LOG_LEVEL", str, "INFO", "logging level"),
    Setting("DISCLOSURE_LOG", _bool, True, "record every disclosure of student data (off only to measure its cost)"),
    Setting("SECRET_KEY", str, "", "key for signing; generated per process when empty"),
    Setting("CREDENTIAL_KEY", str, "", "key that encrypts the secrets of OAuth 1.0a apps (same on every server)"),
    Setting("RATELIMIT_STORAGE_URL", _ratelimit_storage, "memory://",
            "rate-limit counters: memory:// (one server) or redis://host:6379/0 (shared by every server)"),
    Setting("RATELIMIT_DEFAULT", _rates, "1200/minute", "requests an app may make unless it has its own limit"),
    Setting("TOKEN_RATELIMIT", _rates, "60/minute", "requests per remote address to the OAuth endpoints"),
)


def load(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the validated configuration as a ``{"TRELLIS_<KEY>": value}`` mapping."""
    raw: dict[str, Any] = {}
    instance_file = os.path.join(instance_path, "trellis.cfg")
    if os.path.exists(instance_file):
        raw.update(_read_instance_file(instance_file))
    for setting in SETTINGS:
        env = os.environ.get("TRELLIS_" + setting.key)
        if env is not None:
            raw[setting.key] = env
    for key, value in (overrides or {}).items():
        raw[key.removeprefix("TRELLIS_")] = value
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        value = raw.get(setting.key, setting.default)
        if value is not None:
            try:
                value = setting.parse(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"TRELLIS_{setting.key}={value!r}: {exc}") from None
        config["TRELLIS_" + setting.key] = value
    if config["TRELLIS_DATABASE_URL"] is None:
        os.makedirs(instance_path, exist_ok=True)
        config["TRELLIS_DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "trellis.db")
    if config["TRELLIS_DEFAULT_LIMIT"] > config["TRELLIS_MAX_LIMIT"]:
        raise ConfigError("TRELLIS_DEFAULT_LIMIT must not exceed TRELLIS_MAX_LIMIT")
    for key, value in raw.items():
        if key not in {s.key for s in SETTINGS} and key.isupper():
            config.setdefault(key, value)
    return config


def _read_instance_file(path: str) -> dict[str, str]:
    """``KEY = value`` lines; ``#`` starts a comment. Errors name the line."""
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if "=" not in line:
                raise ConfigError(f"{path}:{number}: expected KEY = value")
            key, value = (part.strip() for part in line.split("=", 1))
            values[key.removeprefix("TRELLIS_")] = value.strip("\"'")
    return values
