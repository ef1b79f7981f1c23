"""Admin API, the district: students' opt-outs and access codes, the disclosure log and the admin change log.

Why these sit together: they answer the district's questions about its students ("what did app X receive between
these dates", "which apps received field F", "who changed what"), always for the admin token's district only.
The disclosure chain is global to the gateway, so its check reports only ok / the first bad seq, never counts that
would describe other districts.
"""

from __future__ import annotations

from flask import request

from gateway.admin import service
from gateway.admin.http import admin
from gateway.admin.http import bp
from gateway.admin.http import json_body
from gateway.admin.http import query_args
from gateway.admin.http import respond
from gateway.admin.schemas import AccessCodeIssue
from gateway.admin.schemas import DisclosureQuery
from gateway.admin.schemas import DisclosureSummaryQuery
from gateway.admin.schemas import Page
from gateway.errors import BadRequest
from gateway.storage.db import get_engine

DIRECTORY = "directory"


@bp.get("/district")
def get_district():
    with get_engine().connect() as conn:
        return respond({"district": service.district(conn, admin().tenant)})


def _optout(student_id: str, target: str, active: bool):
    who = admin()
    with get_engine().begin() as conn:
        return respond(service.set_optout(conn, who.tenant, who.actor, student_id,
                                          None if target == DIRECTORY else target, active))


@bp.put("/students/<student_id>/opt-outs/<target>")
def put_optout(student_id: str, target: str):
    """Opt a student out of one app (its client id) or of every app (``directory``)."""
    return _optout(student_id, target, True)


@bp.delete("/students/<student_id>/opt-outs/<target>")
def delete_optout(student_id: str, target: str):
    return _optout(student_id, target, False)


@bp.post("/students/<student_id>/access-codes")
def issue_access_code(student_id: str):
    days = json_body(AccessCodeIssue())["days"] if request.content_length else 30
    who = admin()
    with get_engine().begin() as conn:
        issued = service.issue_access_code(conn, who.tenant, who.actor, student_id, days)
    return respond(issued, 201)


@bp.get("/students/<student_id>/access-codes")
def list_access_codes(student_id: str):
    with get_engine().connect() as conn:
        return respond({"accessCodes": service.list_access_codes(conn, admin().tenant, student_id)})


@bp.post("/access-codes/<code_id>/revoke")
def revoke_access_code(code_id: str):
    who = admin()
    with get_engine().begin() as conn:
        return respond(service.revoke_access_code(conn, who.tenant, who.actor, code_id))


def _next(items: list[dict], limit: int) -> int | None:
    return items[-1]["seq"] if len(items) == limit else None


@bp.get("/disclosures")
def disclosures():
    """The district's disclosure log, filtered by app, date range, field and student; paged by seq."""
    from gateway.privacy.disclosures import query

    args = query_args(DisclosureQuery())
    try:
        entries = query(get_engine(), admin().tenant, client_id=args.get("app"), since=args.get("since"),
                        until=args.get("until"), field=args.get("field"), student_id=args.get("student"),
                        limit=args["limit"], after_seq=args.get("after"))
    except ValueError as error:
        raise BadRequest(str(error)) from None
    shown = [{"seq": entry["seq"], "occurredAt": entry["occurred_at"], "app": entry["client_id"],
              "endpoint": entry["endpoint"], "purpose": entry["purpose"], "recordType": entry["record_type"],
              "recordIds": entry["record_ids"], "fields": entry["fields"], "studentIds": entry["student_ids"]}
             for entry in entries]
    return respond({"disclosures": shown, "next": _next(shown, args["limit"])})


@bp.get("/disclosures/apps")
def disclosure_apps():
    """Which apps received matching disclosures (e.g. ``?field=birthDate``): entries and first/last time per app."""
    from gateway.privacy.disclosures import apps_summary

    args = query_args(DisclosureSummaryQuery())
    try:
        found = apps_summary(get_engine(), admin().tenant, since=args.get("since"), until=args.get("until"),
                             field=args.get("field"), student_id=args.get("student"))
    except ValueError as error:
        raise BadRequest(str(error)) from None
    return respond({"apps": [{"app": item["client_id"], "entries": item["entries"], "firstAt": item["first"],
                              "lastAt": item["last"]} for item in found]})


@bp.get("/disclosures/verify")
def verify_disclosures():
    from gateway.privacy.disclosures import verify

    result = verify(get_engine())
    return respond({"ok": result.ok, "firstBadSeq": result.first_bad_seq})


@bp.get("/changes")
def changes():
    """This district's admin change log (API and command line), oldest first; page with ``after``."""
    args = query_args(Page())
    with get_engine().connect() as conn:
        items = service.changes(conn, admin().tenant, args["limit"], args.get("after"))
    return respond({"changes": items, "next": _next(items, args["limit"])})
