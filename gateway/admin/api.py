"""Admin API, apps: registration, metadata, status, profile, allowed orgs and credentials.

Thin views: each validates its input (:mod:`gateway.admin.schemas`), calls one operation of
:mod:`gateway.admin.service` inside one transaction (the change and its log row commit together) and renders the
result. The district is always the admin token's. Secrets appear only in the create and rotate responses.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask import request

from gateway.admin import service
from gateway.admin.errors import InvalidBody
from gateway.admin.http import admin
from gateway.admin.http import bp
from gateway.admin.http import json_body
from gateway.admin.http import respond
from gateway.admin.schemas import APP_FIELDS
from gateway.admin.schemas import AllowedOrgs
from gateway.admin.schemas import AppCreate
from gateway.admin.schemas import AppUpdate
from gateway.admin.schemas import Rotate
from gateway.storage.db import get_engine

XML_TYPES = frozenset({"application/xml", "text/xml"})
MAX_PROFILE_BYTES = 1024 * 1024


def _registry_values(values: dict[str, Any]) -> dict[str, Any]:
    """API names to registry names; dates as ISO text."""
    return {APP_FIELDS[name]: value.isoformat() if isinstance(value, date) else value
            for name, value in values.items()}


def _sealing_key() -> str:
    return current_app.config.get("TRELLIS_CREDENTIAL_KEY") or ""


@bp.get("/apps")
def list_apps():
    with get_engine().connect() as conn:
        return respond({"apps": service.list_apps(conn, admin().tenant)})


@bp.post("/apps")
def create_app():
    values = _registry_values(json_body(AppCreate()))
    who = admin()
    with get_engine().begin() as conn:
        credentials = service.create_app(conn, who.tenant, who.actor, sealing_key=_sealing_key(), **values)
        described = service.get_app(conn, who.tenant, credentials.client_id)
    return respond({"app": described, "clientId": credentials.client_id, "clientSecret": credentials.client_secret,
                    "credentialId": credentials.credential_id},
                   201, {"Location": f"/admin/v1/apps/{credentials.client_id}"})


@bp.get("/apps/<client_id>")
def get_app(client_id: str):
    with get_engine().connect() as conn:
        return respond({"app": service.get_app(conn, admin().tenant, client_id)})


@bp.patch("/apps/<client_id>")
def update_app(client_id: str):
    values = _registry_values(json_body(AppUpdate()))
    who = admin()
    with get_engine().begin() as conn:
        return respond({"app": service.update_app(conn, who.tenant, who.actor, client_id, **values)})


def _status(client_id: str, status: str):
    who = admin()
    with get_engine().begin() as conn:
        return respond({"app": service.set_status(conn, who.tenant, who.actor, client_id, status)})


@bp.post("/apps/<client_id>/suspend")
def suspend_app(client_id: str):
    return _status(client_id, "suspended")


@bp.post("/apps/<client_id>/activate")
def activate_app(client_id: str):
    return _status(client_id, "active")


@bp.put("/apps/<client_id>/profile")
def put_profile(client_id: str):
    """An Ed-Fi API Profile document as the body (application/xml); ``?profileName=`` picks one of several."""
    if request.mimetype not in XML_TYPES:
        raise InvalidBody("send the profile document with Content-Type: application/xml", {"profile": ["not XML"]})
    data = request.stream.read(MAX_PROFILE_BYTES + 1)  # never more: a body of any size is not held in memory
    if len(data) > MAX_PROFILE_BYTES:
        raise InvalidBody(f"the profile is larger than {MAX_PROFILE_BYTES} bytes", {"profile": ["too large"]})
    try:
        xml = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidBody("the profile is not UTF-8", {"profile": ["not UTF-8"]}) from None
    name = request.args.get("profileName") or None
    who = admin()
    with get_engine().begin() as conn:
        return respond({"app": service.set_profile(conn, who.tenant, who.actor, client_id, xml, name,
                                                   source="profile")})


@bp.delete("/apps/<client_id>/profile")
def delete_profile(client_id: str):
    who = admin()
    with get_engine().begin() as conn:
        return respond({"app": service.set_profile(conn, who.tenant, who.actor, client_id, None)})


@bp.put("/apps/<client_id>/orgs")
def put_orgs(client_id: str):
    orgs = json_body(AllowedOrgs())["orgs"]
    who = admin()
    with get_engine().begin() as conn:
        return respond({"app": service.set_orgs(conn, who.tenant, who.actor, client_id, orgs)})


@bp.get("/apps/<client_id>/credentials")
def list_credentials(client_id: str):
    with get_engine().connect() as conn:
        return respond({"credentials": service.list_credentials(conn, admin().tenant, client_id)})


@bp.post("/apps/<client_id>/credentials/rotate")
def rotate_credentials(client_id: str):
    grace = json_body(Rotate())["graceSeconds"]
    who = admin()
    with get_engine().begin() as conn:
        return respond(service.rotate(conn, who.tenant, who.actor, client_id, grace, _sealing_key()), 201)


@bp.post("/apps/<client_id>/credentials/revoke")
def revoke_all_credentials(client_id: str):
    who = admin()
    with get_engine().begin() as conn:
        return respond({"revoked": service.revoke_credentials(conn, who.tenant, who.actor, client_id)})


@bp.post("/apps/<client_id>/credentials/<credential_id>/revoke")
def revoke_credential(client_id: str, credential_id: str):
    who = admin()
    with get_engine().begin() as conn:
        return respond({"revoked": service.revoke_credentials(conn, who.tenant, who.actor, client_id, credential_id)})
