"""The ``trellis`` command line (a Flask click group; also ``flask --app gateway ...``).

Commands report problems as one clear line and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup
from flask.cli import with_appcontext

from gateway.storage.db import get_engine


def _create_app(*_args):
    from gateway import create_app
    from gateway.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"configuration error: {error}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, add_version_option=False)
def main() -> None:
    """Trellis: privacy-first Ed-Fi / OneRoster gateway."""


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply the schema migrations."""
    from gateway.storage import migrate

    migrate.upgrade(get_engine(), revision)
    click.echo(f"database at revision {migrate.current(get_engine())}")


@click.group("districts")
def districts_group() -> None:
    """Districts (tenants)."""


@districts_group.command("create")
@click.argument("district_id")
@click.option("--name", default=None, help="display name")
@with_appcontext
def districts_create(district_id: str, name: str | None) -> None:
    """Create a district (does nothing if it exists)."""
    from gateway.admin import service
    from gateway.admin.cli import actor
    from gateway.admin.cli import reporting

    with reporting(), get_engine().begin() as conn:
        service.create_district(conn, district_id, name, actor())
    click.echo(f"district {district_id} ready")


@click.group("apps")
def apps_group() -> None:
    """Apps (OAuth clients) registered by a district."""


@apps_group.command("create")
@click.option("--district", "district_id", required=True)
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True,
              help="OneRoster scope (URI or 1.2 short name such as roster-core.readonly); repeatable")
@click.option("--profile", "profile_file", type=click.File("r", encoding="utf-8"), default=None,
              help="field profile (Ed-Fi API Profile XML); without one the app reads tier-0 fields only")
@click.option("--profile-name", default=None, help="which profile of the file applies (when it has several)")
@click.option("--oauth1", is_flag=True,
              help="the app may also sign OneRoster 1.1 requests with OAuth 1.0a (needs TRELLIS_CREDENTIAL_KEY)")
@click.option("--vendor", default=None)
@click.option("--purpose", default=None, help="the legitimate educational interest (cited by the disclosure log)")
@click.option("--dpa-reference", default=None, help="the data-privacy agreement")
@click.option("--dpa-expires", default=None, help="its last day, YYYY-MM-DD (the app is refused from the day after)")
@click.option("--contact", default=None)
@click.option("--pairwise", is_flag=True, help="send per-app pairwise user ids instead of sourcedIds")
@with_appcontext
def apps_create(district_id: str, name: str, scopes: tuple[str, ...], profile_file, profile_name,
                oauth1: bool, **details) -> None:
    """Register an app; prints its client id and secret once (only a hash of the secret is kept)."""
    from flask import current_app

    from gateway.admin import service
    from gateway.admin.cli import actor
    from gateway.admin.cli import reporting

    with reporting(), get_engine().begin() as conn:
        credentials = service.create_app(
            conn, district_id, actor(), name=name, scopes=list(scopes), oauth1=oauth1,
            sealing_key=current_app.config["TRELLIS_CREDENTIAL_KEY"],
            profile_xml=profile_file.read() if profile_file is not None else None, profile_name=profile_name,
            profile_source=getattr(profile_file, "name", "profile.xml"), **details)
    click.echo(f"client_id:     {credentials.client_id}")
    click.echo(f"client_secret: {credentials.client_secret}")
    click.echo("scopes:        " + " ".join(credentials.scopes))
    click.echo("The secret is shown only now; store it safely.")


@apps_group.command("set-profile")
@click.option("--district", "district_id", required=True)
@click.argument("client_id")
@click.argument("profile_file", type=click.File("r", encoding="utf-8"), required=False)
@click.option("--profile-name", default=None)
@click.option("--remove", is_flag=True, help="remove the profile (the app falls back to tier-0 fields)")
@with_appcontext
def apps_set_profile(district_id: str, client_id: str, profile_file, profile_name, remove: bool) -> None:
    """Set (or remove) an app's field profile; it applies from the app's next request."""
    from gateway.admin import service
    from gateway.admin.cli import actor
    from gateway.admin.cli import reporting

    if (profile_file is None) != remove:
        raise click.UsageError("give a PROFILE_FILE, or --remove")
    with reporting(), get_engine().begin() as conn:
        service.set_profile(conn, district_id, actor(), client_id, None if remove else profile_file.read(),
                            profile_name, source=getattr(profile_file, "name", "profile.xml"))
    click.echo("profile removed" if remove else f"profile set for {client_id}")


@apps_group.command("set-orgs")
@click.option("--district", "district_id", required=True)
@click.argument("client_id")
@click.argument("orgs", nargs=-1)
@click.option("--all", "whole_district", is_flag=True, help="the whole district (remove the limit)")
@with_appcontext
def apps_set_orgs(district_id: str, client_id: str, orgs: tuple[str, ...], whole_district: bool) -> None:
    """Limit an app to some orgs (schools, or a district and everything below it)."""
    from gateway.admin import service
    from gateway.admin.cli import actor
    from gateway.admin.cli import reporting

    if bool(orgs) == whole_district:
        raise click.UsageError("give ORG ids, or --all")
    with reporting(), get_engine().begin() as conn:
        service.set_orgs(conn, district_id, actor(), client_id, list(orgs) or None)
    click.echo(f"{client_id} limited to " + (" ".join(orgs) if orgs else "the whole district"))


def _status_command(status: str):
    @click.option("--district", "district_id", required=True)
    @click.argument("client_id")
    @with_appcontext
    def command(district_id: str, client_id: str) -> None:
        from gateway.admin import service
        from gateway.admin.cli import actor
        from gateway.admin.cli import reporting

        with reporting(), get_engine().begin() as conn:
            service.set_status(conn, district_id, actor(), client_id, status)
        click.echo(f"{client_id} is {status}")

    return command


apps_group.command("suspend", help="Suspend an app: refused from its next request.")(_status_command("suspended"))
apps_group.command("activate", help="Re-activate a suspended app.")(_status_command("active"))


@click.group("students")
def students_group() -> None:
    """Students' privacy choices."""


def _optout_command(active: bool):
    @click.option("--district", "district_id", required=True)
    @click.argument("student_id")
    @click.option("--app", "client_id", default=None, help="only this app (default: directory-wide, every app)")
    @with_appcontext
    def command(district_id: str, student_id: str, client_id: str | None) -> None:
        from gateway.admin import service
        from gateway.admin.cli import actor
        from gateway.admin.cli import reporting

        with reporting(), get_engine().begin() as conn:
            service.set_optout(conn, district_id, actor(), student_id, client_id, active)
        scope = f"app {client_id}" if client_id else "directory disclosure (every app)"
        click.echo(f"{student_id} opted {'out of' if active else 'back in to'} {scope}")

    return command


students_group.command("opt-out", help="Hide a student from one app, or from every app (directory opt-out).")(
    _optout_command(True))
students_group.command("opt-in", help="Withdraw an opt-out.")(_optout_command(False))


def _all_commands() -> list:
    from gateway import mapping_cli
    from gateway import transfer_cli
    from gateway.admin import cli as admin_cli
    from gateway.demo import demo_command
    from gateway.privacy.access_cli import access_code_group
    from gateway.privacy.audit_cli import audit_group

    students_group.add_command(access_code_group)
    return [db_group, districts_group, apps_group, students_group, demo_command, *transfer_cli.COMMANDS, audit_group,
            *admin_cli.extend(apps_group), *mapping_cli.COMMANDS]


def init_app(app: Flask) -> None:
    for command in _all_commands():
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
