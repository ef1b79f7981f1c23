"""The parent / eligible-student view: ``/privacy/v1/me/...``, opened by an access code for one student.

Why: FERPA lets parents and eligible students ask who received the student's records (34 CFR 99.32(c)); the
disclosure log (:mod:`gateway.privacy.disclosures`) and the app registry answer it. A code
(:mod:`gateway.privacy.access_codes`) stands for exactly one student of one district, so every query below is bound
to that pair: nothing about any other student, app of another district or log entry of another student is reachable.
Log entries name every student of a response, so their ``student_ids`` are never shown, and of their record ids only
those that are this student's own records are.

The code travels in the ``Authorization`` header (``AccessCode <code>``, or ``Bearer <code>``), never in the URL,
where it would end up in access logs and browser history; nothing here logs it. Routes::

    GET /privacy/v1/me/disclosures   which apps received the student's data: when, which fields, what for
    GET /privacy/v1/me/apps          which apps may see the student now, and which fields of which classes
    GET /privacy/v1/openapi.json     the OpenAPI document of both (gateway.api.privacy_openapi)
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import or_
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from gateway.auth import scopes as scope_names
from gateway.auth.registry import agreement_expired
from gateway.errors import BadRequest
from gateway.errors import Forbidden
from gateway.errors import Unauthorized
from gateway.policy import AccessPolicy
from gateway.privacy import disclosures as log
from gateway.privacy.access_codes import resolve
from gateway.privacy.profiles import FILTER_KEY
from gateway.privacy.scoping import STUDENT_COLUMN
from gateway.query.reading import Reader
from gateway.storage.db import get_engine
from gateway.storage.tables import apps
from gateway.storage.tables import records
from standards import load_model
from standards.endpoints import load_endpoints

PREFIX = "/privacy/v1"
REALM = 'AccessCode realm="trellis-privacy"'
DEFAULT_LIMIT = 100
DISCLOSURE_PARAMETERS = ("since", "until", "limit", "after")
# Names a client might put a code under in the URL: refused with a pointer to the header.
_CODE_PARAMETERS = frozenset({"code", "accesscode", "access_code", "access-code", "token", "access_token"})
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[0-9]{1,18}")

bp = Blueprint("privacy_me", __name__, url_prefix=PREFIX)


# --- authentication and parameters --------------------------------------------------------------------------------

def authenticate(conn: Connection) -> tuple[str, str]:
    """(tenant, student_id) of the code in the Authorization header; 401 with a challenge otherwise."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() not in {"accesscode", "bearer"} or not value:
        raise Unauthorized("An access code is required: send the header 'Authorization: AccessCode <code>'",
                           headers={"WWW-Authenticate": REALM})
    found = resolve(conn, value)
    if found is None:  # unknown, expired and revoked look alike; the code itself is never echoed or logged
        raise Unauthorized("The access code is not valid: it is unknown, expired or revoked",
                           headers={"WWW-Authenticate": REALM + ', error="invalid_token"'})
    return found


def _check_names(args: MultiDict, accepted: tuple[str, ...]) -> None:
    for name in args:
        if name.lower() in _CODE_PARAMETERS:
            raise BadRequest(f"parameter {name!r}: the access code goes in the Authorization header, never in the URL")
        if name not in accepted:
            known = ", ".join(accepted) if accepted else "none"
            raise BadRequest(f"unknown parameter {name!r}; accepted parameters: {known}")
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"parameter {name!r} is given more than once")


def _day(args: MultiDict, name: str) -> date | None:
    value = args.get(name)
    if value is None:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
        if not 1 < day.year < 9999:  # a day past the last one (or before the first, in UTC) cannot be bounded
            raise ValueError
        return day
    except ValueError:
        raise BadRequest(f"parameter {name!r} must be a date such as 2026-01-31") from None


def _number(args: MultiDict, name: str, minimum: int, maximum: int | None = None) -> int | None:
    value = args.get(name)
    if value is None:
        return None
    number = int(value) if _NUMBER.fullmatch(value) else -1
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise BadRequest(f"parameter {name!r} must be a whole number {bound}")
    return number


