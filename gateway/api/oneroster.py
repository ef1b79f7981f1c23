"""The OneRoster REST endpoints, generated from ``standards/oneroster/endpoints.yaml``.

One view function serves every collection, single-record and relationship endpoint of 1.2 (under each service's
base path) and of 1.1 (under ``/ims/oneroster/v1p1``, projected from the stored 1.2 records). The view is thin: it
authenticates, parses parameters, asks :class:`~gateway.query.reading.Reader` for rows and streams them through a
:class:`~gateway.api.render.Shaper`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any
from typing import Iterator
from urllib.parse import urlencode

import orjson
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask import stream_with_context

from gateway import auth
from gateway.api import params as query_params
from gateway.api.render import Shaper
from gateway.api.render import href_prefixes
from gateway.api.render import projector_v1p1
from gateway.auth import scopes as scope_names
from gateway.errors import UnknownObject
from gateway.policy import AccessPolicy
from gateway.privacy import pairwise
from gateway.privacy.profiles import FILTER_KEY
from gateway.privacy.recording import ResponseDisclosures
from gateway.privacy.recording import observer
from gateway.query.reading import Reader
from gateway.storage.db import get_engine
from standards import load_model
from standards.endpoints import Endpoint
from standards.endpoints import load_endpoints

SINGLE_ID = "sourcedId"


def _flask_path(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")


def reader() -> Reader:
    return current_app.extensions["trellis.reader"]


def public_host() -> str:
    return current_app.config["TRELLIS_PUBLIC_URL"] or request.host_url


def policy_for(endpoint: Endpoint, version: str) -> AccessPolicy:
    """Authenticate and build the caller's access policy (the one decision point for what it may see)."""
    token = auth.require(scope_names.expand(list(endpoint.scopes), version))
    return AccessPolicy(tenant=token.tenant, client_id=token.client_id, scopes=scope_names.parse(token.scope),
                        profile_xml=token.profile_xml, profile_name=token.profile_name,
                        allowed_orgs=tuple(token.allowed_orgs.split()) if token.allowed_orgs else None,
                        has_optouts=token.has_optouts, epoch=token.epoch, purpose=token.purpose,
                        pairwise_key=token.pairwise_key)


def disclosures_for(endpoint: Endpoint, version: str, policy: AccessPolicy) -> ResponseDisclosures | None:
    if not current_app.config["TRELLIS_DISCLOSURE_LOG"]:
        return None
    definitions = load_endpoints()
    base = definitions.v1p1_base if version == "1.1" else definitions.services[endpoint.service]["base"]
    return ResponseDisclosures(policy.tenant, policy.client_id, base + endpoint.path, endpoint.collection.type,
                               policy.purpose)


