"""Test helpers shared across modules (kept out of conftest.py so they can be imported by name)."""

from __future__ import annotations

import base64

V12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


class Apps:
    """Registers apps and fetches tokens, as a district and a vendor would."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def register(self, scopes, district="d1", name="app"):
        from gateway.auth.registry import create_app_credentials
        from gateway.auth.registry import ensure_district

        with self.app.extensions["trellis.engine"].begin() as conn:
            ensure_district(conn, district)
            return create_app_credentials(conn, district, name, list(scopes))

    def token(self, scopes=("roster.readonly", "roster-core.readonly", "roster-demographics.readonly",
                            "resource.readonly"), district="d1", request_scope=None):
        creds = self.register(scopes, district)
        data = {"grant_type": "client_credentials"}
        if request_scope:
            data["scope"] = request_scope
        response = self.client.post("/oauth/token", data=data, headers=basic(creds.client_id, creds.client_secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["access_token"]

    def headers(self, **kwargs):
        return {"Authorization": "Bearer " + self.token(**kwargs)}
