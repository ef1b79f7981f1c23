"""Start the real server (gunicorn on a free loopback port) and talk to it with ``requests``."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from factories import seed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(app, engine, database_url, tmp_path):
    seed(engine)
    port = free_port()
    env = dict(os.environ, TRELLIS_DATABASE_URL=database_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(base + "/openapi.json", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None:
                    pytest.fail("gunicorn exited: " + process.stdout.read().decode(errors="replace")[-2000:])
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer within 30 s")
        yield base
    finally:
        process.terminate()
    try:
        output = process.communicate(timeout=10)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0].decode(errors="replace")
    assert "Traceback" not in output


def test_token_then_users_through_gunicorn(server, apps):
    creds = apps.register(["roster-core.readonly"])
    token = requests.post(server + "/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(creds.client_id, creds.client_secret), timeout=10)
    assert token.status_code == 200, token.text
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    response = requests.get(server + "/ims/oneroster/rostering/v1p2/users?limit=3", headers=headers, timeout=10)
    assert response.status_code == 200
    assert [u["sourcedId"] for u in response.json()["users"]] == ["s1", "s2", "s3"]
    assert response.headers["X-Total-Count"] == "8"
    assert 'rel="next"' in response.headers["Link"]
    streamed = requests.get(server + "/ims/oneroster/rostering/v1p2/users?limit=5000", headers=headers, timeout=10)
    assert len(streamed.json()["users"]) == 8
    denied = requests.get(server + "/ims/oneroster/rostering/v1p2/users", timeout=10)
    assert denied.status_code == 401 and denied.json()["imsx_codeMajor"] == "failure"
    discovery = requests.get(server + "/ims/oneroster/rostering/v1p2/discovery/openapi.json", timeout=10)
    assert discovery.status_code == 200 and discovery.json()["openapi"].startswith("3.")
