"""signatures: the parties' verified PAdES signatures on issued documents (and the signed copies)

Revision ID: 0021_signatures
Revises: 0018_public
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0021_signatures"
down_revision = "0018_public"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "document_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=20), nullable=False),
        sa.Column("signer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "party"),
    )
    with op.batch_alter_table("document_signatures") as batch_op:
        batch_op.create_index(batch_op.f("ix_document_signatures_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_signatures_sha256"), ["sha256"], unique=False)


def downgrade():
    with op.batch_alter_table("document_signatures") as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_signatures_sha256"))
        batch_op.drop_index(batch_op.f("ix_document_signatures_document_id"))
    op.drop_table("document_signatures")
