"""Apps carry their field profile (Ed-Fi API Profile XML) and the name of the profile that applies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("profile_xml", sa.Text))
        batch.add_column(sa.Column("profile_name", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("profile_name")
        batch.drop_column("profile_xml")
