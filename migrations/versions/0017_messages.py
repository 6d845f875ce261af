"""messages: questions, answers and notes on an idea, and the files sent with answers

Revision ID: 0017_messages
Revises: 0019_amendments
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0017_messages"
down_revision = "0019_amendments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("to_applicant", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("to_evaluators", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("open_fields", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["question_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("messages") as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_idea_id"), ["idea_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_question_id"), ["question_id"], unique=False)
    op.create_table(
        "message_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message_files") as batch_op:
        batch_op.create_index(batch_op.f("ix_message_files_message_id"), ["message_id"], unique=False)


def downgrade():
    with op.batch_alter_table("message_files") as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_files_message_id"))
    op.drop_table("message_files")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_question_id"))
        batch_op.drop_index(batch_op.f("ix_messages_idea_id"))
    op.drop_table("messages")
