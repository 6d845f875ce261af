"""payments: competitions' payment plans, funded ideas' instalments, SEPA payment runs,
payments and refunds; schedules for the ideas funded before, from the default plan (80 % on
the agreement, 20 % on the accepted report), nothing marked paid

Revision ID: 0013_payments
Revises: 0010_queue
Create Date: 2026-11-28 10:00:00

"""
import sqlalchemy as sa
from alembic import op

import grantflow.core.types

revision = "0013_payments"
down_revision = "0010_queue"
branch_labels = None
depends_on = None

Money = grantflow.core.types.Money
When = grantflow.core.types.UTCDateTime


def upgrade():
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("instalments", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], name=op.f("fk_payment_plans_competition_id_competitions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_payment_plans_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plans")),
        sa.UniqueConstraint("competition_id", name=op.f("uq_payment_plans_competition_id")),
    )
    op.create_table(
        "payment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("total", Money(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", When(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], name=op.f("fk_payment_runs_competition_id_competitions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_payment_runs_created_by_id_users")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], name=op.f("fk_payment_runs_closed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_runs")),
    )
    op.create_index(op.f("ix_payment_runs_competition_id"), "payment_runs", ["competition_id"], unique=False)
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.String(length=20), nullable=False),
        sa.Column("planned", Money(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("paid", Money(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("paid >= 0 AND paid <= amount AND amount <= planned", name=op.f("ck_instalments_paid_within_amount")),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], name=op.f("fk_instalments_idea_id_ideas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["competition_id"], ["competitions.id"], name=op.f("fk_instalments_competition_id_competitions")),
        sa.ForeignKeyConstraint(["run_id"], ["payment_runs.id"], name=op.f("fk_instalments_run_id_payment_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("idea_id", "position", name=op.f("uq_instalments_idea_id")),
    )
    op.create_index(op.f("ix_instalments_idea_id"), "instalments", ["idea_id"], unique=False)
    op.create_index(op.f("ix_instalments_competition_id"), "instalments", ["competition_id"], unique=False)
    op.create_index(op.f("ix_instalments_run_id"), "instalments", ["run_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instalment_id"], ["instalments.id"], name=op.f("fk_payments_instalment_id_instalments"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], name=op.f("fk_payments_idea_id_ideas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["payment_runs.id"], name=op.f("fk_payments_run_id_payment_runs")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_payments_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_instalment_id"), "payments", ["instalment_id"], unique=False)
    op.create_index(op.f("ix_payments_idea_id"), "payments", ["idea_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("returned", Money(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.CheckConstraint("returned >= 0 AND returned <= amount", name=op.f("ck_refunds_returned_within_amount")),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], name=op.f("fk_refunds_idea_id_ideas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_refunds_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("idea_id", name=op.f("uq_refunds_idea_id")),
    )
    _schedules_for_funded_ideas()


def _schedules_for_funded_ideas():
    """The default plan for every idea funded before: 80 % rounded down to the cent on the
    agreement, the rest on the report (as payments.schedule.split does)."""
    decisions = sa.table("decisions", sa.column("idea_id", sa.Integer), sa.column("competition_id", sa.Integer),
                         sa.column("kind", sa.String), sa.column("amount", sa.BigInteger))  # fmt: skip
    instalments = sa.table("instalments", sa.column("idea_id", sa.Integer), sa.column("competition_id", sa.Integer),
                           sa.column("position", sa.Integer), sa.column("due_on", sa.String), sa.column("planned", sa.BigInteger),
                           sa.column("amount", sa.BigInteger), sa.column("paid", sa.BigInteger))  # fmt: skip
    bind = op.get_bind()
    rows = []
    for idea_id, competition_id, cents in bind.execute(
            sa.select(decisions.c.idea_id, decisions.c.competition_id, decisions.c.amount).where(decisions.c.kind == "fund")):
        first = cents * 80 // 100
        rows += [dict(idea_id=idea_id, competition_id=competition_id, position=1, due_on="agreement", planned=first, amount=first, paid=0),
                 dict(idea_id=idea_id, competition_id=competition_id, position=2, due_on="report", planned=cents - first,
                      amount=cents - first, paid=0)]  # fmt: skip
    if rows:
        op.bulk_insert(instalments, rows)


def downgrade():
    op.drop_table("refunds")
    op.drop_index(op.f("ix_payments_idea_id"), table_name="payments")
    op.drop_index(op.f("ix_payments_instalment_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_instalments_run_id"), table_name="instalments")
    op.drop_index(op.f("ix_instalments_competition_id"), table_name="instalments")
    op.drop_index(op.f("ix_instalments_idea_id"), table_name="instalments")
    op.drop_table("instalments")
    op.drop_index(op.f("ix_payment_runs_competition_id"), table_name="payment_runs")
    op.drop_table("payment_runs")
    op.drop_table("payment_plans")
