"""apply: keep what an applicant typed that the server could not take as it was

Revision ID: 0003_apply
Revises: 0002_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_apply"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ideas") as batch_op:
        batch_op.add_column(sa.Column("draft_raw", sa.JSON(), nullable=True))
    with op.batch_alter_table("reports") as batch_op:
        batch_op.add_column(sa.Column("draft_raw", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_column("draft_raw")
    with op.batch_alter_table("ideas") as batch_op:
        batch_op.drop_column("draft_raw")
