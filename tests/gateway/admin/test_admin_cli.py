"""``trellis admins``, ``trellis admin changes`` and the app commands: logged like the API, one-line errors."""

import getpass

import pytest
from admin_support import PREFIX
from admin_support import app_token
from helpers import basic

from gateway.admin.cli import seconds


@pytest.fixture
def run(app, districts):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


def field(output, name):
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith(name + ":"))


def create(run, *extra):
    result = run("apps", "create", "--district", "d1", "--name", "Reader", "--scope", "roster-core.readonly", *extra)
    assert result.exit_code == 0, result.output
    return field(result.output, "client_id"), field(result.output, "client_secret")


def test_admins_create_prints_the_secret_once_and_it_gets_an_admin_token(run, client):
    result = run("admins", "create", "--district", "d1", "--name", "Ann")
    assert result.exit_code == 0, result.output
    admin_id, secret = field(result.output, "admin_id"), field(result.output, "admin_secret")
    token = client.post(PREFIX + "/token", data={"grant_type": "client_credentials"}, headers=basic(admin_id, secret))
    assert token.status_code == 200
    listed = run("admins", "list", "--district", "d1")
    assert admin_id in listed.output and secret not in listed.output
    assert run("admins", "list", "--district", "d2").output == ""
    assert run("admins", "revoke", "--district", "d2", admin_id).exit_code == 1  # another district's admin
    assert run("admins", "revoke", "--district", "d1", admin_id).exit_code == 0
    headers = {"Authorization": "Bearer " + token.get_json()["access_token"]}
    assert client.get(PREFIX + "/apps", headers=headers).status_code == 401
    bad = run("admins", "create", "--district", "nowhere", "--name", "Ann")
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "unknown district" in bad.output


def test_apps_create_and_update_record_metadata_and_log_old_and_new(run):
    client_id, _ = create(run, "--vendor", "Acme", "--purpose", "reading", "--dpa-reference", "DPA-1",
                          "--dpa-expires", "2099-01-01", "--contact", "it@acme.example", "--pairwise")
    shown = run("apps", "show", "--district", "d1", client_id).output
    assert field(shown, "vendor") == "Acme" and field(shown, "pairwise") == "True" and "credential " in shown
    result = run("apps", "update", "--district", "d1", client_id, "--vendor", "Acme Learning", "--no-pairwise",
                 "--scope", "roster.readonly", "--rate-limit", "60/minute", "--dpa-expires", "2030-06-30")
    assert result.exit_code == 0, result.output
    changes = run("admin", "changes", "--district", "d1").output.splitlines()
    assert "app.update" in changes[-1] and '"vendor":{"new":"Acme Learning","old":"Acme"}' in changes[-1]
    assert f"cli:{getpass.getuser()}" in changes[-1]
    listed = run("apps", "list", "--district", "d1").output
    assert client_id in listed and "2030-06-30" in listed and "Acme Learning" in listed
    bad = run("apps", "update", "--district", "d1", client_id, "--dpa-expires", "soon")
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "Traceback" not in bad.output
    assert run("apps", "update", "--district", "d1", client_id).exit_code == 2
    unknown = run("apps", "show", "--district", "d2", client_id)
    assert unknown.exit_code == 1 and "no app" in unknown.output


def test_rotate_secret_and_revoke_credential(run, client):
    client_id, old_secret = create(run)
    result = run("apps", "rotate-secret", "--district", "d1", client_id, "--grace", "1h")
    assert result.exit_code == 0, result.output
    new_secret = field(result.output, "client_secret")
    assert app_token(client, client_id, old_secret).status_code == 200
    assert app_token(client, client_id, new_secret).status_code == 200
    credential = field(result.output, "credential")
    assert run("apps", "revoke-credential", "--district", "d1", client_id, "--credential", credential).exit_code == 0
    assert app_token(client, client_id, new_secret).status_code == 401
    again = run("apps", "revoke-credential", "--district", "d1", client_id, "--credential", credential)
    assert again.exit_code == 1 and "already revoked" in again.output
    assert run("apps", "revoke-credential", "--district", "d1", client_id).exit_code == 2
    assert run("apps", "revoke-credential", "--district", "d1", client_id, "--all").exit_code == 0
    assert app_token(client, client_id, old_secret).status_code == 401
    assert run("apps", "rotate-secret", "--district", "d1", client_id, "--grace", "soon").exit_code == 2
    too_long = run("apps", "rotate-secret", "--district", "d1", client_id, "--grace", "400d")
    assert too_long.exit_code == 1 and "grace period" in too_long.output
    actions = [line.split()[3] for line in run("admin", "changes", "--district", "d1").output.splitlines()]
    assert actions[-3:] == ["app.credentials.rotate", "app.credentials.revoke", "app.credentials.revoke"]


def test_existing_commands_that_change_things_are_logged(run, tmp_path):
    assert run("districts", "create", "d3", "--name", "Capital City").exit_code == 0
    assert "district.create" in run("admin", "changes", "--district", "d3").output
    client_id, _ = create(run)
    document = tmp_path / "p.xml"
    document.write_text('<Profiles><Profile name="test"><Resource name="User">'
                        '<ReadContentType memberSelection="IncludeAll"/></Resource></Profile></Profiles>')
    for args in (("apps", "set-profile", "--district", "d1", client_id, str(document)),
                 ("apps", "set-orgs", "--district", "d1", client_id, "sch1"),
                 ("apps", "suspend", "--district", "d1", client_id),
                 ("apps", "activate", "--district", "d1", client_id),
                 ("students", "opt-out", "--district", "d1", "s1", "--app", client_id),
                 ("students", "opt-in", "--district", "d1", "s1", "--app", client_id)):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    actions = [line.split()[3] for line in run("admin", "changes", "--district", "d1").output.splitlines()]
    assert actions[-7:] == ["app.create", "app.profile.set", "app.orgs", "app.suspend", "app.activate",
                            "student.opt_out", "student.opt_in"]
    failed = run("apps", "set-orgs", "--district", "d1", client_id, "nope")
    assert failed.exit_code == 1 and failed.output.count("\n") == 1 and "no org" in failed.output


@pytest.mark.parametrize("text, expected", [("0", 0), ("3600", 3600), ("3600s", 3600), ("90m", 5400), ("12h", 43200),
                                            ("7d", 604800)])
def test_durations(text, expected):
    assert seconds(text) == expected
