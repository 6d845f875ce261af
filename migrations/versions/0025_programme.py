"""programme: erasure reaches the administration log. admin_log.redactions counts the times a
row's personal values (an erased person's e-mail addresses and names) were pseudonymised; the
append-only triggers now let exactly that UPDATE through (redactions up by one, who, when, the
kind of change and the record unchanged) and nothing else; deleting stays impossible. Rows of
people erased before this revision are pseudonymised here, by the same rule the app uses.

Revision ID: 0025_programme
Revises: 0016_exports
Create Date: 2026-11-24 18:40:00

"""

import sqlalchemy as sa
from alembic import op

from grantflow.adminlog.operations import redact

revision = "0025_programme"
down_revision = "0026_public_docs"
branch_labels = None
depends_on = None

# An UPDATE that is a pseudonymisation: the row's trail as it was, `redactions` one more.
KEPT = ("NEW.id = OLD.id AND NEW.kind = OLD.kind AND NEW.object_kind = OLD.object_kind"
        " AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id"
        " AND NEW.source = OLD.source AND NEW.created_at = OLD.created_at AND NEW.redactions = OLD.redactions + 1")
SQLITE_KEPT = KEPT.replace("IS NOT DISTINCT FROM", "IS")

SQLITE_UP = [
    "DROP TRIGGER IF EXISTS admin_log_no_update",
    f"""CREATE TRIGGER admin_log_no_update BEFORE UPDATE ON admin_log WHEN NOT ({SQLITE_KEPT})
       BEGIN SELECT RAISE(ABORT, 'the administration log is append-only'); END""",
]
POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION admin_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND {KEPT} THEN RETURN NEW; END IF;
         RAISE EXCEPTION 'the administration log is append-only';
       END $$""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS admin_log_no_update",
    """CREATE TRIGGER admin_log_no_update BEFORE UPDATE ON admin_log
       BEGIN SELECT RAISE(ABORT, 'the administration log is append-only'); END""",
]
POSTGRES_DOWN = [
    """CREATE OR REPLACE FUNCTION admin_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the administration log is append-only'; END $$""",
]

log = sa.table(
    "admin_log", sa.column("id", sa.Integer), sa.column("object_kind", sa.String), sa.column("object_id", sa.Integer),
    sa.column("object_label", sa.String), sa.column("before", sa.JSON), sa.column("after", sa.JSON),
    sa.column("redactions", sa.Integer),
)  # fmt: skip
users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("erased_at"))


def _pseudonymise_erased(bind) -> None:
    """The rows of accounts erased before this revision: what identified the person (the e-mail
    addresses and names their account's rows held) becomes their pseudonym in every row."""
    rows = bind.execute(sa.select(log).order_by(log.c.id)).all()
    erased = dict(bind.execute(sa.select(users.c.id, users.c.name).where(users.c.erased_at.is_not(None))).all())
    for user_id, pseudonym in erased.items():
        emails, names = set(), set()
        for row in rows:
            if row.object_kind == "account" and row.object_id == user_id:
                if "@" in (row.object_label or ""):
                    emails.add(row.object_label)
                for side in (row.before or {}, row.after or {}):
                    for key, found in (("email", emails), ("name", names)):
                        if isinstance(side.get(key), str) and side[key].strip():
                            found.add(side[key])
        emails.discard(pseudonym)
        names.discard(pseudonym)
        if not emails and not names:
            continue
        for i, row in enumerate(rows):
            text = repr([row.object_label, row.before, row.after])
            linked = (row.object_kind == "account" and row.object_id == user_id) or any(e in text for e in emails)
            new = dict(zip(("object_label", "before", "after"),
                           redact(row.object_label, row.before, row.after, emails, names, pseudonym, linked), strict=True))
            values = {k: v for k, v in new.items() if v != getattr(row, k)}
            if values:
                bind.execute(sa.update(log).where(log.c.id == row.id).values(**values, redactions=log.c.redactions + 1))
                rows[i] = bind.execute(sa.select(log).where(log.c.id == row.id)).one()


def upgrade():
    op.add_column("admin_log", sa.Column("redactions", sa.Integer(), server_default="0", nullable=False))
    bind = op.get_bind()
    for statement in SQLITE_UP if bind.dialect.name == "sqlite" else POSTGRES_UP:
        op.execute(statement)
    _pseudonymise_erased(bind)


def downgrade():
    # Pseudonymised values stay pseudonymised: what was erased does not come back.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS admin_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS admin_log_no_delete")
    with op.batch_alter_table("admin_log", schema=None) as batch_op:
        batch_op.drop_column("redactions")
    if sqlite:
        op.execute("""CREATE TRIGGER admin_log_no_delete BEFORE DELETE ON admin_log
                      BEGIN SELECT RAISE(ABORT, 'the administration log is append-only'); END""")
    for statement in SQLITE_DOWN if sqlite else POSTGRES_DOWN:
        op.execute(statement)
