"""The disclosure log's student index becomes one row per (student, day, app) instead of one per entry and student.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_student_days",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("student_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
    )
    op.create_index("ix_disclosure_student_days_app", "disclosure_student_days",
                    ["tenant", "client_id", "day", "student_id"])
    op.execute("INSERT INTO disclosure_student_days (tenant, student_id, day, client_id) "
               "SELECT DISTINCT s.tenant, s.student_id, substr(d.occurred_at, 1, 10), d.client_id "
               "FROM disclosure_students s JOIN disclosures d ON d.seq = s.seq")
    op.drop_table("disclosure_students")


def downgrade() -> None:
    op.create_table(
        "disclosure_students",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("student_id", sa.String(255), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
    )
    op.create_index("ix_disclosure_students_student", "disclosure_students", ["tenant", "student_id", "seq"])
    bind = op.get_bind()
    index = sa.table("disclosure_students", sa.column("seq"), sa.column("student_id"), sa.column("tenant"))
    rows = bind.execute(sa.text("SELECT seq, tenant, student_ids FROM disclosures"))
    import json

    op.bulk_insert(index, [{"seq": seq, "tenant": tenant, "student_id": sid}
                           for seq, tenant, ids in rows for sid in json.loads(ids)])
    op.drop_table("disclosure_student_days")
