"""users: a session token, part of every session and remember cookie, renewed at logout,
password change and deactivation so the sessions issued before end on the server

Revision ID: 0008_session_token
Revises: 0007_outbox_attachment_job
Create Date: 2026-11-25 10:00:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008_session_token"
down_revision = "0007_outbox_attachment_job"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=32), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_hex(16)))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
