"""outbox: mails written when they are sent (compose_job, in the recipient's locale), so a
submission queues its receipt with one INSERT … SELECT of the applicants' addresses and
renders no mail in its transaction. Existing mails are written already: nothing moves.

Revision ID: 0030_outbox_compose
Revises: 0029_stages
Create Date: 2026-11-25 06:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0030_outbox_compose"
down_revision = "0029_stages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compose_job", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(length=5), server_default="lv", nullable=False))


def downgrade():
    # A mail not written yet cannot be kept without its job: write what it is (its subject
    # says so, in Latvian, the programme's language) rather than lose the row silently.
    op.execute(
        "UPDATE outbox SET subject = 'Vēstule netika uzrakstīta (versija atgriezta)', "
        "status = 'failed' WHERE compose_job IS NOT NULL AND body_text = '' AND status <> 'sent'"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("locale")
        batch_op.drop_column("compose_job")
