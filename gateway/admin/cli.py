"""Admin commands: ``trellis admins``, ``trellis admin changes`` and the app commands beyond create/set-*.

Why through :mod:`gateway.admin.service`: a change made at the command line is logged exactly like one made through
the API, with ``cli:<os user>`` as the actor. gateway/cli.py adds these commands (:func:`extend`) and uses
:func:`reporting` and :func:`actor` for its own commands that change things. Errors are one line and exit 1.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from gateway.errors import GatewayError
from gateway.storage.db import get_engine

_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def actor() -> str:
    """``cli:<os user>``: who made a command-line change, for the change log."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers): fall back to the uid
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def reporting() -> Iterator[None]:
    """Report a refused operation as one line and exit 1 (enter it before the transaction so that rolls back first)."""
    try:
        yield
    except GatewayError as error:
        fail(error.description)


def seconds(value: str) -> int:
    """``3600``, ``3600s``, ``90m``, ``12h``, ``7d`` as seconds."""
    match = _DURATION.fullmatch(value.strip().lower())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a duration such as 3600s, 12h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _show(values: dict[str, Any]) -> None:
    width = max(len(name) for name in values)
    for name, value in values.items():
        if isinstance(value, list):
            value = " ".join(value)
        click.echo(f"{name + ':':<{width + 2}}{'' if value is None else value}")


# --- trellis admins ----------------------------------------------------------------------------------------------------

@click.group("admins")
def admins_group() -> None:
    """District admin credentials (for the /admin/v1 API)."""


@admins_group.command("create")
@click.option("--district", "district_id", required=True)
@click.option("--name", required=True, help="who the credential is for")
@with_appcontext
def admins_create(district_id: str, name: str) -> None:
    """Create an admin of one district; prints its id and secret once (only a hash is kept)."""
    from gateway.admin import service

    with reporting(), get_engine().begin() as conn:
        admin_id, secret = service.create_admin(conn, district_id, name, actor())
    click.echo(f"admin_id:     {admin_id}")
    click.echo(f"admin_secret: {secret}")
    click.echo("The secret is shown only now; store it safely. Get a token: POST /admin/v1/token (HTTP Basic).")


@admins_group.command("list")
@click.option("--district", "district_id", required=True)
@with_appcontext
def admins_list(district_id: str) -> None:
    """List a district's admins (never secrets)."""
    from gateway.admin.auth import list_admins

    with get_engine().connect() as conn:
        for item in list_admins(conn, district_id):
            click.echo(f"{item['adminId']}  {item['status']:<8} {item['createdAt']}  {item['name']}")


@admins_group.command("revoke")
@click.option("--district", "district_id", required=True)
@click.argument("admin_id")
@with_appcontext
def admins_revoke(district_id: str, admin_id: str) -> None:
    """Revoke an admin and its tokens at once."""
    from gateway.admin import service

    with reporting(), get_engine().begin() as conn:
        service.revoke_admin(conn, district_id, admin_id, actor())
    click.echo(f"{admin_id} revoked")


# --- trellis admin changes ---------------------------------------------------------------------------------------------

@click.group("admin")
def admin_group() -> None:
    """The admin change log."""


@admin_group.command("changes")
@click.option("--district", "district_id", required=True)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--after", default=None, type=int, help="changes after this seq (next page)")
@with_appcontext
def admin_changes(district_id: str, limit: int, after: int | None) -> None:
    """Who changed what in a district, oldest first (API and command line)."""
    import orjson

    from gateway.admin import service

    with get_engine().connect() as conn:
        items = service.changes(conn, district_id, limit, after)
    for item in items:
        details = orjson.dumps(item["details"], option=orjson.OPT_SORT_KEYS).decode()
        click.echo(f"{item['seq']:>6}  {item['occurredAt']}  {item['actor']}  {item['action']}  {item['target']}  "
                   f"{details}")
    if len(items) == limit:
        click.echo(f"next page: --after {items[-1]['seq']}")


# --- trellis apps ... ----------------------------------------------------------------------------------------------------

