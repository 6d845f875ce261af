"""amendments: amendments to agreements; who signs for an organisation

Revision ID: 0019_amendments
Revises: 0015_reminders
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import Money, UTCDateTime

revision = "0019_amendments"
down_revision = "0015_reminders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.add_column(sa.Column("signatory_name", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("signatory_position", sa.String(length=200), server_default="", nullable=False))
    op.create_table(
        "amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("dates", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idea_id", "number"),
    )
    with op.batch_alter_table("amendments") as batch_op:
        batch_op.create_index(batch_op.f("ix_amendments_idea_id"), ["idea_id"], unique=False)


def downgrade():
    with op.batch_alter_table("amendments") as batch_op:
        batch_op.drop_index(batch_op.f("ix_amendments_idea_id"))
    op.drop_table("amendments")
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_column("signatory_position")
        batch_op.drop_column("signatory_name")
