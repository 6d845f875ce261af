"""ideas.score: what the ranking orders by (the mean weighted total of the submitted reviews
of active assignments, rounded to hundredths), kept on the idea by the review area, and the
index the ranking and the funding board read it along; filled for the ideas already there.
competitions.scores_version: moved on with every change of a score (the ranking caches its
evaluator scaling by it)

Revision ID: 0009_idea_score
Revises: 0008_session_token
Create Date: 2026-11-26 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0009_idea_score"
down_revision = "0008_session_token"
branch_labels = None
depends_on = None

ideas = sa.table("ideas", sa.column("id", sa.Integer), sa.column("score", sa.Numeric(5, 2)))
assignments = sa.table("assignments", sa.column("id", sa.Integer), sa.column("active", sa.Boolean))
reviews = sa.table(
    "reviews", sa.column("assignment_id", sa.Integer), sa.column("idea_id", sa.Integer),
    sa.column("status", sa.String), sa.column("total", sa.Numeric(8, 2)),
)  # fmt: skip


def upgrade():
    op.add_column("ideas", sa.Column("score", sa.Numeric(5, 2), nullable=True))
    op.add_column("competitions", sa.Column("scores_version", sa.Integer(), server_default="0", nullable=False))
    # The same expression as review.operations.refresh_score, run by the database itself.
    mean = (
        sa.select(sa.func.round(sa.cast(sa.func.avg(sa.cast(reviews.c.total, sa.Float)), sa.Numeric), 2))
        .select_from(reviews.join(assignments, assignments.c.id == reviews.c.assignment_id))
        .where(reviews.c.idea_id == ideas.c.id, reviews.c.status == "submitted", assignments.c.active.is_(sa.true()))
        .scalar_subquery()
    )
    op.execute(ideas.update().values(score=mean))
    nulls_last = "" if op.get_bind().dialect.name == "sqlite" else " NULLS LAST"  # SQLite: DESC puts nulls last
    op.execute(f"CREATE INDEX ix_ideas_ranking ON ideas (competition_id, score DESC{nulls_last}, reference, id)")


def downgrade():
    op.drop_index("ix_ideas_ranking", table_name="ideas")
    # ALTER TABLE … DROP COLUMN on both (SQLite since 3.35): no copy of the table, whose
    # re-creation would cascade deletes to the reviews and assignments on SQLite.
    op.drop_column("ideas", "score")
    op.drop_column("competitions", "scores_version")
