"""exports: administrators' exports built on the task queue (the file stored in the row), and
users.erased_at for erased (pseudonymised) people

Revision ID: 0016_exports
Revises: 0017_messages
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0016_exports"
down_revision = "0017_messages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exports") as batch_op:
        batch_op.create_index(batch_op.f("ix_exports_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_exports_requested_by_id"), ["requested_by_id"], unique=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("exports") as batch_op:
        batch_op.drop_index(batch_op.f("ix_exports_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_exports_status"))
    op.drop_table("exports")
