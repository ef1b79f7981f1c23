"""The admin operations, shared by the admin API and the ``trellis`` command line; each one is logged.

Why one layer: the issue asks that every admin change be logged (who, when, what changed). Each function here makes
its change and appends its ``admin_changes`` row on the caller's connection, so both commit or neither does (callers
pass a connection from ``engine.begin()``). An operation that changes nothing appends nothing. ``actor`` is
``admin:<admin_id>`` for the API and ``cli:<os user>`` for the command line. Details hold field names with their old
and new values, never a secret, a hash or a profile body (a profile is logged as its SHA-256).

Every function acts inside one district (``tenant``): an object of another district is reported exactly like a missing
one (:class:`~gateway.errors.UnknownObject`). Errors are the gateway's hierarchy, so the API renders them and the
command line prints their description.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import select

from gateway.admin import auth as admin_auth
from gateway.admin.errors import Conflict
from gateway.admin.errors import InvalidBody
from gateway.admin.schemas import APP_FIELDS
from gateway.auth import credentials as creds
from gateway.auth import registry
from gateway.errors import UnknownObject
from gateway.storage.records import utc_now
from gateway.storage.tables import admin_changes
from gateway.storage.tables import apps
from gateway.storage.tables import districts

MAX_PAGE = 1000
# Registry field name -> API name, for error fields and change details.
_API_NAMES = {field: name for name, field in APP_FIELDS.items()}


# --- the change log ------------------------------------------------------------------------------------------------

def record_change(conn: Connection, tenant: str, actor: str, action: str, target: str, details: dict) -> int:
    """Append one change; returns its seq."""
    result = conn.execute(admin_changes.insert().values(
        tenant=tenant, actor=actor, occurred_at=utc_now(), action=action, target=target,
        details=orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode()))
    return int(result.inserted_primary_key[0])


def changes(conn: Connection, tenant: str, limit: int = 100, after: int | None = None) -> list[dict[str, Any]]:
    """One district's changes, oldest first; page with ``after`` (the last seq of the previous page)."""
    c = admin_changes.c
    statement = select(admin_changes).where(c.tenant == tenant)
    if after is not None:
        statement = statement.where(c.seq > after)
    rows = conn.execute(statement.order_by(c.seq).limit(max(1, min(limit, MAX_PAGE))))
    return [{"seq": row.seq, "actor": row.actor, "occurredAt": row.occurred_at, "action": row.action,
             "target": row.target, "details": orjson.loads(row.details)} for row in rows]


def _diff(old: Any, new: Any) -> dict[str, Any]:
    return {"old": old, "new": new}


def _plain(field: str, value: Any) -> Any:
    """A registry value as the API shows it (scopes as a list, flags as booleans)."""
    if field == "scopes":
        return value.split() if isinstance(value, str) else value
    if field in {"pairwise", "oauth1"} and value is not None:
        return bool(value)
    return value


@contextmanager
def _refused(default_field: str | None = None) -> Iterator[None]:
    """Turn a registry's ValueError into a 400 naming the field (the message's ``field:`` prefix, else the default)."""
    try:
        yield
    except (registry.RegistryError, creds.CredentialError, admin_auth.AdminError) as error:
        message = str(error)
        head = message.split(":", 1)[0]
        field = _API_NAMES.get(head, head if head in APP_FIELDS else default_field)
        if message.startswith("unknown scope"):
            field = "scopes"
        raise InvalidBody(message, {field: [message]} if field else {}) from None


# --- districts and admins --------------------------------------------------------------------------------------------

def create_district(conn: Connection, district_id: str, name: str | None, actor: str) -> bool:
    """Create a district unless it exists; returns whether it was created."""
    if not district_id or len(district_id) > 64:
        raise InvalidBody("district id: must be 1 to 64 characters", {"district": ["1 to 64 characters"]})
    if registry.district_exists(conn, district_id):
        return False
    registry.ensure_district(conn, district_id, name)
    record_change(conn, district_id, actor, "district.create", f"district:{district_id}",
                  {"name": _diff(None, name or district_id)})
    return True


