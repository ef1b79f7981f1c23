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

    def register(self, scopes, district="d1", name="app", profile=None):
        from gateway.auth.registry import create_app_credentials
        from gateway.auth.registry import ensure_district
        from gateway.auth.registry import set_profile

        with self.app.extensions["trellis.engine"].begin() as conn:
            ensure_district(conn, district)
            credentials = create_app_credentials(conn, district, name, list(scopes))
            if profile is not None:
                set_profile(conn, district, credentials.client_id, profile, None)
            return credentials

    def token(self, scopes=("roster.readonly", "roster-core.readonly", "roster-demographics.readonly",
                            "resource.readonly"), district="d1", request_scope=None, profile=None):
        creds = self.register(scopes, district, profile=profile)
        data = {"grant_type": "client_credentials"}
        if request_scope:
            data["scope"] = request_scope
        response = self.client.post("/oauth/token", data=data, headers=basic(creds.client_id, creds.client_secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["access_token"]

    def headers(self, **kwargs):
        return {"Authorization": "Bearer " + self.token(**kwargs)}


def profile(*resources: str) -> str:
    """A profile document granting every non-sensitive field (IncludeAll) of the given OneRoster classes."""
    body = "".join(f'<Resource name="{name}"><ReadContentType memberSelection="IncludeAll"/></Resource>'
                   for name in resources)
    return f'<Profiles><Profile name="test">{body}</Profile></Profiles>'


# Shared reference material: beside the repository (CI) or at /work/shared (development machines).
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = next((root for root in (REPO.parent / "shared", Path("/work/shared")) if root.exists()), REPO.parent / "shared")
CSV_FIXTURES = REPO / "tests" / "fixtures" / "oneroster_csv"
SAMPLES = SHARED / "samples" / "oneroster-csv" / "edfi_lms_toolkit"
SAMPLE_11 = SAMPLES / "OneRoster_1.1_Sample_Data"
needs_samples = pytest.mark.skipif(not SAMPLE_11.exists(), reason=f"OneRoster samples not found at {SAMPLES}")
