"""reminders: per-competition reminder schedules, the record of reminders sent (once per
person and occasion), and the optional reminders a person turned off

Revision ID: 0015_reminders
Revises: 0021_signatures
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0015_reminders"
down_revision = "0021_signatures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_settings",
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("draft_days", sa.String(length=60), nullable=False),
        sa.Column("evaluation_days", sa.String(length=60), nullable=False),
        sa.Column("report_due_days", sa.Integer(), nullable=False),
        sa.Column("report_overdue_every", sa.Integer(), nullable=False),
        sa.Column("report_overdue_max", sa.Integer(), nullable=False),
        sa.Column("confirmation_wait_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("competition_id"),
    )
    op.create_table(
        "sent_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=20), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "user_id", "object_id", "occasion", name="uq_sent_reminders_once"),
    )
    with op.batch_alter_table("sent_reminders") as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_reminders_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("reminders_off", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("reminders_off")
    with op.batch_alter_table("sent_reminders") as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_reminders_user_id"))
    op.drop_table("sent_reminders")
    op.drop_table("reminder_settings")
