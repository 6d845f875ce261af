"""audit_log.internal: whether a transition's comment is for staff only (the workflow file's
`comment_to: internal`); applicant pages, mails, documents and exports leave such comments out.
Every comment written before was shown to the applicant, so existing rows are not internal.

Revision ID: 0012_parts
Revises: 0009_idea_score
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0012_parts"
down_revision = "0009_idea_score"
branch_labels = None
depends_on = None


def upgrade():
    # ADD COLUMN with a constant default: no copy of the append-only table on either database
    # (its triggers stay), and every existing row reads false.
    op.add_column("audit_log", sa.Column("internal", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # ALTER TABLE … DROP COLUMN on both (SQLite since 3.35): no copy of the table.
    op.drop_column("audit_log", "internal")
