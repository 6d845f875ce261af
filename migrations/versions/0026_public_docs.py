"""public_docs: competitions' documents (rules, templates) for visitors to download, and the
PDF programme summaries built on the task queue

Revision ID: 0026_public_docs
Revises: 0016_exports
Create Date: 2026-11-24 18:30:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0026_public_docs"
down_revision = "0028_safety"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "competition_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title_lv", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("competition_documents") as batch_op:
        batch_op.create_index(batch_op.f("ix_competition_documents_competition_id"), ["competition_id"], unique=False)
    op.create_table(
        "impact_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("impact_summaries") as batch_op:
        batch_op.create_index(batch_op.f("ix_impact_summaries_competition_id"), ["competition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_impact_summaries_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_impact_summaries_requested_by_id"), ["requested_by_id"], unique=False)


def downgrade():
    with op.batch_alter_table("impact_summaries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_impact_summaries_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_impact_summaries_status"))
        batch_op.drop_index(batch_op.f("ix_impact_summaries_competition_id"))
    op.drop_table("impact_summaries")
    with op.batch_alter_table("competition_documents") as batch_op:
        batch_op.drop_index(batch_op.f("ix_competition_documents_competition_id"))
    op.drop_table("competition_documents")
