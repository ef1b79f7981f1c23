"""The schema: one generic record store for every resource type of every standard, plus auth tables.

A record is a JSON document with a few extracted, indexed columns (tenant, type, id, status, last-modified, change
version, and the references relationship queries need), in the spirit of Ed-Fi's Data Management Service. Many-valued
references (a user's orgs, a class's terms) go to ``record_links``. Which paths feed which column is declared in
:mod:`gateway.storage.indexing`, not here.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy import Column
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import text

metadata = MetaData()

districts = Table(
    "districts", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

records = Table(
    "records", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("type", String(48), primary_key=True),
    Column("sourced_id", String(255), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("date_last_modified", String(32), nullable=False),
    Column("change_version", BigInteger, nullable=False),
    Column("subtype", String(64)),
    Column("org_ref", String(255)),
    Column("class_ref", String(255)),
    Column("user_ref", String(255)),
    Column("parent_ref", String(255)),
    Column("doc_hash", String(32), nullable=False),
    Column("doc", Text, nullable=False),
    Index("ix_records_version", "tenant", "change_version"),
    # Partial indexes: most record types leave most reference columns empty, and every index costs on write.
    *(Index(f"ix_records_{name}", "tenant", "type", column, "sourced_id",
            sqlite_where=text(f"{column} IS NOT NULL"), postgresql_where=text(f"{column} IS NOT NULL"))
      for name, column in (("subtype", "subtype"), ("org", "org_ref"), ("class", "class_ref"), ("user", "user_ref"),
                           ("parent", "parent_ref"))),
)

# Keyed for "which records link to X" (the primary key); the second index serves per-record probes and deletes.
record_links = Table(
    "record_links", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("type", String(48), primary_key=True),
    Column("rel", String(48), primary_key=True),
    Column("target", String(255), primary_key=True),
    Column("sourced_id", String(255), primary_key=True),
    Index("ix_record_links_source", "tenant", "type", "sourced_id", "rel", "target"),
)

change_counter = Table(
    "change_counter", metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

apps = Table(
    "apps", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("profile_xml", Text),
    Column("profile_name", String(128)),
    Column("allowed_orgs", Text),  # space-separated org sourcedIds; NULL: the whole district
    # What the district records about the app (FERPA: the legitimate educational interest and the agreement).
    Column("vendor", Text),
    Column("purpose", Text),
    Column("dpa_reference", Text),
    Column("dpa_expires", String(10)),  # ISO date; the app is refused from the day after
    Column("contact", Text),
    Column("pairwise", Integer, nullable=False, server_default="0"),  # 1: user ids become per-app keyed hashes
    Column("pairwise_key", String(64)),  # random per-app key of those hashes (hex)
    Column("oauth1", Integer, nullable=False, server_default="0"),  # 1: may sign v1p1 requests with OAuth 1.0a
    Column("rate_limit", String(64)),  # e.g. "600/minute"; NULL: TRELLIS_RATELIMIT_DEFAULT
)

# An app's client secrets. Several are valid at once during a rotation's grace period (``expires_at``, epoch
# seconds); revoking one refuses it and every token it issued from the next request. ``secret_sealed`` holds the
# secret encrypted with TRELLIS_CREDENTIAL_KEY, only for OAuth 1.0a apps: HMAC signatures need the secret itself.
app_credentials = Table(
    "app_credentials", metadata,
    Column("credential_id", String(32), primary_key=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("secret_hash", Text, nullable=False),
    Column("secret_sealed", Text),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", BigInteger),  # NULL: until rotated or revoked
    Column("revoked", Integer, nullable=False, server_default="0"),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("tenant", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked", Integer, nullable=False, default=0),
    Column("credential_id", String(32)),  # the credential that obtained it (app tokens)
    Column("kind", String(8), nullable=False, server_default="app"),  # "app" or "admin"
)

# District administrators: each is bound to one district and can never see or change another.
admins = Table(
    "admins", metadata,
    Column("admin_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
)

# Every change an administrator makes (API or CLI): who, when, what, and the changed values (never secrets).
admin_changes = Table(
    "admin_changes", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("actor", Text, nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON object
    Index("ix_admin_changes_tenant", "tenant", "seq"),
)

# Parent / eligible-student access codes: stored as SHA-256 keys, bound to one student of one district.
access_codes = Table(
    "access_codes", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("code_id", String(32), nullable=False, unique=True),
    Column("tenant", String(64), nullable=False),
    Column("student_id", String(255), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked", Integer, nullable=False, server_default="0"),
    Index("ix_access_codes_student", "tenant", "student_id"),
)

# OAuth 1.0a replay protection: a (client, timestamp, nonce) is accepted once; rows older than the window are purged.
oauth1_nonces = Table(
    "oauth1_nonces", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("nonce", String(128), primary_key=True),
)

# Pairwise ids an app has been sent, so that the ids it sends back (paths, filters) resolve to the real records.
pairwise_ids = Table(
    "pairwise_ids", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("client_id", String(64), primary_key=True),
    Column("pairwise_id", String(64), primary_key=True),
    Column("sourced_id", String(255), nullable=False),
)

# The disclosure log (gateway.privacy.disclosures): append-only and hash-chained. ``seq`` is assigned from
# ``disclosure_head`` inside the append transaction, so it is gap-free; JSON arrays are stored as text.
disclosures = Table(
    "disclosures", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant", String(64), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("record_type", String(48), nullable=False),
    Column("record_ids", Text, nullable=False),
    Column("fields", Text, nullable=False),
    Column("student_ids", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_disclosures_app", "tenant", "client_id", "occurred_at"),
    Index("ix_disclosures_tenant", "tenant", "seq"),
)

# "Which apps received this student's data, and on which days" as an index lookup, written with each entry but only
# when the (student, day, app) is new: an app syncing the same roster all day adds no rows after its first sync, so
# an append dirties a handful of pages instead of one B-tree leaf per student. verify() checks it against the log.
disclosure_student_days = Table(
    "disclosure_student_days", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("student_id", String(255), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("client_id", String(64), primary_key=True),
    Index("ix_disclosure_student_days_app", "tenant", "client_id", "day", "student_id"),
)

# One row (id 1): the last seq and hash. Its row lock orders concurrent appenders; verify() compares it with the tail.
disclosure_head = Table(
    "disclosure_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Per-student choices: client_id "*" is the directory-information opt-out (hidden from every app), otherwise the
# opt-out applies to that app only. Rows are never deleted: opting back in sets active = 0 with a new change version,
# so the version only grows and cached page anchors notice the change on the next request.
student_optouts = Table(
    "student_optouts", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("student_id", String(255), primary_key=True),
    Column("client_id", String(64), primary_key=True),
    Column("active", Integer, nullable=False),
    Column("change_version", BigInteger, nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_student_optouts_version", "tenant", "change_version"),
)
