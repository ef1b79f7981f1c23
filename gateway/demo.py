"""``trellis demo``: a ready-to-try district for newcomers.

Generates the small deterministic demo district, imports it through the OneRoster CSV importer (the same path a real
district uses), registers a demo app and prints its credentials with curl commands to paste. Running it again
re-imports nothing (the data is unchanged) and replaces the demo app's credentials.
"""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete
from sqlalchemy import select

from gateway.auth.registry import create_app_credentials
from gateway.auth.registry import ensure_district
from gateway.storage.db import get_engine
from gateway.storage.tables import app_credentials
from gateway.storage.tables import apps

DISTRICT = "demo"
APP_NAME = "Trellis demo app"
SCOPES = ["roster.readonly", "roster-core.readonly", "roster-demographics.readonly", "resource.readonly",
          "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly",
          "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"]


def setup_demo(engine, bundle_dir: str) -> tuple:
    """Generate and import the demo district, then (re)register the demo app. Returns (report, credentials)."""
    from gateway.importing import import_bundle
    from gateway.synthetic import DEMO
    from gateway.synthetic import generate_bundle

    generate_bundle(bundle_dir, DEMO, district_id=DISTRICT)
    report = import_bundle(engine, bundle_dir, DISTRICT)
    if not report.ok:
        raise click.ClickException("demo import failed: " + "; ".join(report.errors[:5]))
    with engine.begin() as conn:
        ensure_district(conn, DISTRICT, "Demo District")
        previous = select(apps.c.client_id).where(apps.c.tenant == DISTRICT, apps.c.name == APP_NAME)
        conn.execute(delete(app_credentials).where(app_credentials.c.client_id.in_(previous)))
        conn.execute(delete(apps).where(apps.c.tenant == DISTRICT, apps.c.name == APP_NAME))
        credentials = create_app_credentials(conn, DISTRICT, APP_NAME, SCOPES, vendor="Trellis demo",
                                             purpose="Trying the OneRoster API on synthetic data")
    return report, credentials


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def demo_command(host: str, port: int) -> None:
    """Import the demo district, register a demo app and print how to call the API."""
    bundle_dir = os.path.join(current_app.instance_path, "demo-bundle")
    os.makedirs(bundle_dir, exist_ok=True)
    report, credentials = setup_demo(get_engine(), bundle_dir)
    base = f"http://{host}:{port}"
    total = sum(stats.read for stats in report.files.values())
    click.echo(f"Demo district '{DISTRICT}' imported from {bundle_dir} ({total} rows).")
    click.echo("")
    click.echo(f"  client_id:     {credentials.client_id}")
    click.echo(f"  client_secret: {credentials.client_secret}")
    click.echo("")
    click.echo("Get a token, then list users:")
    click.echo("")
    click.echo(f"  TOKEN=$(curl -s -u '{credentials.client_id}:{credentials.client_secret}' "
               f"-d grant_type=client_credentials {base}/oauth/token "
               "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')")
    click.echo(f"  curl -s -H \"Authorization: Bearer $TOKEN\" '{base}/ims/oneroster/rostering/v1p2/users?limit=5'")
    click.echo(f"  curl -s -H \"Authorization: Bearer $TOKEN\" '{base}/ims/oneroster/v1p1/students?limit=5'")
    click.echo("")
    click.echo(f"OpenAPI: {base}/openapi.json   Serving on {base} (Ctrl-C to stop).")
