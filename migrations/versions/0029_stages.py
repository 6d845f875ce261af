"""stages: application stages. A competition keeps a submission window per stage its workflow
declares (competition_stages), and every stage's submission is kept as a frozen revision of
the idea (idea_revisions: its answers and form version). Existing competitions and ideas are
on single-stage workflows and need no rows: nothing moves.

Revision ID: 0029_stages
Revises: 0023_rounds
Create Date: 2026-11-24 19:30:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0029_stages"
down_revision = "0023_rounds"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "competition_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label_lv", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("opens_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"],
                                name=op.f("fk_competition_stages_competition_id_competitions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_stages")),
        sa.UniqueConstraint("competition_id", "key", name="uq_competition_stages_key"),
    )
    with op.batch_alter_table("competition_stages") as batch_op:
        batch_op.create_index(batch_op.f("ix_competition_stages_competition_id"), ["competition_id"], unique=False)

    op.create_table(
        "idea_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], name=op.f("fk_idea_revisions_idea_id_ideas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["form_version_id"], ["form_versions.id"],
                                name=op.f("fk_idea_revisions_form_version_id_form_versions")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"], name=op.f("fk_idea_revisions_submitted_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_revisions")),
    )
    with op.batch_alter_table("idea_revisions") as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_revisions_idea_id"), ["idea_id"], unique=False)


def downgrade():
    with op.batch_alter_table("idea_revisions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_revisions_idea_id"))
    op.drop_table("idea_revisions")
    with op.batch_alter_table("competition_stages") as batch_op:
        batch_op.drop_index(batch_op.f("ix_competition_stages_competition_id"))
    op.drop_table("competition_stages")
