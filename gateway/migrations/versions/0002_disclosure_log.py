"""Disclosure log: the hash-chained ``disclosures`` table, its per-student index table and the chain head.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "disclosures",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("record_type", sa.String(48), nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("student_ids", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_disclosures_app", "disclosures", ["tenant", "client_id", "occurred_at"])
    op.create_index("ix_disclosures_tenant", "disclosures", ["tenant", "seq"])
    op.create_table(
        "disclosure_students",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("student_id", sa.String(255), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
    )
    op.create_index("ix_disclosure_students_student", "disclosure_students", ["tenant", "student_id", "seq"])
    head = op.create_table(
        "disclosure_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    for table in ("disclosure_head", "disclosure_students", "disclosures"):
        op.drop_table(table)
