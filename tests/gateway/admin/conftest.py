"""Admin API fixtures: two districts (d1 seeded, d2 small) and one admin of each."""

import pytest
from admin_support import D2
from admin_support import Admin
from factories import seed

from gateway.auth.registry import ensure_district


@pytest.fixture
def districts(app, engine):
    with engine.begin() as conn:
        ensure_district(conn, "d1", "Springfield")
        ensure_district(conn, "d2", "Shelbyville")
    seed(engine, "d1")
    seed(engine, "d2", D2)
    return app


@pytest.fixture
def admin_a(districts, app, client):
    return Admin(app, client, "d1", "Ann")


@pytest.fixture
def admin_b(districts, app, client):
    return Admin(app, client, "d2", "Bea")