def serve(endpoint: Endpoint, version: str, **params: str) -> Response:
    policy = policy_for(endpoint, version)
    model = load_model("oneroster", "1.2")
    collection = endpoint.collection
    tree = policy.readable(model, collection.cls)
    project = None
    allowed = set(tree) - {FILTER_KEY}
    if version == "1.1":
        model11 = load_model("oneroster", "1.1")
        project = projector_v1p1(model11, collection.cls)
        cls11 = model11.classes.get(collection.cls)
        allowed = {name for name in (cls11.fields if cls11 else tree) if name in tree or name in {"role", "orgs"}}
    selection = query_params.selection(request.args, allowed)
    disclosures = disclosures_for(endpoint, version, policy)
    ids = pairwise.for_policy(policy)  # None unless the app gets pairwise user ids
    shaper = Shaper(model, collection.cls, tree, selection, href_prefixes(public_host(), version), project,
                    observer(disclosures), ids)
    engine = get_engine()
    if endpoint.single:
        with engine.connect() as conn:
            if ids is not None:
                params, _ = ids.translate(conn, model, endpoint, params)
            row = reader().get(conn, policy.tenant, endpoint, params[SINGLE_ID], policy)
        if row is None:
            raise UnknownObject(f"Unknown {collection.singular}")
        body = orjson.dumps({collection.singular: shaper.record(row)})
        if ids is not None:
            ids.save(engine)  # the ids it was sent resolve from now on
        if disclosures is not None:
            disclosures.commit(engine)  # no entry, no response: an unrecorded disclosure must not happen
        return Response(body, mimetype="application/json")
    config = current_app.config
    args = query_params.list_args(request.args, model, collection.cls, tree, version,
                                  config["TRELLIS_DEFAULT_LIMIT"], config["TRELLIS_MAX_LIMIT"])
    stream = args.limit > config["TRELLIS_STREAM_THRESHOLD"]
    conn = engine.connect()
    try:
        if ids is not None:
            params, node = ids.translate(conn, model, endpoint, params, args.filter)
            args = replace(args, filter=node)
        _check_parents(conn, policy, endpoint, params)
        page = reader().list(conn, policy.tenant, endpoint, params, policy, args, stream=stream)
    except BaseException:
        conn.close()
        raise
    headers = {"X-Total-Count": str(page.total)}
    link = _link_header(args.limit, args.offset, page.total)
    if link:
        headers["Link"] = link
    if stream:
        body = _body(collection.plural, page.rows, shaper, conn, disclosures, engine)
        return Response(stream_with_context(body), mimetype="application/json", headers=headers)
    content = b"".join(_body(collection.plural, page.rows, shaper, conn, None, engine))
    if disclosures is not None:
        disclosures.commit(engine)  # recorded before anything is sent
    return Response(content, mimetype="application/json", headers=headers)


def _body(key: str, rows: Any, shaper: Shaper, conn: Any, disclosures: ResponseDisclosures | None,
          engine: Any) -> Iterator[bytes]:
    """The collection envelope, row by row; a streamed response records its disclosures once it has been sent."""
    try:
        yield b'{"' + key.encode() + b'":['
        records = _records(rows, shaper)
        yield from records if shaper.ids is None else shaper.ids.hold(records, engine)  # ids stored, then sent
        yield b"]}"
    finally:
        conn.close()
        if disclosures is not None:
            disclosures.commit(engine)


def _records(rows: Any, shaper: Shaper) -> Iterator[bytes]:
    first = True
    for row in rows:
        yield shaper.dumps(row) if first else b"," + shaper.dumps(row)
        first = False


def _check_parents(conn: Any, policy: AccessPolicy, endpoint: Endpoint, params: dict[str, str]) -> None:
    if load_endpoints().services[endpoint.service].get("unknown_parent") != "404":
        return
    for name, rtype in endpoint.parents.items():
        if not reader().exists(conn, policy.tenant, rtype, params[name], policy):
            raise UnknownObject(f"Unknown {rtype}")


def _link_header(limit: int, offset: int, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages, keeping the request's other parameters."""
    def url(at: int) -> str:
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in {"limit", "offset"}]
        args += [("limit", str(limit)), ("offset", str(at))]
        return f"<{request.base_url}?{urlencode(args)}>"

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links = []
    if offset > 0:
        links += [url(0) + '; rel="first"', url(max(0, offset - limit)) + '; rel="prev"']
    if offset + limit < total:
        links += [url(offset + limit) + '; rel="next"', url(last) + '; rel="last"']
    return ", ".join(links)


def register_routes(app: Flask) -> None:
    definitions = load_endpoints()
    bp = Blueprint("oneroster", __name__)
    for endpoint in definitions.endpoints:
        base = definitions.services[endpoint.service]["base"]
        bp.add_url_rule(base + _flask_path(endpoint.path), endpoint=f"v1p2_{endpoint.service}_{endpoint.op}",
                        view_func=partial(serve, endpoint, "1.2"), methods=["GET"])
        if endpoint.op11:
            bp.add_url_rule(definitions.v1p1_base + _flask_path(endpoint.path), endpoint=f"v1p1_{endpoint.op11}",
                            view_func=partial(serve, endpoint, "1.1"), methods=["GET"])
    app.register_blueprint(bp)
    app.extensions["trellis.reader"] = Reader(load_model("oneroster", "1.2"))
