"""people and roles, and the administration log:
user_municipalities: a municipality representative speaks for one or more municipalities
(users.municipality_id, one, is moved there and dropped);
conflicts_of_interest.person_id / recorded_by_id: standing conflicts with a person, and
conflicts an administrator recorded for an evaluator;
admin_log: every administrative change, who, when, before and after; append-only in the
database too (triggers, as audit_log)

Revision ID: 0011_people
Revises: 0012_parts
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from grantflow.core.types import UTCDateTime

revision = "0011_people"
down_revision = "0012_parts"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER admin_log_no_update BEFORE UPDATE ON admin_log
       BEGIN SELECT RAISE(ABORT, 'the administration log is append-only'); END""",
    """CREATE TRIGGER admin_log_no_delete BEFORE DELETE ON admin_log
       BEGIN SELECT RAISE(ABORT, 'the administration log is append-only'); END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION admin_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the administration log is append-only'; END $$""",
    """CREATE TRIGGER admin_log_append_only BEFORE UPDATE OR DELETE ON admin_log
       FOR EACH ROW EXECUTE FUNCTION admin_log_append_only()""",
]


def upgrade():
    op.create_table(
        "user_municipalities",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipalities.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "municipality_id"),
    )
    with op.batch_alter_table("user_municipalities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_municipalities_municipality_id"), ["municipality_id"], unique=False)
    op.execute(
        "INSERT INTO user_municipalities (user_id, municipality_id) "
        "SELECT id, municipality_id FROM users WHERE municipality_id IS NOT NULL"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("municipality_id")

    with op.batch_alter_table("conflicts_of_interest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_conflicts_of_interest_person_id"), ["person_id"], unique=False)
        batch_op.create_foreign_key("fk_conflicts_of_interest_person_id_users", "users", ["person_id"], ["id"])
        batch_op.create_foreign_key("fk_conflicts_of_interest_recorded_by_id_users", "users", ["recorded_by_id"], ["id"])

    op.create_table(
        "admin_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("object_kind", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("object_label", sa.String(length=300), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admin_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_log_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_log_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_admin_log_object", ["object_kind", "object_id"], unique=False)
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS admin_log_append_only ON admin_log")
        op.execute("DROP FUNCTION IF EXISTS admin_log_append_only()")
    op.drop_table("admin_log")  # its SQLite triggers go with it

    with op.batch_alter_table("conflicts_of_interest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_conflicts_of_interest_recorded_by_id_users", type_="foreignkey")
        batch_op.drop_constraint("fk_conflicts_of_interest_person_id_users", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_conflicts_of_interest_person_id"))
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("person_id")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("municipality_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_users_municipality_id_municipalities", "municipalities", ["municipality_id"], ["id"])
    # One municipality each, as before: the first (by name) of a representative's several.
    op.execute(
        "UPDATE users SET municipality_id = (SELECT um.municipality_id FROM user_municipalities um "
        "JOIN municipalities m ON m.id = um.municipality_id WHERE um.user_id = users.id ORDER BY m.name LIMIT 1)"
    )
    with op.batch_alter_table("user_municipalities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_municipalities_municipality_id"))
    op.drop_table("user_municipalities")
