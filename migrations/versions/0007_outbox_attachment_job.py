"""outbox: an attachment made when the mail is sent (the receipt's PDF copy), so the
transaction that queues the mail never waits for a PDF

Revision ID: 0007_outbox_attachment_job
Revises: 0006_reference_counter
Create Date: 2026-11-24 13:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0007_outbox_attachment_job"
down_revision = "0006_reference_counter"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_job", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("attachment_job")
