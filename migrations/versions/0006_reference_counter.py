"""competitions: a counter of reference numbers given, so a submission takes its number with one
atomic UPDATE instead of counting ideas under a lock held to the commit

Revision ID: 0006_reference_counter
Revises: 0005_review
Create Date: 2026-11-24 12:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0006_reference_counter"
down_revision = "0005_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("references_given", sa.Integer(), server_default="0", nullable=False))
    # Existing competitions go on from the numbers they have given (as many as ideas with one).
    op.execute(
        "UPDATE competitions SET references_given = "
        "(SELECT count(*) FROM ideas WHERE ideas.competition_id = competitions.id AND ideas.reference IS NOT NULL)"
    )


def downgrade():
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.drop_column("references_given")