def disclosure_args(args: MultiDict) -> dict[str, Any]:
    """The validated query parameters of /me/disclosures; 400 naming the first bad one."""
    _check_names(args, DISCLOSURE_PARAMETERS)
    since, until = _day(args, "since"), _day(args, "until")
    if since and until and since > until:
        raise BadRequest("parameter 'since' is after 'until'")
    limit = _number(args, "limit", 1, log.MAX_LIMIT)
    return {"since": since, "until": until, "limit": DEFAULT_LIMIT if limit is None else limit,
            "after": _number(args, "after", 0)}


# --- services -------------------------------------------------------------------------------------------------------

def _own_records(conn: Connection, tenant: str, student_id: str, types: set[str]) -> dict[str, set[str]]:
    """The ids of this student's own records, per record type, for the types a page of entries holds.

    Users and demographics carry the student's own id; enrollments and results name the student in an indexed
    column, so one indexed query finds them. Ownership is today's (a record moved to another student since the
    disclosure is no longer shown): the point is that nobody else's ids ever are.
    """
    own: dict[str, set[str]] = {}
    by_column = []
    for rtype in types:
        column = STUDENT_COLUMN.get(rtype)
        if column == "sourced_id":
            own[rtype] = {student_id}
        elif column is not None:
            own[rtype] = set()
            by_column.append((records.c.type == rtype) & (records.c[column] == student_id))
    if by_column:
        for rtype, sourced_id in conn.execute(select(records.c.type, records.c.sourced_id).where(
                records.c.tenant == tenant, or_(*by_column))):
            own[rtype].add(sourced_id)
    return own


def student_disclosures(engine: Engine, tenant: str, student_id: str, *, since: date | None = None,
                        until: date | None = None, limit: int = DEFAULT_LIMIT,
                        after: int | None = None) -> list[dict[str, Any]]:
    """This student's disclosure-log entries, oldest first, as parents see them (no other student's ids)."""
    entries = log.query(engine, tenant, student_id=student_id, since=since, until=until, limit=limit,
                        after_seq=after)
    if not entries:
        return []
    with engine.connect() as conn:
        own = _own_records(conn, tenant, student_id, {entry["record_type"] for entry in entries})
        known = {row.client_id: row for row in conn.execute(
            select(apps.c.client_id, apps.c.name, apps.c.vendor, apps.c.purpose).where(
                apps.c.tenant == tenant, apps.c.client_id.in_({entry["client_id"] for entry in entries})))}
    result = []
    for entry in entries:
        app = known.get(entry["client_id"])
        item: dict[str, Any] = {
            "seq": entry["seq"], "occurredAt": entry["occurred_at"],
            "app": {"clientId": entry["client_id"], "name": app.name if app else None,
                    "vendor": app.vendor if app else None},
            "endpoint": entry["endpoint"], "recordType": entry["record_type"], "fields": entry["fields"],
            # as recorded; older entries recorded none, so the purpose the district states for the app stands in
            "purpose": entry["purpose"] or (app.purpose if app else None) or None,
        }
        mine = own.get(entry["record_type"])
        if mine is not None:
            item["records"] = [rid for rid in entry["record_ids"] if rid in mine]
        result.append(item)
    return result


@functools.cache  # from the static endpoint definitions: the same on every request
def _student_classes() -> dict[str, frozenset[str]]:
    """Served OneRoster classes that hold a student's data → the scope URIs opening any endpoint that returns them."""
    classes: dict[str, set[str]] = {}
    for endpoint in load_endpoints().endpoints:
        collection = endpoint.collection
        if collection.type in STUDENT_COLUMN:
            opening = classes.setdefault(collection.cls, set())
            opening |= scope_names.expand(list(endpoint.scopes), "1.2")
            if endpoint.op11:
                opening |= scope_names.expand(list(endpoint.scopes), "1.1")
    return {cls: frozenset(uris) for cls, uris in sorted(classes.items())}


