"""``trellis students access-code issue|revoke|list``: parent / eligible-student access codes from the command line.

Why a command line: a district office that verified a parent's identity issues the code on the spot, before any
admin UI exists. ``issue`` prints the code once (only its hash is kept); ``list`` never shows codes. Problems are one
line on stderr and exit status 1. Issuing and revoking go through the admin service, so both reach the change log. gateway/cli.py adds :data:`access_code_group` to ``trellis students``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from datetime import timezone

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from gateway.storage.db import get_engine

def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _run(action):
    """Run ``action(conn)`` in a transaction; service and database errors become one line and exit 1."""
    from gateway.errors import GatewayError
    from gateway.privacy.access_codes import AccessCodeError

    try:
        with get_engine().begin() as conn:
            return action(conn)
    except AccessCodeError as error:
        _fail(str(error))
    except GatewayError as error:
        _fail(error.description)
    except SQLAlchemyError as error:
        _fail(f"database: {type(error).__name__}: {str(error).splitlines()[0]}")


@click.group("access-code")
def access_code_group() -> None:
    """Access codes: let a parent or eligible student see who received the student's data."""


@access_code_group.command("issue")
@click.option("--district", "district_id", required=True, help="district (tenant) id")
@click.argument("student_id")
@click.option("--days", default="30", show_default=True, help="days until the code expires (1 to 365)")
@with_appcontext
def issue(district_id: str, student_id: str, days: str) -> None:
    """Issue a code for one student; it is printed once, only now."""
    from gateway.admin.cli import actor
    from gateway.admin.service import issue_access_code
    from gateway.privacy.access_codes import MAX_DAYS
    from gateway.privacy.access_codes import MIN_DAYS

    if not days.strip().isascii() or not days.strip().isdigit():
        _fail(f"--days must be a whole number from {MIN_DAYS} to {MAX_DAYS}")
    issued = _run(lambda conn: issue_access_code(conn, district_id, actor(), student_id, days=int(days)))
    click.echo(f"code id:  {issued['codeId']}")
    click.echo(f"code:     {issued['code']}")
    click.echo(f"expires:  {issued['expiresAt']}")
    click.echo("Give the code to the parent or eligible student; it is shown only now. "
               f"Revoke it with: trellis students access-code revoke --district {district_id} {issued['codeId']}")


@access_code_group.command("revoke")
@click.option("--district", "district_id", required=True, help="district (tenant) id")
@click.argument("code_id")
@with_appcontext
def revoke(district_id: str, code_id: str) -> None:
    """Revoke a code: refused from its next use."""
    from gateway.admin.cli import actor
    from gateway.admin.service import revoke_access_code

    _run(lambda conn: revoke_access_code(conn, district_id, actor(), code_id))
    click.echo(f"access code {code_id} revoked")


def _state(code: dict, now: str) -> str:
    if code["revoked"]:
        return "revoked"
    return "expired" if code["expires_at"] <= now else "active"


@access_code_group.command("list")
@click.option("--district", "district_id", required=True, help="district (tenant) id")
@click.option("--student", "student_id", default=None, help="only this student's codes")
@with_appcontext
def list_command(district_id: str, student_id: str | None) -> None:
    """List a district's codes (never the codes themselves)."""
    from gateway.privacy.access_codes import list_codes

    codes = _run(lambda conn: list_codes(conn, district_id, student_id))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [("CODE ID", "STUDENT", "CREATED", "BY", "EXPIRES", "STATE")]
    rows += [(c["code_id"], c["student_id"], c["created_at"], c["created_by"], c["expires_at"], _state(c, now))
             for c in codes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
    click.echo(f"{len(codes)} access code{'' if len(codes) == 1 else 's'}")
