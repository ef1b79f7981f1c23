"""Registering apps (OAuth clients) for a district and what the district records about them.

The secret is returned once and stored only as a hash (:mod:`gateway.auth.credentials`). Besides scopes, orgs and a
field profile, a district records the vendor, the purpose (the legitimate educational interest that the disclosure log
cites), the data-privacy agreement and its expiry (an app whose agreement has expired is refused), and a contact.
"""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import select

from gateway.auth import scopes as scope_names
from gateway.auth.credentials import CredentialError
from gateway.auth.credentials import add_credential
from gateway.auth.secrets import new_client_id
from gateway.storage.records import utc_now
from gateway.storage.tables import apps
from gateway.storage.tables import districts

# Descriptive fields a district may set on an app, with their longest accepted length.
DETAILS = {"name": 200, "vendor": 200, "purpose": 2000, "dpa_reference": 200, "dpa_expires": 10, "contact": 320}


class RegistryError(ValueError):
    """A registration request that cannot be honoured (unknown district, unknown scope, ...)."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    credential_id: str = ""


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


def _details(values: dict[str, Any]) -> dict[str, Any]:
    """Validate descriptive fields (lengths, the agreement's expiry as an ISO date); '' clears a field."""
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in DETAILS:
            raise RegistryError(f"unknown app field {key!r}")
        if value is None or value == "":
            if key == "name":
                raise RegistryError("name: must not be empty")
            checked[key] = None
            continue
        if not isinstance(value, str) or len(value) > DETAILS[key]:
            raise RegistryError(f"{key}: must be text of at most {DETAILS[key]} characters")
        if key == "dpa_expires":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise RegistryError(f"dpa_expires: {value!r} is not a date (YYYY-MM-DD)") from None
        checked[key] = value.strip()
    return checked


def _scopes(scopes: list[str]) -> list[str]:
    if not scopes:
        raise RegistryError("give at least one scope")
    try:
        return scope_names.normalise(scopes)
    except ValueError as error:
        raise RegistryError(str(error)) from None


def create_app_credentials(conn: Connection, district_id: str, name: str, scopes: list[str], *,
                           pairwise: bool = False, oauth1: bool = False, sealing_key: str = "",
                           **details: str | None) -> Credentials:
    """Register an app; ``details`` are the descriptive fields of :data:`DETAILS` (vendor, purpose, ...)."""
    if not district_exists(conn, district_id):
        raise RegistryError(f"unknown district {district_id!r}; create it first (trellis districts create)")
    granted = _scopes(scopes)
    values = _details({"name": name, **details})
    client_id = new_client_id()
    conn.execute(apps.insert().values(client_id=client_id, tenant=district_id, scopes=" ".join(granted),
                                      status="active", created_at=utc_now(), pairwise=int(pairwise),
                                      pairwise_key=random.token_hex(32) if pairwise else None, oauth1=int(oauth1),
                                      **values))
    try:
        credential_id, secret = add_credential(conn, client_id, oauth1=oauth1, sealing_key=sealing_key)
    except CredentialError as error:
        raise RegistryError(str(error)) from None
    return Credentials(client_id, secret, tuple(granted), credential_id)


def _row(conn: Connection, district_id: str, client_id: str) -> Any:
    row = conn.execute(select(apps).where(apps.c.client_id == client_id, apps.c.tenant == district_id)).first()
    if row is None:
        raise RegistryError(f"no app {client_id!r} in district {district_id!r}")
    return row


def update_app(conn: Connection, district_id: str, client_id: str, **changes: Any) -> dict[str, tuple[Any, Any]]:
    """Change an app's descriptive fields, scopes, rate limit, pairwise or OAuth 1 option; returns ``{field: (old, new)}``.

    Turning pairwise ids on gives the app a fresh key (its ids change); turning OAuth 1 on takes effect for secrets
    issued afterwards (rotate the credential: the current secret was never kept in a readable form).
    """
    row = _row(conn, district_id, client_id)
    values: dict[str, Any] = {}
    if "scopes" in changes:
        values["scopes"] = " ".join(_scopes(list(changes.pop("scopes") or [])))
    for flag in ("pairwise", "oauth1"):
        if flag in changes:
            wanted = changes.pop(flag)
            if not isinstance(wanted, bool):
                raise RegistryError(f"{flag}: must be true or false")
            values[flag] = int(wanted)
    if "rate_limit" in changes:
        values["rate_limit"] = checked_rate_limit(changes.pop("rate_limit"))
    if values.get("pairwise") and not row.pairwise:
        values["pairwise_key"] = random.token_hex(32)
    values.update(_details(changes))
    diff = {key: (row._mapping[key], value) for key, value in values.items()
            if key != "pairwise_key" and row._mapping[key] != value}
    if values:
        conn.execute(apps.update().where(apps.c.client_id == client_id, apps.c.tenant == district_id).values(**values))
    return diff


def checked_rate_limit(value: str | None) -> str | None:
    """A per-app limit in the flask-limiter notation ("600/minute", "10/second;600/minute"); None: the default."""
    if value is None or value == "":
        return None
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise RegistryError(f"rate_limit: {value!r} is not a rate such as '600/minute'") from None
    return value


def describe(row: Any) -> dict[str, Any]:
    """An app as the admin API and CLI show it (never a secret, hash or key)."""
    return {"clientId": row.client_id, "district": row.tenant, "name": row.name, "vendor": row.vendor,
            "purpose": row.purpose, "dpaReference": row.dpa_reference, "dpaExpires": row.dpa_expires,
            "contact": row.contact, "scopes": row.scopes.split(), "status": row.status, "createdAt": row.created_at,
            "allowedOrgs": row.allowed_orgs.split() if row.allowed_orgs else None,
            "profileName": row.profile_name, "hasProfile": row.profile_xml is not None,
            "pairwise": bool(row.pairwise), "oauth1": bool(row.oauth1), "rateLimit": row.rate_limit}


def get_app(conn: Connection, district_id: str, client_id: str) -> dict[str, Any]:
    return describe(_row(conn, district_id, client_id))


def list_apps(conn: Connection, district_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(apps).where(apps.c.tenant == district_id).order_by(apps.c.created_at, apps.c.client_id))
    return [describe(row) for row in rows]


def agreement_expired(dpa_expires: str | None, today: date | None = None) -> bool:
    """True from the day after the agreement's expiry date (UTC)."""
    if not dpa_expires:
        return False
    from datetime import datetime
    from datetime import timezone

    return date.fromisoformat(dpa_expires) < (today or datetime.now(timezone.utc).date())


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
