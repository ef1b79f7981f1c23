"""App metadata and credentials, district admins and their change log, access codes, OAuth 1 nonces, pairwise ids.

Existing app secrets move to ``app_credentials`` (one credential each, no expiry).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_credentials",
        sa.Column("credential_id", sa.String(32), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False, index=True),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("secret_sealed", sa.Text),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("revoked", sa.Integer, nullable=False, server_default="0"),
    )
    op.execute("INSERT INTO app_credentials (credential_id, client_id, secret_hash, created_at, revoked) "
               "SELECT client_id, client_id, secret_hash, created_at, 0 FROM apps")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("secret_hash")
        for name, kind in (("vendor", sa.Text), ("purpose", sa.Text), ("dpa_reference", sa.Text),
                           ("dpa_expires", sa.String(10)), ("contact", sa.Text)):
            batch.add_column(sa.Column(name, kind))
        batch.add_column(sa.Column("pairwise", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("pairwise_key", sa.String(64)))
        batch.add_column(sa.Column("oauth1", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("rate_limit", sa.String(64)))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("credential_id", sa.String(32)))
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="app"))
    op.create_table(
        "admins",
        sa.Column("admin_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "admin_changes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_admin_changes_tenant", "admin_changes", ["tenant", "seq"])
    op.create_table(
        "access_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("code_id", sa.String(32), nullable=False, unique=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("student_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("revoked", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_access_codes_student", "access_codes", ["tenant", "student_id"])
    op.create_table(
        "oauth1_nonces",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("timestamp", sa.BigInteger, primary_key=True),
        sa.Column("nonce", sa.String(128), primary_key=True),
    )
    op.create_table(
        "pairwise_ids",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("pairwise_id", sa.String(64), primary_key=True),
        sa.Column("sourced_id", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    for table in ("pairwise_ids", "oauth1_nonces", "access_codes", "admin_changes", "admins"):
        op.drop_table(table)
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("kind")
        batch.drop_column("credential_id")
    with op.batch_alter_table("apps") as batch:
        for name in ("rate_limit", "oauth1", "pairwise_key", "pairwise", "contact", "dpa_expires", "dpa_reference",
                     "purpose", "vendor"):
            batch.drop_column(name)
        batch.add_column(sa.Column("secret_hash", sa.Text, nullable=False, server_default=""))
    op.execute("UPDATE apps SET secret_hash = (SELECT secret_hash FROM app_credentials c "
               "WHERE c.client_id = apps.client_id ORDER BY created_at DESC LIMIT 1)")
    op.drop_table("app_credentials")