def district(conn: Connection, tenant: str) -> dict[str, Any]:
    row = conn.execute(select(districts).where(districts.c.id == tenant)).first()
    if row is None:
        raise UnknownObject(f"no district {tenant!r}")
    count = conn.execute(select(func.count()).select_from(apps).where(apps.c.tenant == tenant)).scalar()
    return {"id": row.id, "name": row.name, "createdAt": row.created_at, "apps": count}


def create_admin(conn: Connection, tenant: str, name: str, actor: str) -> tuple[str, str]:
    """A new admin credential of ``tenant``: ``(admin_id, secret)``; the secret is shown once."""
    with _refused("name"):
        admin_id, secret = admin_auth.create_admin(conn, tenant, name)
    record_change(conn, tenant, actor, "admin.create", f"admin:{admin_id}", {"name": _diff(None, name.strip())})
    return admin_id, secret


def revoke_admin(conn: Connection, tenant: str, admin_id: str, actor: str) -> None:
    try:
        old = admin_auth.revoke_admin(conn, tenant, admin_id)
    except admin_auth.AdminError as error:
        raise UnknownObject(str(error)) from None
    if old != "revoked":
        record_change(conn, tenant, actor, "admin.revoke", f"admin:{admin_id}", {"status": _diff(old, "revoked")})


# --- apps ------------------------------------------------------------------------------------------------------------

def _app(conn: Connection, tenant: str, client_id: str) -> Any:
    row = conn.execute(select(apps).where(apps.c.client_id == client_id, apps.c.tenant == tenant)).first()
    if row is None:
        raise UnknownObject(f"no app {client_id!r} in district {tenant!r}")
    return row


