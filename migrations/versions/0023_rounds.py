"""rounds: review rounds. Criteria, assignments, reviews and the evaluation deadline belong to
a round of a competition (review_rounds); every competition's existing ones move into a first
round, "evaluation" (the round the shipped workflows declare), with the competition's
evaluation deadline. One assignment per idea, evaluator and round.

Revision ID: 0023_rounds
Revises: 0016_exports
Create Date: 2026-11-24 18:30:00

"""
import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0023_rounds"
down_revision = "0022_forms"
branch_labels = None
depends_on = None

ROUND_OF_COMPETITION = "(SELECT review_rounds.id FROM review_rounds WHERE review_rounds.competition_id = {} AND review_rounds.position = 1)"


def upgrade():
    op.create_table(
        "review_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label_lv", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("evaluation_closes_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"],
                                name=op.f("fk_review_rounds_competition_id_competitions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rounds")),
        sa.UniqueConstraint("competition_id", "key", name="uq_review_rounds_key"),
        sa.UniqueConstraint("competition_id", "position", name="uq_review_rounds_position"),
    )
    with op.batch_alter_table("review_rounds") as batch_op:
        batch_op.create_index(batch_op.f("ix_review_rounds_competition_id"), ["competition_id"], unique=False)
    op.execute(
        "INSERT INTO review_rounds (competition_id, key, label_lv, label_en, position, evaluation_closes_at) "
        "SELECT id, 'evaluation', 'Vērtēšana', 'Evaluation', 1, evaluation_closes_at FROM competitions"
    )

    with op.batch_alter_table("criteria") as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
    op.execute(f"UPDATE criteria SET round_id = {ROUND_OF_COMPETITION.format('criteria.competition_id')}")
    with op.batch_alter_table("criteria") as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_criteria_competition_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_criteria_round_id"), ["round_id", "position"])
        batch_op.create_index(batch_op.f("ix_criteria_round_id"), ["round_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_criteria_round_id_review_rounds"), "review_rounds",
                                    ["round_id"], ["id"], ondelete="CASCADE")  # fmt: skip

    with op.batch_alter_table("assignments") as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
    competition_of_idea = "(SELECT ideas.competition_id FROM ideas WHERE ideas.id = assignments.idea_id)"
    op.execute(f"UPDATE assignments SET round_id = {ROUND_OF_COMPETITION.format(competition_of_idea)}")
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_assignments_idea_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_assignments_idea_id"), ["idea_id", "evaluator_id", "round_id"])
        batch_op.create_foreign_key(batch_op.f("fk_assignments_round_id_review_rounds"), "review_rounds",
                                    ["round_id"], ["id"], ondelete="CASCADE")  # fmt: skip

    with op.batch_alter_table("reviews") as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE reviews SET round_id = (SELECT assignments.round_id FROM assignments WHERE assignments.id = reviews.assignment_id)"
    )
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_reviews_round_id_review_rounds"), "review_rounds",
                                    ["round_id"], ["id"], ondelete="CASCADE")  # fmt: skip

    with op.batch_alter_table("competitions") as batch_op:
        batch_op.drop_column("evaluation_closes_at")


def downgrade():
    connection = op.get_bind()
    several = connection.execute(sa.text("SELECT count(*) FROM review_rounds WHERE position > 1")).scalar()
    if several:
        raise RuntimeError(
            "Cannot downgrade below 0023_rounds: some competitions have more than one review round, "
            "whose criteria, assignments and reviews the older schema cannot hold."
        )
    with op.batch_alter_table("competitions") as batch_op:
        batch_op.add_column(sa.Column("evaluation_closes_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE competitions SET evaluation_closes_at = (SELECT review_rounds.evaluation_closes_at FROM review_rounds "
        "WHERE review_rounds.competition_id = competitions.id AND review_rounds.position = 1)"
    )
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reviews_round_id_review_rounds"), type_="foreignkey")
        batch_op.drop_column("round_id")
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assignments_round_id_review_rounds"), type_="foreignkey")
        batch_op.drop_constraint("uq_assignments_idea_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_assignments_idea_id"), ["idea_id", "evaluator_id"])
        batch_op.drop_column("round_id")
    with op.batch_alter_table("criteria") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_criteria_round_id_review_rounds"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_criteria_round_id"))
        batch_op.drop_constraint("uq_criteria_round_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_criteria_competition_id"), ["competition_id", "position"])
        batch_op.drop_column("round_id")
    with op.batch_alter_table("review_rounds") as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_rounds_competition_id"))
    op.drop_table("review_rounds")
