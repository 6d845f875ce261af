"""the task queue: outbox.claimed_at (a mail left "sending" past its lease by a dead worker is
taken back and sent), and document_batches (a competition's due documents issued by the worker,
with their progress)

Revision ID: 0010_queue
Revises: 0011_people
Create Date: 2026-11-27 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0010_queue"
down_revision = "0011_people"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "document_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("document_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_batches_competition_id"), ["competition_id"], unique=False)


def downgrade():
    with op.batch_alter_table("document_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_batches_competition_id"))
    op.drop_table("document_batches")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