def list_apps(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    return registry.list_apps(conn, tenant)


def get_app(conn: Connection, tenant: str, client_id: str) -> dict[str, Any]:
    return registry.describe(_app(conn, tenant, client_id))


def profile_digest(xml: str | None) -> str | None:
    return hashlib.sha256(xml.encode()).hexdigest() if xml is not None else None


def create_app(conn: Connection, tenant: str, actor: str, *, name: str, scopes: list[str], sealing_key: str = "",
               pairwise: bool = False, oauth1: bool = False, rate_limit: str | None = None,
               profile_xml: str | None = None, profile_name: str | None = None, profile_source: str = "profile.xml",
               **details: Any) -> registry.Credentials:
    """Register an app (optionally with its rate limit and profile); the returned secret is the only copy."""
    if not registry.district_exists(conn, tenant):
        raise UnknownObject(f"unknown district {tenant!r}; create it first (trellis districts create)")
    with _refused("oauth1" if oauth1 else None):
        credentials = registry.create_app_credentials(conn, tenant, name, list(scopes), pairwise=pairwise,
                                                      oauth1=oauth1, sealing_key=sealing_key, **details)
        if rate_limit:
            registry.update_app(conn, tenant, credentials.client_id, rate_limit=rate_limit)
        if profile_xml is not None:
            registry.set_profile(conn, tenant, credentials.client_id, profile_xml, profile_name, source=profile_source)
    row = _app(conn, tenant, credentials.client_id)
    values = {field: _plain(field, row._mapping[field]) for field in APP_FIELDS.values()}
    recorded = {_API_NAMES[field]: _diff(None, value) for field, value in values.items()
                if value not in (None, False)}
    recorded["credentialId"] = _diff(None, credentials.credential_id)
    if profile_xml is not None:
        recorded["profile"] = _diff(None, profile_digest(profile_xml))
        recorded["profileName"] = _diff(None, row.profile_name)
    record_change(conn, tenant, actor, "app.create", f"app:{credentials.client_id}", recorded)
    return credentials


def update_app(conn: Connection, tenant: str, actor: str, client_id: str, **changes: Any) -> dict[str, Any]:
    """Change an app's fields (registry names: vendor, dpa_expires, scopes, pairwise, rate_limit, ...)."""
    _app(conn, tenant, client_id)
    with _refused():
        diff = registry.update_app(conn, tenant, client_id, **changes)
    if diff:
        record_change(conn, tenant, actor, "app.update", f"app:{client_id}",
                      {_API_NAMES.get(field, field): _diff(_plain(field, old), _plain(field, new))
                       for field, (old, new) in diff.items()})
    return get_app(conn, tenant, client_id)


def set_profile(conn: Connection, tenant: str, actor: str, client_id: str, xml: str | None, name: str | None = None,
                source: str = "profile.xml") -> dict[str, Any]:
    """Set (``xml``) or remove (``None``) an app's field profile; errors name the line of the document."""
    row = _app(conn, tenant, client_id)
    with _refused("profile"):
        registry.set_profile(conn, tenant, client_id, xml, name, source=source)
    after = _app(conn, tenant, client_id)
    details = {}
    if profile_digest(row.profile_xml) != profile_digest(xml):
        details["profile"] = _diff(profile_digest(row.profile_xml), profile_digest(xml))
    if row.profile_name != after.profile_name:
        details["profileName"] = _diff(row.profile_name, after.profile_name)
    if details:
        record_change(conn, tenant, actor, "app.profile.set" if xml is not None else "app.profile.remove",
                      f"app:{client_id}", details)
    return registry.describe(after)


def set_orgs(conn: Connection, tenant: str, actor: str, client_id: str, orgs: list[str] | None) -> dict[str, Any]:
    """Limit an app to some orgs; ``None`` or empty: the whole district."""
    row = _app(conn, tenant, client_id)
    with _refused("orgs"):
        registry.set_allowed_orgs(conn, tenant, client_id, orgs)
    after = _app(conn, tenant, client_id)
    if row.allowed_orgs != after.allowed_orgs:
        old, new = (value.split() if value else None for value in (row.allowed_orgs, after.allowed_orgs))
        record_change(conn, tenant, actor, "app.orgs", f"app:{client_id}", {"allowedOrgs": _diff(old, new)})
    return registry.describe(after)


def set_status(conn: Connection, tenant: str, actor: str, client_id: str, status: str) -> dict[str, Any]:
    """Suspend or re-activate an app (from its next request); asking for the current status changes nothing."""
    row = _app(conn, tenant, client_id)
    if row.status != status:
        with _refused("status"):
            registry.set_status(conn, tenant, client_id, status)
        record_change(conn, tenant, actor, "app.suspend" if status == "suspended" else "app.activate",
                      f"app:{client_id}", {"status": _diff(row.status, status)})
    return get_app(conn, tenant, client_id)


# --- credentials -----------------------------------------------------------------------------------------------------

def list_credentials(conn: Connection, tenant: str, client_id: str) -> list[dict[str, Any]]:
    _app(conn, tenant, client_id)
    return creds.list_credentials(conn, tenant, client_id)


def rotate(conn: Connection, tenant: str, actor: str, client_id: str, grace_seconds: int,
           sealing_key: str = "") -> dict[str, Any]:
    """Issue a new secret; the current ones keep working ``grace_seconds`` (0: refused at once, with their tokens)."""
    _app(conn, tenant, client_id)
    with _refused("graceSeconds"):
        credential_id, secret, ends = creds.rotate(conn, tenant, client_id, grace_seconds, sealing_key)
    previous_end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends))
    record_change(conn, tenant, actor, "app.credentials.rotate", f"app:{client_id}",
                  {"credentialId": _diff(None, credential_id), "graceSeconds": grace_seconds,
                   "previousCredentialsExpireAt": previous_end})
    return {"clientId": client_id, "clientSecret": secret, "credentialId": credential_id,
            "previousCredentialsExpireAt": previous_end}


