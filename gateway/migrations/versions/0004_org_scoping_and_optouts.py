"""Apps may be limited to some orgs; students may opt out (directory-wide or per app).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("allowed_orgs", sa.Text))
    op.create_table(
        "student_optouts",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("student_id", sa.String(255), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("active", sa.Integer, nullable=False),
        sa.Column("change_version", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_student_optouts_version", "student_optouts", ["tenant", "change_version"])


def downgrade() -> None:
    op.drop_table("student_optouts")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("allowed_orgs")
