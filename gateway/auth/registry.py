"""Registering apps (OAuth clients) for a district. The secret is returned once and stored only as a hash."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import select

from gateway.auth import scopes as scope_names
from gateway.auth.secrets import hash_secret
from gateway.auth.secrets import new_client_id
from gateway.auth.secrets import new_secret
from gateway.storage.records import utc_now
from gateway.storage.tables import apps
from gateway.storage.tables import districts


class RegistryError(ValueError):
    """A registration request that cannot be honoured (unknown district, unknown scope, ...)."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


def ensure_district(conn: Connection, district_id: str, name: str | None = None) -> None:
    if conn.execute(select(districts.c.id).where(districts.c.id == district_id)).first() is None:
        conn.execute(districts.insert().values(id=district_id, name=name or district_id, created_at=utc_now()))


def district_exists(conn: Connection, district_id: str) -> bool:
    return conn.execute(select(districts.c.id).where(districts.c.id == district_id)).first() is not None


def checked_profile(xml: str, name: str | None, source: str) -> str | None:
    """Validate a profile document and pick the profile that applies; errors name the file and line."""
    from gateway.privacy.profiles import ProfileError
    from gateway.privacy.profiles import parse_profile
    from standards import load_model

    try:
        profiles = parse_profile(xml, load_model("oneroster", "1.2"), source=source)
    except ProfileError as error:
        raise RegistryError(str(error)) from None
    if name is None:
        if len(profiles.profiles) != 1:
            raise RegistryError(f"{source} defines {len(profiles.profiles)} profiles; choose one with --profile-name: "
                                + ", ".join(profiles.profiles))
        return None
    if name not in profiles.profiles:
        raise RegistryError(f"{source} has no profile named {name!r}; it has: " + ", ".join(profiles.profiles))
    return name


def set_profile(conn: Connection, district_id: str, client_id: str, xml: str | None, name: str | None,
                source: str = "profile.xml") -> None:
    """Give an app a field profile (``xml=None`` removes it: the app falls back to tier-0 fields)."""
    if xml is not None:
        name = checked_profile(xml, name, source)
    result = conn.execute(apps.update().where(apps.c.client_id == client_id, apps.c.tenant == district_id)
                          .values(profile_xml=xml, profile_name=name))
    if result.rowcount != 1:
        raise RegistryError(f"no app {client_id!r} in district {district_id!r}")


def create_app_credentials(conn: Connection, district_id: str, name: str, scopes: list[str]) -> Credentials:
    if not district_exists(conn, district_id):
        raise RegistryError(f"unknown district {district_id!r}; create it first (trellis districts create)")
    if not scopes:
        raise RegistryError("give at least one --scope")
    try:
        granted = scope_names.normalise(scopes)
    except ValueError as error:
        raise RegistryError(str(error)) from None
    client_id, secret = new_client_id(), new_secret()
    conn.execute(apps.insert().values(client_id=client_id, tenant=district_id, name=name,
                                      secret_hash=hash_secret(secret), scopes=" ".join(granted), status="active",
                                      created_at=utc_now()))
    return Credentials(client_id, secret, tuple(granted))


def set_allowed_orgs(conn: Connection, district_id: str, client_id: str, orgs: list[str] | None) -> None:
    """Limit an app to some orgs (and the orgs below them); ``None`` or empty: the whole district."""
    from gateway.storage.tables import records

    for org in orgs or ():
        if conn.execute(select(records.c.sourced_id).where(records.c.tenant == district_id, records.c.type == "org",
                                                           records.c.sourced_id == org)).first() is None:
            raise RegistryError(f"no org {org!r} in district {district_id!r}")
    result = conn.execute(apps.update().where(apps.c.client_id == client_id, apps.c.tenant == district_id)
                          .values(allowed_orgs=" ".join(sorted(set(orgs))) if orgs else None))
    if result.rowcount != 1:
        raise RegistryError(f"no app {client_id!r} in district {district_id!r}")


def set_status(conn: Connection, district_id: str, client_id: str, status: str) -> None:
    """Suspend or re-activate an app; its tokens are refused (or honoured again) from its very next request."""
    if status not in {"active", "suspended"}:
        raise RegistryError(f"unknown status {status!r}")
    result = conn.execute(apps.update().where(apps.c.client_id == client_id, apps.c.tenant == district_id)
                          .values(status=status))
    if result.rowcount != 1:
        raise RegistryError(f"no app {client_id!r} in district {district_id!r}")
