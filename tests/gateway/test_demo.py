"""`trellis demo`: what a newcomer sees after `make demo`."""

import re

from helpers import basic


def test_demo_imports_the_district_and_prints_working_credentials(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--port", "5000"])
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id:\s+(\S+)", result.output).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", result.output).group(1)
    assert "curl" in result.output and "/oauth/token" in result.output
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(client_id, secret)).get_json()["access_token"]
    users = client.get("/ims/oneroster/rostering/v1p2/users?limit=5", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200
    assert int(users.headers["X-Total-Count"]) > 200  # ~200 students plus teachers
    schools = client.get("/ims/oneroster/rostering/v1p2/schools", headers={"Authorization": f"Bearer {token}"})
    assert len(schools.get_json()["orgs"]) == 2


def test_running_demo_again_changes_no_data_and_replaces_the_app_secret(app, engine):
    from sqlalchemy import text

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    with engine.connect() as conn:
        version = conn.execute(text("SELECT value FROM change_counter")).scalar()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM change_counter")).scalar() == version
        assert conn.execute(text("SELECT count(*) FROM apps WHERE tenant = 'demo'")).scalar() == 1
    assert re.search(r"client_secret:\s+(\S+)", first.output).group(1) != re.search(
        r"client_secret:\s+(\S+)", second.output).group(1)
