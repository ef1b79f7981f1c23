"""Access codes for parents and eligible students: one code opens one student's privacy view, nothing else.

Why codes rather than accounts: FERPA gives parents (and students once eligible) the right to see who received the
student's records, but the gateway has no identity of parents. A district admin who has verified the requester
issues a code bound to one student of one district; it expires (1 to 365 days) and can be revoked at any time.

Why this shape: 25 Crockford base32 characters (125 random bits) in five groups of five are easy to read out and
type, and too many to guess. Input is normalised (case, spaces, hyphens, and the look-alikes I/L → 1, O → 0), so
a typing slip does not lock a parent out. The code is returned once; only its SHA-256 is stored, like access tokens
(:func:`gateway.auth.secrets.token_key`): a random code of this length needs no slow hash.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone

from sqlalchemy import Connection
from sqlalchemy import select

from gateway.auth.secrets import token_key
from gateway.storage.records import utc_now
from gateway.storage.tables import access_codes
from gateway.storage.tables import record_links
from gateway.storage.tables import records

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O or U
GROUPS, GROUP_SIZE = 5, 5
CODE_LENGTH = GROUPS * GROUP_SIZE  # 125 bits
MIN_DAYS, MAX_DAYS = 1, 365
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = str.maketrans("", "", " -_\t")
_VALID = frozenset(ALPHABET)


class AccessCodeError(ValueError):
    """A code cannot be issued or revoked as asked (unknown student or code, days out of range)."""


@dataclass(frozen=True)
class IssuedCode:
    code_id: str  # public: safe to show, log and pass to revoke_code
    code: str  # the secret: shown to the admin once, never stored or logged
    student_id: str
    expires_at: int  # epoch seconds


def normalise(code: str) -> str | None:
    """A typed code in canonical form (upper case, no separators, look-alikes fixed), or None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 4 * CODE_LENGTH:
        return None
    canonical = code.translate(_SEPARATORS).upper().translate(_LOOKALIKES)
    if len(canonical) != CODE_LENGTH or not set(canonical) <= _VALID:
        return None
    return canonical


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))


def _new_code_id() -> str:
    return "ac-" + base64.b32encode(secrets.token_bytes(10)).decode().lower()


def is_student(conn: Connection, tenant: str, student_id: str) -> bool:
    """Whether the district holds a current user record with role ``student`` under that id (users hold staff too)."""
    role = select(record_links.c.sourced_id).where(
        record_links.c.tenant == tenant, record_links.c.type == "user", record_links.c.rel == "role",
        record_links.c.target == "student", record_links.c.sourced_id == student_id)
    return conn.execute(select(records.c.sourced_id).where(
        records.c.tenant == tenant, records.c.type == "user", records.c.sourced_id == student_id,
        records.c.status == "active", records.c.sourced_id.in_(role))).first() is not None


def issue_code(conn: Connection, tenant: str, student_id: str, *, days: int = 30, created_by: str) -> IssuedCode:
    """Issue a code for one student; the returned ``code`` is the only copy."""
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise AccessCodeError(f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}")
    if not isinstance(created_by, str) or not created_by.strip():
        raise AccessCodeError("created_by must name who issues the code")
    if not isinstance(student_id, str) or not student_id or not is_student(conn, tenant, student_id):
        raise AccessCodeError(f"no student {student_id!r} in district {tenant!r}")
    code, code_id = _new_code(), _new_code_id()
    expires_at = int(time.time()) + days * 86400
    conn.execute(access_codes.insert().values(
        code_hash=token_key(normalise(code)), code_id=code_id, tenant=tenant, student_id=student_id,
        created_at=utc_now(), created_by=created_by.strip(), expires_at=expires_at, revoked=0))
    return IssuedCode(code_id, code, student_id, expires_at)


def revoke_code(conn: Connection, tenant: str, code_id: str) -> None:
    """Revoke a code of this district: refused from the next request. Revoking twice is harmless."""
    result = conn.execute(access_codes.update().where(
        access_codes.c.tenant == tenant, access_codes.c.code_id == code_id).values(revoked=1))
    if result.rowcount != 1:
        raise AccessCodeError(f"no access code {code_id!r} in district {tenant!r}")


def iso_instant(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_codes(conn: Connection, tenant: str, student_id: str | None = None) -> list[dict]:
    """A district's codes (optionally one student's), oldest first; never the codes or their hashes."""
    c = access_codes.c
    statement = select(c.code_id, c.student_id, c.created_at, c.created_by, c.expires_at, c.revoked).where(
        c.tenant == tenant)
    if student_id is not None:
        statement = statement.where(c.student_id == student_id)
    return [{"code_id": row.code_id, "student_id": row.student_id, "created_at": row.created_at,
             "created_by": row.created_by, "expires_at": iso_instant(row.expires_at), "revoked": bool(row.revoked)}
            for row in conn.execute(statement.order_by(c.created_at, c.code_id))]


def resolve(conn: Connection, code: str) -> tuple[str, str] | None:
    """(tenant, student_id) of a valid, unexpired, unrevoked code; None for anything else (never says which)."""
    canonical = normalise(code)
    if canonical is None:
        return None
    row = conn.execute(select(access_codes.c.tenant, access_codes.c.student_id).where(
        access_codes.c.code_hash == token_key(canonical), access_codes.c.revoked == 0,
        access_codes.c.expires_at > int(time.time()))).first()
    return (row.tenant, row.student_id) if row is not None else None
