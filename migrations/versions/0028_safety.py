"""safety: form_drafts, what a person typed into a form without a draft of its own (an
answer, an amendment request, the profile, administrators' forms), kept by autosave

Revision ID: 0028_safety
Revises: 0016_exports
Create Date: 2026-11-24 18:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0028_safety"
down_revision = "0016_exports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_form_drafts_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_drafts")),
        sa.UniqueConstraint("user_id", "path", name=op.f("uq_form_drafts_user_id")),
    )
    with op.batch_alter_table("form_drafts") as batch_op:
        batch_op.create_index(batch_op.f("ix_form_drafts_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("form_drafts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_drafts_user_id"))
    op.drop_table("form_drafts")
