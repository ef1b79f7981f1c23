"""API fixtures: a seeded district and tokens for it."""

import pytest
from factories import seed
from helpers import V12





@pytest.fixture
def seeded(app, engine):
    seed(engine)
    return app


@pytest.fixture
def auth(apps, seeded):
    return apps.headers()


@pytest.fixture
def get(client, auth):
    def fetch(path, **kwargs):
        return client.get(path if path.startswith("/") else f"{V12}/{path}", headers=auth, **kwargs)

    return fetch
