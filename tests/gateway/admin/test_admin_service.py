"""Admin service: each change and its log row commit together, no-ops log nothing, nothing secret is logged."""

import hashlib

import pytest
from helpers import profile
from sqlalchemy import select

from gateway.admin import service
from gateway.admin.errors import Conflict
from gateway.admin.errors import InvalidBody
from gateway.errors import UnknownObject
from gateway.storage.tables import admin_changes
from gateway.storage.tables import admins
from gateway.storage.tables import apps as apps_table

ACTOR = "cli:tester"


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(admin_changes).order_by(admin_changes.c.seq)).all()


def new_app(engine, tenant="d1", **options):
    with engine.begin() as conn:
        return service.create_app(conn, tenant, ACTOR, name="App", scopes=["roster-core.readonly"], **options)


def test_a_change_and_its_log_row_commit_or_roll_back_together(engine, districts):
    before = len(rows(engine))
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            service.create_app(conn, "d1", ACTOR, name="App", scopes=["roster-core.readonly"])
            raise RuntimeError("the caller fails after the operation")
    with engine.connect() as conn:
        assert conn.execute(select(apps_table)).all() == []
    assert len(rows(engine)) == before
    credentials = new_app(engine)
    last = rows(engine)[-1]
    assert (last.tenant, last.actor, last.action, last.target) == ("d1", ACTOR, "app.create",
                                                                     f"app:{credentials.client_id}")


def test_operations_that_change_nothing_log_nothing(engine, districts):
    credentials = new_app(engine, vendor="Acme")
    count = len(rows(engine))
    with engine.begin() as conn:
        service.update_app(conn, "d1", ACTOR, credentials.client_id, vendor="Acme")
        service.set_status(conn, "d1", ACTOR, credentials.client_id, "active")
        service.set_orgs(conn, "d1", ACTOR, credentials.client_id, None)
        service.set_profile(conn, "d1", ACTOR, credentials.client_id, None)
        service.set_optout(conn, "d1", ACTOR, "s1", None, False)
        assert service.create_district(conn, "d1", None, ACTOR) is False
    assert len(rows(engine)) == count


def test_the_log_never_holds_secrets_hashes_or_profile_bodies(engine, districts):
    credentials = new_app(engine, profile_xml=profile("User"))
    with engine.begin() as conn:
        rotated = service.rotate(conn, "d1", ACTOR, credentials.client_id, 60)
        admin_id, admin_secret = service.create_admin(conn, "d1", "Ann", ACTOR)
        issued = service.issue_access_code(conn, "d1", ACTOR, "s1", 5)
        hashes = [row.secret_hash for row in conn.execute(select(admins.c.secret_hash))]
    logged = " ".join(row.details for row in rows(engine))
    for secret in (credentials.client_secret, rotated["clientSecret"], admin_secret, issued["code"], *hashes):
        assert secret not in logged
    assert "scrypt$" not in logged and "<Profile" not in logged
    assert hashlib.sha256(profile("User").encode()).hexdigest() in logged


def test_objects_of_another_district_are_unknown(engine, districts):
    theirs = new_app(engine, "d2")
    with engine.begin() as conn:
        for call in (lambda: service.get_app(conn, "d1", theirs.client_id),
                     lambda: service.update_app(conn, "d1", ACTOR, theirs.client_id, vendor="x"),
                     lambda: service.set_status(conn, "d1", ACTOR, theirs.client_id, "suspended"),
                     lambda: service.rotate(conn, "d1", ACTOR, theirs.client_id, 0),
                     lambda: service.revoke_credentials(conn, "d1", ACTOR, theirs.client_id),
                     lambda: service.set_optout(conn, "d1", ACTOR, "s1", theirs.client_id, True),
                     lambda: service.revoke_admin(conn, "d1", "adm-nobody", ACTOR)):
            with pytest.raises(UnknownObject):
                call()
    with engine.connect() as conn:
        assert service.changes(conn, "d1") == []
        assert [c["action"] for c in service.changes(conn, "d2")] == ["app.create"]


def test_errors_name_the_field(engine, districts):
    credentials = new_app(engine)
    with engine.begin() as conn:
        with pytest.raises(InvalidBody) as caught:
            service.update_app(conn, "d1", ACTOR, credentials.client_id, dpa_expires="someday")
        assert "dpaExpires" in caught.value.fields
        with pytest.raises(InvalidBody) as caught:
            service.update_app(conn, "d1", ACTOR, credentials.client_id, scopes=["nope"])
        assert "scopes" in caught.value.fields
        with pytest.raises(InvalidBody) as caught:
            service.rotate(conn, "d1", ACTOR, credentials.client_id, -5)
        assert "graceSeconds" in caught.value.fields


def test_revoking_twice_is_a_conflict_and_revoking_an_admin_ends_its_tokens(engine, districts):
    credentials = new_app(engine)
    with engine.begin() as conn:
        service.revoke_credentials(conn, "d1", ACTOR, credentials.client_id, credentials.credential_id)
    with engine.begin() as conn, pytest.raises(Conflict):
        service.revoke_credentials(conn, "d1", ACTOR, credentials.client_id, credentials.credential_id)
    with engine.begin() as conn:
        admin_id, _ = service.create_admin(conn, "d1", "Ann", ACTOR)
        service.revoke_admin(conn, "d1", admin_id, ACTOR)
        service.revoke_admin(conn, "d1", admin_id, ACTOR)  # already revoked: nothing more to log
        statuses = conn.execute(select(admins.c.status).where(admins.c.admin_id == admin_id)).scalar()
    assert statuses == "revoked"
    actions = [row.action for row in rows(engine)]
    assert actions.count("admin.revoke") == 1 and actions.count("app.credentials.revoke") == 1


def test_changes_page_by_seq(engine, districts):
    for number in range(5):
        new_app(engine)
    with engine.connect() as conn:
        first = service.changes(conn, "d1", limit=2)
        second = service.changes(conn, "d1", limit=2, after=first[-1]["seq"])
        everything = service.changes(conn, "d1", limit=100)
    assert [c["seq"] for c in first + second] == [c["seq"] for c in everything[:4]]
    assert everything[0]["details"]["name"] == {"old": None, "new": "App"}
