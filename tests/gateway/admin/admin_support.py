"""Admin test support: an admin client, a second district's data and an app-token helper (imported by name)."""

from factories import org
from factories import user
from helpers import basic

from gateway.admin import service

PREFIX = "/admin/v1"
D2 = {"org": [org("d2-dist", "Shelbyville District", "district"), org("d2-sch", "Shelbyville High", parent="d2-dist")],
      "user": [user("z1", "Zed", "Zimmer", "student", ["d2-sch"], grades=["09"])]}


class Admin:
    """An admin of one district, calling /admin/v1 with its bearer token."""

    def __init__(self, app, client, tenant, name="admin"):
        with app.extensions["trellis.engine"].begin() as conn:
            self.admin_id, self.secret = service.create_admin(conn, tenant, name, "cli:test")
        self.client, self.tenant = client, tenant
        response = client.post(PREFIX + "/token", data={"grant_type": "client_credentials"},
                               headers=basic(self.admin_id, self.secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        self.token = response.get_json()["access_token"]
        self.headers = {"Authorization": "Bearer " + self.token}

    def call(self, method, path, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(PREFIX + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.call("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.call("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def create_app(self, **body):
        body = {"name": "Reading app", "scopes": ["roster-core.readonly", "roster.readonly"], **body}
        response = self.post("/apps", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def changes(self):
        return self.get("/changes?limit=1000").get_json()["changes"]


def app_token(client, client_id, secret):
    """POST /oauth/token for an app; returns the response."""
    return client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