def revoke_credentials(conn: Connection, tenant: str, actor: str, client_id: str,
                       credential_id: str | None = None) -> int:
    """Revoke one credential (or every one) with its tokens; refused from the next request. Returns how many."""
    _app(conn, tenant, client_id)
    if credential_id is not None:
        state = next((item["state"] for item in creds.list_credentials(conn, tenant, client_id)
                      if item["credentialId"] == credential_id), None)
        if state is None:
            raise UnknownObject(f"app {client_id!r} has no credential {credential_id!r}")
        if state == "revoked":
            raise Conflict(f"credential {credential_id!r} is already revoked")
    count = creds.revoke(conn, tenant, client_id, credential_id)
    if count:
        record_change(conn, tenant, actor, "app.credentials.revoke", f"app:{client_id}",
                      {"credentialId": credential_id or "all", "revoked": count})
    return count


# --- students: opt-outs and access codes -----------------------------------------------------------------------------

def set_optout(conn: Connection, tenant: str, actor: str, student_id: str, client_id: str | None,
               active: bool) -> dict[str, Any]:
    """Opt a student out of one app (or of every app: ``client_id=None``), or back in."""
    from gateway.privacy.optouts import OptOutError
    from gateway.privacy.optouts import set_optout as store
    from gateway.privacy.scoping import DIRECTORY
    from gateway.storage.tables import student_optouts as so

    if client_id is not None:
        _app(conn, tenant, client_id)
    target = client_id or DIRECTORY
    old = conn.execute(select(so.c.active).where(so.c.tenant == tenant, so.c.student_id == student_id,
                                                 so.c.client_id == target)).scalar()
    try:
        store(conn, tenant, student_id, client_id, active)
    except OptOutError as error:
        raise UnknownObject(str(error)) from None
    if bool(old) != active:
        record_change(conn, tenant, actor, "student.opt_out" if active else "student.opt_in", f"student:{student_id}",
                      {"app": client_id or "directory", "optedOut": _diff(bool(old), active)})
    return {"studentId": student_id, "app": client_id or "directory", "optedOut": active}


def issue_access_code(conn: Connection, tenant: str, actor: str, student_id: str, days: int = 30) -> dict[str, Any]:
    """A parent / eligible-student access code; the code is in the result only (never logged)."""
    from gateway.privacy import access_codes

    if not access_codes.is_student(conn, tenant, student_id):
        raise UnknownObject(f"no student {student_id!r} in district {tenant!r}")
    try:
        issued = access_codes.issue_code(conn, tenant, student_id, days=days, created_by=actor)
    except access_codes.AccessCodeError as error:
        raise InvalidBody(str(error), {"days": [str(error)]}) from None
    expires = access_codes.iso_instant(issued.expires_at)
    record_change(conn, tenant, actor, "access_code.issue", f"student:{student_id}",
                  {"codeId": _diff(None, issued.code_id), "expiresAt": _diff(None, expires)})
    return {"codeId": issued.code_id, "code": issued.code, "studentId": student_id, "expiresAt": expires}


def list_access_codes(conn: Connection, tenant: str, student_id: str | None = None) -> list[dict[str, Any]]:
    from gateway.privacy import access_codes

    return [{"codeId": item["code_id"], "studentId": item["student_id"], "createdAt": item["created_at"],
             "createdBy": item["created_by"], "expiresAt": item["expires_at"], "revoked": item["revoked"]}
            for item in access_codes.list_codes(conn, tenant, student_id)]


def revoke_access_code(conn: Connection, tenant: str, actor: str, code_id: str) -> dict[str, Any]:
    from gateway.privacy import access_codes

    from gateway.storage.tables import access_codes as codes

    found = conn.execute(select(codes.c.student_id, codes.c.revoked).where(
        codes.c.tenant == tenant, codes.c.code_id == code_id)).first()
    if found is None:
        raise UnknownObject(f"no access code {code_id!r} in district {tenant!r}")
    if found.revoked:
        raise Conflict(f"access code {code_id!r} is already revoked")
    try:
        access_codes.revoke_code(conn, tenant, code_id)
    except access_codes.AccessCodeError as error:
        raise UnknownObject(str(error)) from None
    record_change(conn, tenant, actor, "access_code.revoke", f"access_code:{code_id}",
                  {"studentId": found.student_id, "revoked": _diff(False, True)})
    return {"codeId": code_id, "studentId": found.student_id, "revoked": True}