@click.command("update")
@click.option("--district", "district_id", required=True)
@click.argument("client_id")
@click.option("--name", default=None)
@click.option("--vendor", default=None, help="'' clears a field")
@click.option("--purpose", default=None, help="the legitimate educational interest")
@click.option("--dpa-reference", default=None)
@click.option("--dpa-expires", default=None, help="last day of the data-privacy agreement, YYYY-MM-DD")
@click.option("--contact", default=None)
@click.option("--scope", "scopes", multiple=True, help="replaces the app's scopes; repeatable")
@click.option("--pairwise/--no-pairwise", default=None, help="per-app pairwise user ids")
@click.option("--oauth1/--no-oauth1", default=None, help="OAuth 1.0a signatures (for secrets issued afterwards)")
@click.option("--rate-limit", default=None, help="e.g. 600/minute; '' for the gateway default")
@with_appcontext
def apps_update(district_id: str, client_id: str, scopes: tuple[str, ...], **options: Any) -> None:
    """Change an app's metadata, scopes, pairwise / OAuth 1 option or rate limit (logged: old and new values)."""
    from gateway.admin import service

    changes = {name: value for name, value in options.items() if value is not None}
    if scopes:
        changes["scopes"] = list(scopes)
    if not changes:
        raise click.UsageError("give at least one option to change")
    with reporting(), get_engine().begin() as conn:
        _show(service.update_app(conn, district_id, actor(), client_id, **changes))


@click.command("show")
@click.option("--district", "district_id", required=True)
@click.argument("client_id")
@with_appcontext
def apps_show(district_id: str, client_id: str) -> None:
    """An app's registration and credentials (never a secret)."""
    from gateway.admin import service

    with reporting(), get_engine().connect() as conn:
        _show(service.get_app(conn, district_id, client_id))
        for item in service.list_credentials(conn, district_id, client_id):
            click.echo(f"credential {item['credentialId']}: {item['state']}, created {item['createdAt']}"
                       + (f", expires {item['expiresAt']}" if item["expiresAt"] else ""))


@click.command("list")
@click.option("--district", "district_id", required=True)
@with_appcontext
def apps_list(district_id: str) -> None:
    """A district's apps."""
    from gateway.admin import service

    with get_engine().connect() as conn:
        for item in service.list_apps(conn, district_id):
            click.echo(f"{item['clientId']}  {item['status']:<9} {item['dpaExpires'] or '-':<10}  {item['name']}"
                       + (f" ({item['vendor']})" if item["vendor"] else ""))


@click.command("rotate-secret")
@click.option("--district", "district_id", required=True)
@click.argument("client_id")
@click.option("--grace", required=True, help="how long the current secrets keep working: 0, 3600s, 12h, 7d")
@with_appcontext
def apps_rotate_secret(district_id: str, client_id: str, grace: str) -> None:
    """Issue a new secret (printed once); the current ones stop working after the grace period."""
    from gateway.admin import service

    with reporting(), get_engine().begin() as conn:
        rotated = service.rotate(conn, district_id, actor(), client_id, seconds(grace),
                                 current_app.config.get("TRELLIS_CREDENTIAL_KEY") or "")
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {rotated['clientSecret']}")
    click.echo(f"credential:    {rotated['credentialId']}")
    click.echo(f"previous secrets work until {rotated['previousCredentialsExpireAt']}")
    click.echo("The secret is shown only now; store it safely.")


@click.command("revoke-credential")
@click.option("--district", "district_id", required=True)
@click.argument("client_id")
@click.option("--credential", "credential_id", default=None, help="the credential id (trellis apps show)")
@click.option("--all", "every", is_flag=True, help="every credential of the app")
@with_appcontext
def apps_revoke_credential(district_id: str, client_id: str, credential_id: str | None, every: bool) -> None:
    """Revoke a credential (or all) and every token it obtained, from the next request."""
    from gateway.admin import service

    if (credential_id is None) != every:
        raise click.UsageError("give --credential ID, or --all")
    with reporting(), get_engine().begin() as conn:
        count = service.revoke_credentials(conn, district_id, actor(), client_id, credential_id)
    click.echo(f"{count} credential(s) of {client_id} revoked")


APP_COMMANDS = (apps_update, apps_show, apps_list, apps_rotate_secret, apps_revoke_credential)


def extend(apps_group: click.Group) -> list[click.Command]:
    """Add the app commands to ``trellis apps``; returns the top-level groups to register."""
    for command in APP_COMMANDS:
        if command.name not in apps_group.commands:
            apps_group.add_command(command)
    return [admins_group, admin_group]
