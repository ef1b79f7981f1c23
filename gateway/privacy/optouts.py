"""Students' choices: a directory-information opt-out (hidden from every app) or an opt-out from one app.

Each change takes a change version from the store's counter, so every gateway process serves the change on its very
next request (cached page totals are keyed on the newest version).
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy import select

from gateway.privacy.scoping import DIRECTORY
from gateway.storage.records import allocate_versions
from gateway.storage.records import utc_now
from gateway.storage.tables import apps
from gateway.storage.tables import records
from gateway.storage.tables import student_optouts


class OptOutError(ValueError):
    """The student or app named does not exist in the district."""


def set_optout(conn: Connection, tenant: str, student_id: str, client_id: str | None, active: bool) -> None:
    """Opt a student out of one app (``client_id``) or of directory disclosure (``client_id=None``), or back in."""
    target = client_id or DIRECTORY
    if conn.execute(select(records.c.sourced_id).where(records.c.tenant == tenant, records.c.type == "user",
                                                       records.c.sourced_id == student_id)).first() is None:
        raise OptOutError(f"no user {student_id!r} in district {tenant!r}")
    if client_id and conn.execute(select(apps.c.client_id).where(apps.c.tenant == tenant,
                                                                  apps.c.client_id == client_id)).first() is None:
        raise OptOutError(f"no app {client_id!r} in district {tenant!r}")
    version = allocate_versions(conn, 1)
    key = {"tenant": tenant, "student_id": student_id, "client_id": target}
    values = {"active": int(active), "change_version": version, "updated_at": utc_now()}
    updated = conn.execute(student_optouts.update().where(
        *(student_optouts.c[name] == value for name, value in key.items())).values(**values))
    if updated.rowcount == 0:
        conn.execute(student_optouts.insert().values(**key, **values))