def field_paths(tree: dict, prefix: str = "") -> list[str]:
    """A readable field tree flattened to sorted dotted paths (``roles.org``)."""
    paths = []
    for name, sub in tree.items():
        if name == FILTER_KEY:
            continue
        children = {key: value for key, value in (sub or {}).items() if key != FILTER_KEY}
        paths.extend(field_paths(children, f"{prefix}{name}.") if children else [prefix + name])
    return sorted(paths)


def _policy(row: Any) -> AccessPolicy:
    return AccessPolicy(tenant=row.tenant, client_id=row.client_id, scopes=scope_names.parse(row.scopes),
                        profile_xml=row.profile_xml, profile_name=row.profile_name,
                        allowed_orgs=tuple(row.allowed_orgs.split()) if row.allowed_orgs else None,
                        pairwise_key=row.pairwise_key if row.pairwise else None)  # withholds join keys


def visible_fields(policy: AccessPolicy) -> dict[str, list[str]]:
    """Class → readable field paths, for the student classes the app's scopes open and its profile includes."""
    model = load_model("oneroster", "1.2")
    result = {}
    for cls, opening in _student_classes().items():
        if not opening & policy.scopes:
            continue
        try:
            result[cls] = field_paths(policy.readable(model, cls))
        except Forbidden:  # the profile leaves the class out
            continue
    return result


def student_apps(conn: Connection, reader: Reader, tenant: str, student_id: str) -> dict[str, Any]:
    """Apps of the district that may see the student now, and active apps the student has opted out of.

    The same decisions as the OneRoster API: status, agreement expiry, allowed orgs and opt-outs
    (:meth:`Reader.exists` with the app's :class:`AccessPolicy`), and the app's scopes and field profile.
    """
    allowed, opted_out = [], []
    for row in conn.execute(select(apps).where(apps.c.tenant == tenant).order_by(apps.c.name, apps.c.client_id)):
        if row.status != "active" or agreement_expired(row.dpa_expires):
            continue
        policy = _policy(row)
        if not reader.exists(conn, tenant, "user", student_id, policy):
            if reader.exists(conn, tenant, "user", student_id, replace(policy, has_optouts=False)):
                opted_out.append({"clientId": row.client_id, "name": row.name, "vendor": row.vendor})
            continue
        allowed.append({"clientId": row.client_id, "name": row.name, "vendor": row.vendor, "purpose": row.purpose,
                        "dpaExpires": row.dpa_expires, "pairwise": bool(row.pairwise),
                        "fields": visible_fields(policy)})
    return {"apps": allowed, "optedOut": opted_out}


# --- views ----------------------------------------------------------------------------------------------------------

def _json(body: Any) -> Response:
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"  # one student's data: never kept by a shared cache
    return response


@bp.get("/me/disclosures")
def me_disclosures() -> Response:
    engine = get_engine()
    with engine.connect() as conn:
        tenant, student_id = authenticate(conn)
    args = disclosure_args(request.args)
    entries = student_disclosures(engine, tenant, student_id, **args)
    body: dict[str, Any] = {"disclosures": entries}
    if len(entries) == args["limit"]:
        following = [(name, request.args[name]) for name in ("since", "until", "limit") if name in request.args]
        body["next"] = f"{request.path}?{urlencode(following + [('after', entries[-1]['seq'])])}"
    return _json(body)


@bp.get("/me/apps")
def me_apps() -> Response:
    with get_engine().connect() as conn:
        tenant, student_id = authenticate(conn)
        _check_names(request.args, ())
        return _json(student_apps(conn, current_app.extensions["trellis.reader"], tenant, student_id))


@bp.get("/openapi.json")
def openapi() -> Response:
    from gateway.api.privacy_openapi import document_bytes

    return Response(document_bytes(current_app.config.get("TRELLIS_PUBLIC_URL") or ""), mimetype="application/json")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
