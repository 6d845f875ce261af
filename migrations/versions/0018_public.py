"""ideas: the applicant's consent to publish the idea's summary and reported results on the
public pages (no for every idea filed before the question was asked)

Revision ID: 0018_public
Revises: 0014_api_tokens
Create Date: 2026-11-24 16:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0018_public"
down_revision = "0014_api_tokens"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publish_consent", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_column("publish_consent")
