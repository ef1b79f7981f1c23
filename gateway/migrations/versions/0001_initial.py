"""Initial schema: districts, the generic record store, links, change counter, apps and tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "records",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(48), primary_key=True),
        sa.Column("sourced_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("date_last_modified", sa.String(32), nullable=False),
        sa.Column("change_version", sa.BigInteger, nullable=False),
        sa.Column("subtype", sa.String(64)),
        sa.Column("org_ref", sa.String(255)),
        sa.Column("class_ref", sa.String(255)),
        sa.Column("user_ref", sa.String(255)),
        sa.Column("parent_ref", sa.String(255)),
        sa.Column("doc_hash", sa.String(32), nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_records_version", "records", ["tenant", "change_version"])
    for name, column in (("subtype", "subtype"), ("org", "org_ref"), ("class", "class_ref"), ("user", "user_ref"),
                         ("parent", "parent_ref")):
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_records_{name}", "records", ["tenant", "type", column, "sourced_id"],
                        sqlite_where=condition, postgresql_where=condition)
    op.create_table(
        "record_links",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(48), primary_key=True),
        sa.Column("rel", sa.String(48), primary_key=True),
        sa.Column("target", sa.String(255), primary_key=True),
        sa.Column("sourced_id", sa.String(255), primary_key=True),
    )
    op.create_index("ix_record_links_source", "record_links", ["tenant", "type", "sourced_id", "rel", "target"])
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    op.create_table(
        "apps",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_apps_tenant", "apps", ["tenant"])
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("revoked", sa.Integer, nullable=False),
    )
    op.create_index("ix_tokens_client_id", "tokens", ["client_id"])


def downgrade() -> None:
    for table in ("tokens", "apps", "change_counter", "record_links", "records", "districts"):
        op.drop_table(table)
