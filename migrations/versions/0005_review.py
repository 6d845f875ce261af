"""review: one assignment row per evaluator and idea (assigning again reactivates it)

Revision ID: 0005_review
Revises: 0004_decide
Create Date: 2026-11-24 04:11:41.046589

"""
from alembic import op

revision = "0005_review"
down_revision = "0004_decide"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_assignments_idea_id"), ["idea_id", "evaluator_id"])


def downgrade():
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_assignments_idea_id"), type_="unique")
